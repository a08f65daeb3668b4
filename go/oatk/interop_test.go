package oatk_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/oatk/oatk/go/oatk"
)

// A token minted through liboatk validates with golang-jwt, given the public key.
func TestLiboatkTokenValidatesWithGolangJWT(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			tk, _, pub := signer(t, alg)
			exp := time.Now().Add(time.Hour).Unix()
			token := mustMint(t, tk, oatk.Claims{"sub": "xtof", "aud": "api", "exp": exp})

			var key any
			var err error
			switch alg {
			case "RS256":
				key, err = jwt.ParseRSAPublicKeyFromPEM([]byte(pub))
			case "ES256":
				key, err = jwt.ParseECPublicKeyFromPEM([]byte(pub))
			default:
				key, err = jwt.ParseEdPublicKeyFromPEM([]byte(pub))
			}
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return key, nil },
				jwt.WithValidMethods([]string{alg}), jwt.WithAudience("api"), jwt.WithExpirationRequired())
			if err != nil || !parsed.Valid {
				t.Fatalf("golang-jwt refused liboatk's token: %v", err)
			}
			if sub, _ := parsed.Claims.GetSubject(); sub != "xtof" {
				t.Fatalf("sub = %q", sub)
			}
			// And golang-jwt refuses it when tampered, so the check above can fail.
			tampered := token[:len(token)-2] + flip(token[len(token)-2]) + token[len(token)-1:]
			if _, err := jwt.Parse(tampered, func(*jwt.Token) (any, error) { return key, nil }); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
				t.Fatalf("tampered: %v", err)
			}
		})
	}
}

// A token minted by golang-jwt validates through liboatk, given the public key.
func TestGolangJWTTokenValidatesWithLiboatk(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method jwt.SigningMethod
		priv   any
		pub    any
	}{
		{jwt.SigningMethodRS256, rsaKey, &rsaKey.PublicKey},
		{jwt.SigningMethodPS256, rsaKey, &rsaKey.PublicKey},
		{jwt.SigningMethodES256, ecKey, &ecKey.PublicKey},
	}
	for _, c := range cases {
		t.Run(c.method.Alg(), func(t *testing.T) {
			der, err := x509.MarshalPKIXPublicKey(c.pub)
			if err != nil {
				t.Fatal(err)
			}
			pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
			tk := oatk.New()
			defer tk.Close()
			if err := tk.WithPublicPEM(pub); err != nil {
				t.Fatal(err)
			}
			if c.method == jwt.SigningMethodPS256 {
				if err := tk.WithAlgorithm("PS256"); err != nil {
					t.Fatal(err)
				}
			}
			token, err := jwt.NewWithClaims(c.method, jwt.MapClaims{
				"username": "xtof",
				"exp":      time.Now().Add(time.Hour).Unix(),
			}).SignedString(c.priv)
			if err != nil {
				t.Fatal(err)
			}
			claims, err := tk.ValidateWithClaims(token, oatk.Claims{"username": "xtof"})
			if err != nil {
				t.Fatalf("liboatk refused golang-jwt's token: %v", err)
			}
			if claims["username"] != "xtof" {
				t.Fatalf("claims: %v", claims)
			}
			expired, err := jwt.NewWithClaims(c.method, jwt.MapClaims{"exp": time.Now().Add(-time.Hour).Unix()}).SignedString(c.priv)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tk.Validate(expired)
			wantStatus(t, err, oatk.ErrExpired)
		})
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
