#!/usr/bin/env bash
# Usage: scripts/dist/test-go.sh PREFIX
#
# The Go wrapper against an unpacked liboatk release tarball, found the way its
# users find it: PKG_CONFIG_PATH=PREFIX/lib/pkgconfig to build, and
# LD_LIBRARY_PATH=PREFIX/lib to run, nothing else. It builds and tests
#   1. a scratch program outside this checkout (its own go.mod, requiring
#      github.com/oatk/oatk/go through a replace to go/) whose net/http handler
#      is protected by the oatk middleware, and
#   2. the middleware tests of the checkout's go/ module,
# then prints, as its last line on stdout, `oatk version <v>` where <v> is what
# the wrapper's oatk.Version() (C's oatk_version()) returns in a tiny main of
# the scratch module: scripts/dist/test.sh reads the Go version from it.
set -euo pipefail

fail() { echo "test-go.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || fail "usage: $0 PREFIX (where the liboatk release tarball was unpacked)"
prefix=$(cd "$1" && pwd) || fail "no such directory: $1"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
for f in include/oatk.h lib/liboatk.so lib/pkgconfig/oatk.pc; do
	[ -e "$prefix/$f" ] || fail "$prefix/$f is missing: is $prefix an unpacked liboatk release?"
done
command -v pkg-config >/dev/null || fail "pkg-config is not installed (apt-get install pkg-config)"
command -v go >/dev/null || fail "go is not installed"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Only the two variables a user sets, and no CGO_* flags or compiler search
# paths from the caller that could find liboatk some other way. A fresh build
# cache: Go keys a cgo package's cache entry on its CGO_* flags, not on
# pkg-config's output, so a cache warmed by the checkout's own build would link
# against the checkout's liboatk (and would not even run pkg-config).
run() {
	env -u CGO_CFLAGS -u CGO_CPPFLAGS -u CGO_LDFLAGS -u CPATH -u C_INCLUDE_PATH -u LIBRARY_PATH \
		-u PKG_CONFIG_LIBDIR -u GOFLAGS \
		CGO_ENABLED=1 GOCACHE="$work/gocache" \
		PKG_CONFIG_PATH="$prefix/lib/pkgconfig" LD_LIBRARY_PATH="$prefix/lib" "$@"
}

why=$(run pkg-config --print-errors --exists oatk 2>&1) ||
	fail "pkg-config cannot find oatk with PKG_CONFIG_PATH=$prefix/lib/pkgconfig: $why"
pcdir=$(run pkg-config --variable=pcfiledir oatk)
[ "$(cd "$pcdir" && pwd)" = "$prefix/lib/pkgconfig" ] ||
	fail "pkg-config found oatk in $pcdir, not in $prefix/lib/pkgconfig"
echo "pkg-config oatk $(run pkg-config --modversion oatk): $(run pkg-config --cflags --libs oatk)"

# 1. The scratch program, as a user would write it.
app="$work/app"
mkdir -p "$app"
cat > "$app/go.mod" <<MOD
module example.com/oatkdist

go 1.25.0

require github.com/oatk/oatk/go v0.0.0-00010101000000-000000000000

replace github.com/oatk/oatk/go => $repo/go
MOD
# The wrapper's own go.sum, so resolving its module graph needs no network.
cp "$repo/go/go.sum" "$app/go.sum"
cat > "$app/main.go" <<'GO'
// Command oatkdist serves one protected route, as a user of the release would.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/oatk/oatk/go/oatk"
)

// api answers any valid Bearer token with the username it carries.
func api(tk *oatk.Toolkit) http.Handler {
	return tk.Protect(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := oatk.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "hello %v", claims["username"])
	}))
}

// Usage: oatkdist JWKS (a file or the JSON text).
func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: oatkdist JWKS")
	}
	tk := oatk.New()
	defer tk.Close()
	if err := tk.WithJWKS(os.Args[1]); err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:8000", api(tk)))
}
GO
cat > "$app/main_test.go" <<'GO'
package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/oatk/oatk/go/oatk"
)

func TestProtectedHandler(t *testing.T) {
	t.Logf("liboatk %s", oatk.Version())
	priv, _, err := oatk.GenerateKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	tk := oatk.New()
	defer tk.Close()
	if err := tk.WithPrivatePEM(priv); err != nil {
		t.Fatal(err)
	}
	token, err := tk.Mint(oatk.Claims{"username": "xtof"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api(tk))
	defer srv.Close()

	get := func(authorization string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}
	if res, body := get("Bearer " + token); res.StatusCode != 200 || body != "hello xtof" {
		t.Fatalf("valid token: %d %q", res.StatusCode, body)
	}
	if res, body := get(""); res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") != "Bearer" {
		t.Fatalf("no token: %d %q, WWW-Authenticate %q", res.StatusCode, body, res.Header.Get("WWW-Authenticate"))
	}
}
GO
# A tiny main printing the wrapper's version, for scripts/dist/test.sh.
mkdir -p "$app/version"
cat > "$app/version/main.go" <<'GO'
// Command version prints the version of the liboatk the Go wrapper runs on.
package main

import (
	"fmt"

	"github.com/oatk/oatk/go/oatk"
)

func main() {
	fmt.Println("oatk version " + oatk.Version())
}
GO

(cd "$app" && run env GOFLAGS=-mod=mod go test -c -o "$work/app.test" .) ||
	fail "building a program against $prefix failed (cgo with pkg-config oatk: see above)"
# The loader resolves liboatk.so in PREFIX/lib, not a copy elsewhere.
lib=$(run ldd "$work/app.test" | awk '/liboatk/ { print $3 }')
[[ "$lib" == "$prefix/lib/"* ]] || fail "the program loads liboatk from '$lib', not $prefix/lib"
(cd "$app" && run env GOFLAGS=-mod=mod go test -count=1 -v .) ||
	fail "the scratch program's middleware test failed against $prefix"

# 2. The checkout's middleware tests (Protect, and its example), same prefix.
(cd "$repo/go" && run go test -count=1 -run 'Protect' -v ./oatk) ||
	fail "go test ./oatk -run Protect in $repo/go failed against $prefix"

# 3. The wrapper's version, built like the program above and loading the same
# liboatk; printed last, after the tests pass.
(cd "$app" && run env GOFLAGS=-mod=mod go build -o "$work/version" ./version) ||
	fail "building the version program against $prefix failed"
lib=$(run ldd "$work/version" | awk '/liboatk/ { print $3 }')
[[ "$lib" == "$prefix/lib/"* ]] || fail "the version program loads liboatk from '$lib', not $prefix/lib"
version=$(run "$work/version") || fail "the version program failed against $prefix"
[[ "$version" =~ ^oatk\ version\ [^[:space:]]+$ ]] ||
	fail "the version program printed '$version', not one line 'oatk version <v>'"

echo "test-go.sh: the Go wrapper builds and runs against $prefix with pkg-config alone"
echo "$version"
