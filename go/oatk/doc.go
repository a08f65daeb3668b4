// Package oatk wraps liboatk, the C ABI of the oatk OAuth toolkit: mint and
// validate JWTs, publish and consume JWKS, protect net/http handlers, and run
// the fake OAuth2 / OpenID Connect server in-process for tests.
//
// Every behaviour (validation rules, required-claims matching, the 401/403
// decision, messages) lives in the Rust core; this package converts Go values
// to and from liboatk's and adds the net/http glue.
//
// # Installing
//
// The package is cgo over liboatk, which it finds with pkg-config (the
// package name is oatk) and nothing else. Get the Go module, unpack the
// liboatk release tarball liboatk-<version>-x86_64-linux-gnu.tar.gz anywhere
// (<prefix> below is the folder holding include/oatk.h, lib/liboatk.so and
// lib/pkgconfig/oatk.pc) and point pkg-config at it:
//
//	go get github.com/oatk/oatk/go
//	export PKG_CONFIG_PATH=<prefix>/lib/pkgconfig
//
// liboatk.so is loaded at run time, so a program (or go test) also needs
// LD_LIBRARY_PATH=<prefix>/lib, or an rpath baked in at link time:
//
//	CGO_LDFLAGS="-Wl,-rpath,<prefix>/lib" go build
//
// `make install PREFIX=/usr/local` from the oatk repository installs the same
// files under a prefix where pkg-config and the loader look by default (run
// ldconfig after), so neither variable is needed.
//
// # Protecting net/http handlers
//
// Protect returns middleware that answers 401 (no token, or a bad or expired
// one, with a WWW-Authenticate challenge, RFC 6750 3), 403 (the claims do not
// match) or calls the handler with the verified claims in the request context:
//
//	tk := oatk.New()
//	defer tk.Close()
//	if err := tk.UsingProvider("https://idp.example"); err != nil { // the issuer's keys
//		log.Fatal(err)
//	}
//	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		claims, _ := oatk.ClaimsFrom(r.Context())
//		fmt.Fprintf(w, "hello %v", claims["username"])
//	})
//	mux := http.NewServeMux()
//	mux.Handle("/api/hello", tk.Protect(oatk.Claims{"username": "xtof"})(hello))
//
// Check makes the same decision for other frameworks. Package oatktest runs
// the fake OAuth server for a test, as net/http/httptest runs an HTTP server.
//
// # Resources and concurrency
//
// Resources are released explicitly: call Close on every Toolkit (there is
// no finalizer) and every Server (Close stops it; its small handle is left
// to the garbage collector, so calls after Close get core's ErrServer). A
// Toolkit is safe for concurrent use: minting, validation and Protect run in
// parallel; the With*/UsingProvider/SetClaims setters take an exclusive lock.
package oatk
