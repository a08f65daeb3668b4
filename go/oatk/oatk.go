package oatk

// liboatk comes from pkg-config alone (see doc.go), so the package builds the
// same from this checkout, from the module cache or against a release tarball.

/*
#cgo pkg-config: oatk
#include "helpers.h"
*/
import "C"

import (
	"encoding/json"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Claims is a JWT claims set (or a JOSE header): a JSON object.
type Claims = map[string]any

// Toolkit holds keys, the claims Token mints, and validation settings: the Go
// face of liboatk's oatk_toolkit (Python's OAuthToolkit). Create it with New,
// release it with Close.
type Toolkit struct {
	mu  sync.RWMutex
	ptr *C.oatk_toolkit
}

// New returns an empty toolkit: no keys, no claims, default validation.
func New() *Toolkit {
	var msg *C.char
	ptr := C.go_oatk_new(&msg)
	if ptr == nil {
		// Only an internal failure of liboatk gets here.
		panic(errorFrom(C.OATK_ERR_PANIC, msg))
	}
	return &Toolkit{ptr: ptr}
}

// Close releases the toolkit. It waits for calls in flight; later calls fail
// with ErrInvalidArgument. Closing twice is a no-op.
func (t *Toolkit) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	C.oatk_toolkit_free(t.ptr)
	t.ptr = nil
	return nil
}

// cstring converts a Go string argument; a NUL byte cannot cross into C.
func cstring(name, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, invalidArgument(name + " contains a NUL byte")
	}
	return C.CString(s), nil
}

func free(p *C.char) { C.free(unsafe.Pointer(p)) }

// takeString copies a string liboatk returned and frees it.
func takeString(p *C.char) string {
	if p == nil {
		return ""
	}
	defer C.oatk_string_free(p)
	return C.GoString(p)
}

// jsonText is claims as the JSON object liboatk takes (nil is {}).
func jsonText(name string, claims Claims) (string, error) {
	if claims == nil {
		claims = Claims{}
	}
	text, err := json.Marshal(claims)
	if err != nil {
		return "", invalidArgument(name + ": " + err.Error())
	}
	return string(text), nil
}

// jsonArg is jsonText as a C string, for the caller to free.
func jsonArg(name string, claims Claims) (*C.char, error) {
	text, err := jsonText(name, claims)
	if err != nil {
		return nil, err
	}
	return cstring(name, text)
}

func parseClaims(text string) (Claims, error) {
	var claims Claims
	if err := json.Unmarshal([]byte(text), &claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// set calls one of liboatk's one-string setters (C.go_oatk_setter) with value.
func (t *Toolkit) set(f C.go_oatk_setter, name, value string) error {
	arg, err := cstring(name, value)
	if err != nil {
		return err
	}
	defer free(arg)
	t.mu.Lock()
	defer t.mu.Unlock()
	var msg *C.char
	return errorFrom(C.go_oatk_set(f, t.ptr, arg, &msg), msg)
}

// WithPrivate signs with the private key in this PEM file; its public half is
// published and trusted too.
func (t *Toolkit) WithPrivate(path string) error {
	return t.set(C.go_oatk_setter(C.oatk_with_private), "path", path)
}

// WithPrivatePEM is WithPrivate with the PEM text itself.
func (t *Toolkit) WithPrivatePEM(pem string) error {
	return t.set(C.go_oatk_setter(C.oatk_with_private_pem), "pem", pem)
}

// WithPublic trusts (and publishes with JWKS) the public key in this PEM file.
func (t *Toolkit) WithPublic(path string) error {
	return t.set(C.go_oatk_setter(C.oatk_with_public), "path", path)
}

// WithPublicPEM is WithPublic with the PEM text itself.
func (t *Toolkit) WithPublicPEM(pem string) error {
	return t.set(C.go_oatk_setter(C.oatk_with_public_pem), "pem", pem)
}

// WithJWKS publishes and trusts a JWKS: a file path, or the JSON text itself.
func (t *Toolkit) WithJWKS(pathOrJSON string) error {
	return t.set(C.go_oatk_setter(C.oatk_with_jwks), "path_or_json", pathOrJSON)
}

// WithClientID makes validation require this client in `aud`.
func (t *Toolkit) WithClientID(clientID string) error {
	return t.set(C.go_oatk_setter(C.oatk_with_client_id), "client_id", clientID)
}

// WithIssuer makes validation require exactly this `iss`.
func (t *Toolkit) WithIssuer(issuer string) error {
	return t.set(C.go_oatk_setter(C.oatk_with_issuer), "issuer", issuer)
}

// WithAlgorithm signs with this algorithm (e.g. "PS256") instead of the key's default.
func (t *Toolkit) WithAlgorithm(alg string) error {
	return t.set(C.go_oatk_setter(C.oatk_with_algorithm), "alg", alg)
}

// UsingProvider trusts the keys of an OpenID provider (its issuer URL, a
// .well-known URL or a JWKS URL). It fetches them now.
func (t *Toolkit) UsingProvider(url string) error {
	return t.set(C.go_oatk_setter(C.oatk_using_provider), "url", url)
}

// WithLeeway tolerates this much clock skew on exp and nbf (whole seconds). Default 0.
func (t *Toolkit) WithLeeway(leeway time.Duration) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var msg *C.char
	return errorFrom(C.go_oatk_with_leeway(t.ptr, C.uint64_t(leeway/time.Second), &msg), msg)
}

// WithNow validates as if it were now (so expiry tests never sleep); the zero
// Time returns to the system clock.
func (t *Toolkit) WithNow(now time.Time) error {
	seconds := int64(-1)
	if !now.IsZero() {
		seconds = now.Unix()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var msg *C.char
	return errorFrom(C.go_oatk_with_now(t.ptr, C.int64_t(seconds), &msg), msg)
}

// RequireExp refuses tokens without exp (ErrMissingClaim) when true. Default false.
func (t *Toolkit) RequireExp(require bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var msg *C.char
	return errorFrom(C.go_oatk_with_require_exp(t.ptr, C.bool(require), &msg), msg)
}

// WithCache remembers up to n verified tokens, so validating the same token
// again skips the signature check (exp, nbf, aud and iss are still checked
// every time; new keys invalidate it). 0 turns the cache off (the default).
func (t *Toolkit) WithCache(n int) error {
	if n < 0 {
		return invalidArgument("cache capacity must not be negative")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var msg *C.char
	return errorFrom(C.go_oatk_with_cache(t.ptr, C.size_t(n), &msg), msg)
}

// AcceptAnyAudience waives the audience check UsingProvider otherwise
// requires: tokens the provider issued to any of its clients are accepted.
// Without it or WithClientID, validating with a provider fails with
// ErrInvalidArgument saying what to configure.
func (t *Toolkit) AcceptAnyAudience() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var msg *C.char
	return errorFrom(C.go_oatk_accept_any_audience(t.ptr, &msg), msg)
}

// AcceptAnyIssuer waives the issuer a provider given as a bare JWKS URL
// otherwise requires (WithIssuer).
func (t *Toolkit) AcceptAnyIssuer() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var msg *C.char
	return errorFrom(C.go_oatk_accept_any_issuer(t.ptr, &msg), msg)
}

// SetClaims sets the claims Token mints.
func (t *Toolkit) SetClaims(claims Claims) error {
	text, err := jsonText("claims", claims)
	if err != nil {
		return err
	}
	return t.set(C.go_oatk_setter(C.oatk_claims), "claims", text)
}

// Token mints a token for the claims given to SetClaims. It returns "" and no
// error when the toolkit has no private key (Python's token is None then).
func (t *Toolkit) Token() (string, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out, msg *C.char
	if err := errorFrom(C.go_oatk_token(t.ptr, &out, &msg), msg); err != nil {
		return "", err
	}
	return takeString(out), nil
}

// Mint mints a token for exactly these claims; safe from many goroutines.
func (t *Toolkit) Mint(claims Claims) (string, error) {
	arg, err := jsonArg("claims", claims)
	if err != nil {
		return "", err
	}
	defer free(arg)
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out, msg *C.char
	if err := errorFrom(C.go_oatk_mint(t.ptr, arg, &out, &msg), msg); err != nil {
		return "", err
	}
	return takeString(out), nil
}

// JWKS returns the key set to publish, as indented JSON.
func (t *Toolkit) JWKS() (string, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out, msg *C.char
	if err := errorFrom(C.go_oatk_jwks(t.ptr, &out, &msg), msg); err != nil {
		return "", err
	}
	return takeString(out), nil
}

// Validate verifies a token (signature, exp/nbf, and aud/iss when configured)
// and returns its claims. A "Bearer " prefix is ignored.
func (t *Toolkit) Validate(token string) (Claims, error) {
	arg, err := cstring("token", token)
	if err != nil {
		return nil, err
	}
	defer free(arg)
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out, msg *C.char
	if err := errorFrom(C.go_oatk_validate(t.ptr, arg, &out, &msg), msg); err != nil {
		return nil, err
	}
	return parseClaims(takeString(out))
}

// ValidateWithClaims validates, then checks the claims a route requires: a
// scalar must be equal; a list must all be contained in the claim (a list,
// or a space-separated string such as scope). Failing that: ErrClaims.
func (t *Toolkit) ValidateWithClaims(token string, required Claims) (Claims, error) {
	arg, err := cstring("token", token)
	if err != nil {
		return nil, err
	}
	defer free(arg)
	req, err := jsonArg("required claims", required)
	if err != nil {
		return nil, err
	}
	defer free(req)
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out, msg *C.char
	if err := errorFrom(C.go_oatk_validate_with_claims(t.ptr, arg, req, &out, &msg), msg); err != nil {
		return nil, err
	}
	return parseClaims(takeString(out))
}

// Decode returns a token's claims WITHOUT verifying anything: for display only.
func Decode(token string) (Claims, error) {
	return unverified(token, func(a *C.char, out, msg **C.char) C.oatk_status { return C.go_oatk_decode(a, out, msg) })
}

// Header returns a token's JOSE header (alg, kid, typ) without verifying anything.
func Header(token string) (Claims, error) {
	return unverified(token, func(a *C.char, out, msg **C.char) C.oatk_status { return C.go_oatk_header(a, out, msg) })
}

func unverified(token string, f func(*C.char, **C.char, **C.char) C.oatk_status) (Claims, error) {
	arg, err := cstring("token", token)
	if err != nil {
		return nil, err
	}
	defer free(arg)
	var out, msg *C.char
	if err := errorFrom(f(arg, &out, &msg), msg); err != nil {
		return nil, err
	}
	return parseClaims(takeString(out))
}

// GenerateKey makes a key pair for alg ("RS256", "PS256", "ES256", "ES384",
// "EdDSA"...; "" means RS256) as PKCS#8 and SPKI PEM text.
func GenerateKey(alg string) (privatePEM, publicPEM string, err error) {
	var arg *C.char
	if alg != "" {
		if arg, err = cstring("alg", alg); err != nil {
			return "", "", err
		}
		defer free(arg)
	}
	var priv, pub, msg *C.char
	if err := errorFrom(C.go_oatk_generate_key(arg, &priv, &pub, &msg), msg); err != nil {
		return "", "", err
	}
	return takeString(priv), takeString(pub), nil
}

// Version is liboatk's version, e.g. "0.3.0".
func Version() string {
	return C.GoString(C.oatk_version())
}
