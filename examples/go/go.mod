module github.com/oatk/oatk/examples/go

go 1.25.0

require github.com/oatk/oatk/go v0.0.0-00010101000000-000000000000

// The wrapper from this checkout; outside it, drop the replace and require a release.
replace github.com/oatk/oatk/go => ../../go
