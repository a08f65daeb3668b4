package oatk_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oatk/oatk/go/oatk"
)

// signer returns a toolkit with a fresh key for alg, closed when the test ends.
func signer(t *testing.T, alg string) (*oatk.Toolkit, string, string) {
	t.Helper()
	priv, pub, err := oatk.GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	tk := oatk.New()
	t.Cleanup(func() { tk.Close() })
	if err := tk.WithPrivatePEM(priv); err != nil {
		t.Fatal(err)
	}
	return tk, priv, pub
}

func mustMint(t *testing.T, tk *oatk.Toolkit, claims oatk.Claims) string {
	t.Helper()
	token, err := tk.Mint(claims)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// wantStatus checks that err is an *oatk.Error with this status and a message.
func wantStatus(t *testing.T, err error, want oatk.Status) {
	t.Helper()
	var e *oatk.Error
	if !errors.As(err, &e) {
		t.Fatalf("want %s, got %v", want.Name(), err)
	}
	if e.Status != want || !errors.Is(err, want) || e.Code != want.Code() || e.Message == "" {
		t.Fatalf("want %s, got %#v", want.Name(), e)
	}
}

func TestSeedSession(t *testing.T) {
	// with_private private_key.pem with_jwks certs.json claims '{"hello": "world"}' token
	dir := t.TempDir()
	priv, pub, err := oatk.GenerateKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	privPath, pubPath := filepath.Join(dir, "private_key.pem"), filepath.Join(dir, "public_key.pem")
	if err := os.WriteFile(privPath, []byte(priv), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubPath, []byte(pub), 0o644); err != nil {
		t.Fatal(err)
	}
	publisher := oatk.New()
	defer publisher.Close()
	if err := publisher.WithPublic(pubPath); err != nil {
		t.Fatal(err)
	}
	jwks, err := publisher.JWKS()
	if err != nil || !strings.Contains(jwks, `"kty": "RSA"`) {
		t.Fatalf("jwks: %v %s", err, jwks)
	}

	tk := oatk.New()
	defer tk.Close()
	if token, err := tk.Token(); token != "" || err != nil {
		t.Fatalf("no private key: want no token and no error, got %q %v", token, err)
	}
	for _, step := range []error{tk.WithPrivate(privPath), tk.WithJWKS(jwks), tk.SetClaims(oatk.Claims{"hello": "world"})} {
		if step != nil {
			t.Fatal(step)
		}
	}
	token, err := tk.Token()
	if err != nil || strings.Count(token, ".") != 2 {
		t.Fatalf("token: %q %v", token, err)
	}
	validator := oatk.New()
	defer validator.Close()
	if err := validator.WithJWKS(jwks); err != nil {
		t.Fatal(err)
	}
	claims, err := validator.Validate(token)
	if err != nil || claims["hello"] != "world" || len(claims) != 1 {
		t.Fatalf("validate: %v %v", claims, err)
	}
	decoded, err := oatk.Decode(token)
	if err != nil || decoded["hello"] != "world" {
		t.Fatalf("decode: %v %v", decoded, err)
	}
	header, err := oatk.Header(token)
	if err != nil || header["alg"] != "RS256" || header["typ"] != "JWT" || header["kid"] == nil {
		t.Fatalf("header: %v %v", header, err)
	}
}

func TestErrorsCarryStatusCodeAndMessage(t *testing.T) {
	tk, _, _ := signer(t, "ES256")
	token := mustMint(t, tk, oatk.Claims{"username": "xtof"})

	tampered := token[:len(token)-2] + map[bool]string{true: "B", false: "A"}[token[len(token)-2] == 'A'] + token[len(token)-1:]
	_, err := tk.Validate(tampered)
	wantStatus(t, err, oatk.ErrSignature)
	if err.(*oatk.Error).Code != "SIGNATURE" {
		t.Fatalf("code: %v", err)
	}

	_, err = tk.Validate(mustMint(t, tk, oatk.Claims{"exp": time.Now().Add(-time.Minute).Unix()}))
	wantStatus(t, err, oatk.ErrExpired)
	_, err = tk.Validate(mustMint(t, tk, oatk.Claims{"nbf": time.Now().Add(time.Hour).Unix()}))
	wantStatus(t, err, oatk.ErrNotYetValid)
	_, err = tk.Validate("a.b")
	wantStatus(t, err, oatk.ErrMalformed)
	_, err = tk.ValidateWithClaims(token, oatk.Claims{"username": "notxtof"})
	wantStatus(t, err, oatk.ErrClaims)
	if err.(*oatk.Error).Message != "claim username doesn't equal required value" {
		t.Fatalf("message: %v", err)
	}
	if claims, err := tk.ValidateWithClaims(token, oatk.Claims{"username": "xtof"}); err != nil || claims["username"] != "xtof" {
		t.Fatalf("%v %v", claims, err)
	}

	if err := tk.RequireExp(true); err != nil {
		t.Fatal(err)
	}
	_, err = tk.Validate(token)
	wantStatus(t, err, oatk.ErrMissingClaim)
	if err := tk.RequireExp(false); err != nil {
		t.Fatal(err)
	}
	if err := tk.WithLeeway(2 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Validate(mustMint(t, tk, oatk.Claims{"exp": time.Now().Add(-time.Minute).Unix()})); err != nil {
		t.Fatalf("within leeway: %v", err)
	}

	other, _, _ := signer(t, "ES256")
	_, err = tk.Validate(mustMint(t, other, oatk.Claims{}))
	wantStatus(t, err, oatk.ErrUnknownKey)

	aud := mustMint(t, tk, oatk.Claims{"aud": "api", "iss": "https://issuer.example"})
	if err := tk.WithClientID("other"); err != nil {
		t.Fatal(err)
	}
	_, err = tk.Validate(aud)
	wantStatus(t, err, oatk.ErrAudience)
	if err := tk.WithClientID("api"); err != nil {
		t.Fatal(err)
	}
	if err := tk.WithIssuer("https://evil.example"); err != nil {
		t.Fatal(err)
	}
	_, err = tk.Validate(aud)
	wantStatus(t, err, oatk.ErrIssuer)

	wantStatus(t, tk.WithPrivate(filepath.Join(t.TempDir(), "missing.pem")), oatk.ErrIO)
	wantStatus(t, tk.WithPublicPEM("not a key"), oatk.ErrKey)
	wantStatus(t, tk.WithJWKS(`{"keys": 1}`), oatk.ErrJWKS)
	wantStatus(t, tk.WithAlgorithm("HS256"), oatk.ErrInvalidArgument)
	wantStatus(t, tk.WithAlgorithm("RS256"), oatk.ErrKey) // an EC key
	wantStatus(t, tk.UsingProvider("http://127.0.0.1:1"), oatk.ErrNetwork)
	wantStatus(t, tk.SetClaims(oatk.Claims{"f": func() {}}), oatk.ErrInvalidArgument)
	_, err = tk.Validate("a\x00b")
	wantStatus(t, err, oatk.ErrInvalidArgument)
	_, _, err = oatk.GenerateKey("rs256")
	wantStatus(t, err, oatk.ErrInvalidArgument)

	empty := oatk.New()
	defer empty.Close()
	_, err = empty.Validate(token)
	wantStatus(t, err, oatk.ErrKey)
	_, err = empty.Mint(oatk.Claims{})
	wantStatus(t, err, oatk.ErrKey)
}

// The token cache: a repeat skips the signature check (measurably: a P-384
// verification costs ten times a cache hit), and exp, a tampered copy and
// capacity 0 still behave.
func TestWithCache(t *testing.T) {
	tk, _, _ := signer(t, "ES384")
	exp := time.Now().Add(time.Minute).Unix()
	token := mustMint(t, tk, oatk.Claims{"username": "xtof", "exp": exp})
	fastest := func() time.Duration {
		best := time.Duration(1 << 62)
		for round := 0; round < 5; round++ {
			start := time.Now()
			for i := 0; i < 20; i++ {
				if _, err := tk.Validate(token); err != nil {
					t.Fatal(err)
				}
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	uncached := fastest()
	if err := tk.WithCache(16); err != nil {
		t.Fatal(err)
	}
	if cached := fastest(); cached*2 >= uncached {
		t.Fatalf("20 cached validations took %v, uncached %v: the cache is not used", cached, uncached)
	}
	if claims, err := tk.Validate(token); err != nil || claims["username"] != "xtof" {
		t.Fatalf("cached claims: %v %v", claims, err)
	}
	// Time is checked on every call, cached or not.
	if err := tk.WithNow(time.Unix(exp+60, 0)); err != nil {
		t.Fatal(err)
	}
	_, err := tk.Validate(token)
	wantStatus(t, err, oatk.ErrExpired)
	if err := tk.WithNow(time.Time{}); err != nil {
		t.Fatal(err)
	}
	_, err = tk.Validate(token[:len(token)-2] + flip(token[len(token)-2]) + token[len(token)-1:])
	wantStatus(t, err, oatk.ErrSignature)
	wantStatus(t, tk.WithCache(-1), oatk.ErrInvalidArgument)
	if err := tk.WithCache(0); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Validate(token); err != nil {
		t.Fatal(err)
	}
}

func TestClosedToolkit(t *testing.T) {
	tk, _, _ := signer(t, "EdDSA")
	token := mustMint(t, tk, oatk.Claims{})
	tk.Close()
	tk.Close() // twice is fine
	_, err := tk.Validate(token)
	wantStatus(t, err, oatk.ErrInvalidArgument)
	wantStatus(t, tk.WithClientID("x"), oatk.ErrInvalidArgument)
}

func TestStatusNames(t *testing.T) {
	if oatk.ErrExpired.Name() != "OATK_ERR_EXPIRED" || oatk.ErrExpired.Code() != "EXPIRED" || oatk.OK.Code() != "OK" {
		t.Fatal(oatk.ErrExpired.Name(), oatk.ErrExpired.Code())
	}
	if int(oatk.ErrPanic) != 16 || int(oatk.ErrMissingClaim) != 17 {
		t.Fatal("status numbers are part of the ABI")
	}
	if oatk.Version() == "" {
		t.Fatal("no version")
	}
}

// Many goroutines (more than OS threads) validate and fail at once. Each
// error's message must be the one of its own call: liboatk's last error is
// per OS thread and goroutines move between threads, which the wrapper
// handles by reading the message in the same cgo call.
func TestConcurrentCallsKeepTheirOwnMessages(t *testing.T) {
	tk, _, _ := signer(t, "ES256")
	good := mustMint(t, tk, oatk.Claims{"shared": true})
	expired := mustMint(t, tk, oatk.Claims{"exp": 1})
	other, _, _ := signer(t, "ES256")
	foreign := mustMint(t, other, oatk.Claims{})
	reference := map[string]string{}
	for name, token := range map[string]string{"expired": expired, "foreign": foreign, "malformed": "x.y"} {
		_, err := tk.Validate(token)
		reference[name] = err.(*oatk.Error).Message
	}

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if claims, err := tk.Validate(good); err != nil || claims["shared"] != true {
					errs <- fmt.Errorf("good token: %v", err)
					return
				}
				name := []string{"expired", "foreign", "malformed"}[(g+i)%3]
				token := map[string]string{"expired": expired, "foreign": foreign, "malformed": "x.y"}[name]
				_, err := tk.Validate(token)
				var e *oatk.Error
				if !errors.As(err, &e) || e.Message != reference[name] {
					errs <- fmt.Errorf("%s: got message %v, want %q", name, err, reference[name])
					return
				}
				if own, err := tk.Mint(oatk.Claims{"g": g, "i": i}); err != nil {
					errs <- err
					return
				} else if claims, err := tk.Validate(own); err != nil || claims["g"] != float64(g) {
					errs <- fmt.Errorf("own token: %v %v", claims, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
