// Package oatktest runs oatk's fake OAuth2 / OpenID Connect server for a
// test, as net/http/httptest runs an HTTP server: one line to start, stopped
// by t.Cleanup.
//
//	idp := oatktest.NewServer(t)
//	api := httptest.NewServer(idp.Toolkit().Protect(oatk.Claims{"groups": []string{"admin"}})(handler))
//	token := idp.Token(oatk.Claims{"sub": "xtof", "groups": []string{"admin"}})
//	idp.Advance(time.Hour) // the server's clock and the validators', an hour on
//	idp.RotateKeys()       // a new signing key beside the old one
//
// Every method is one call of package oatk's Server or Toolkit (that is, of
// core's fake server); this package starts, stops and combines them and
// fails the test (t.Fatal) when a call fails.
package oatktest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oatk/oatk/go/oatk"
)

// DefaultClientID is the client the fake server issues tokens for when none
// is named: their aud.
const DefaultClientID = "test"

// Options says how to start the server: the fake server's own options and
// the client its tokens are for. The zero value is NewServer's.
type Options struct {
	Server   oatk.ServerOptions
	ClientID string // "" = DefaultClientID
}

// Server is a fake identity provider for one test.
type Server struct {
	// URL is where it listens, e.g. "http://localhost:39321".
	URL string
	// Issuer is the iss of its tokens (the URL unless Options set another).
	Issuer string
	// ClientID is the audience of Token's tokens and of the validators.
	ClientID string
	// Fake is the running server, for what this package does not wrap
	// (UpsertUser, UpsertClient, Issue, IssuerInfo...).
	Fake *oatk.Server

	t            testing.TB
	mu           sync.Mutex
	toolkit      *oatk.Toolkit
	validators   []*oatk.Toolkit
	validatorNow time.Time // zero: the system clock
}

// NewServer starts a fake server for t (any free port on localhost,
// everything in memory), closed by t.Cleanup.
func NewServer(t testing.TB) *Server {
	t.Helper()
	return NewServerWith(t, Options{})
}

// NewServerWith is NewServer with options.
func NewServerWith(t testing.TB, opts Options) *Server {
	t.Helper()
	fake, err := oatk.StartServer(nil, opts.Server)
	if err != nil {
		t.Fatalf("oatktest: start the fake server: %v", err)
	}
	s := &Server{URL: fake.URL(), Issuer: fake.Issuer(), ClientID: opts.ClientID, Fake: fake, t: t}
	if s.ClientID == "" {
		s.ClientID = DefaultClientID
	}
	t.Cleanup(s.Close)
	return s
}

// TokenOption picks a token's or a validator's audience or issuer.
type TokenOption func(*tokenOptions)

type tokenOptions struct{ clientID, tenant string }

// ClientID is the audience: the client the token is for, or the validator accepts.
func ClientID(id string) TokenOption { return func(o *tokenOptions) { o.clientID = id } }

// Tenant is a tenant's issuer, with its own keys, served at {URL}/{name}
// (created on first use), instead of the root's.
func Tenant(name string) TokenOption { return func(o *tokenOptions) { o.tenant = name } }

func (s *Server) options(opts []TokenOption) tokenOptions {
	o := tokenOptions{clientID: s.ClientID}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Token is a signed access token for the user claims["sub"] (default
// "xtof"; their username claim, while the token's sub is the server's
// stable id for them), with claims["scope"] as its scope (default the
// server's, "openid profile") and exactly the other claims as its extra
// claims: they replace what the user had.
func (s *Server) Token(claims oatk.Claims, opts ...TokenOption) string {
	s.t.Helper()
	o := s.options(opts)
	sub, scope, extra := "xtof", "", oatk.Claims{}
	for name, value := range claims {
		switch name {
		case "sub", "scope":
			text, ok := value.(string)
			if !ok {
				s.t.Fatalf("oatktest: claim %s must be a string, got %T", name, value)
			}
			if name == "sub" {
				sub = text
			} else {
				scope = text
			}
		default:
			extra[name] = value
		}
	}
	if err := s.Fake.UpsertUser(sub, extra); err != nil {
		s.t.Fatalf("oatktest: %v", err)
	}
	response, err := s.Fake.Issue(oatk.TokenRequest{Username: sub, ClientID: o.clientID, Scope: scope, Tenant: o.tenant})
	if err != nil {
		s.t.Fatalf("oatktest: %v", err)
	}
	token, _ := response["access_token"].(string)
	return token
}

// Toolkit is a validator trusting this server as an app would
// (UsingProvider and WithClientID), made on first use and closed with the
// server. It follows the server's clock (Advance, Freeze, ResetClock), and a
// key rotation as any app does: it fetches the key set again when a token
// names an unknown kid, at most every 30 s.
func (s *Server) Toolkit() *oatk.Toolkit {
	s.t.Helper()
	s.mu.Lock()
	made := s.toolkit
	s.mu.Unlock()
	if made != nil {
		return made
	}
	made = s.Validator()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.toolkit == nil {
		s.toolkit = made
	}
	return s.toolkit
}

// Validator is another validator like Toolkit (another audience with
// ClientID, a tenant's issuer with Tenant), following the server's clock
// and closed with the server. With an Issuer option that is not where the
// server listens, discovery cannot work (OpenID Connect Discovery 4.3): then
// it trusts the key set published now, read where the server listens, and
// requires that issuer.
func (s *Server) Validator(opts ...TokenOption) *oatk.Toolkit {
	s.t.Helper()
	o := s.options(opts)
	info, err := s.Fake.IssuerInfo(o.tenant)
	if err != nil {
		s.t.Fatalf("oatktest: %v", err)
	}
	tk := oatk.New()
	if info.Issuer == info.URL && strings.HasPrefix(info.URL, s.URL) {
		err = tk.UsingProvider(info.URL)
	} else {
		err = trustKeySet(tk, s.reachable(info.JWKSURI), info.Issuer)
	}
	if err == nil {
		err = tk.WithClientID(o.clientID)
	}
	if err != nil {
		tk.Close()
		s.t.Fatalf("oatktest: validator: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.validators = append(s.validators, tk)
	if !s.validatorNow.IsZero() {
		if err := tk.WithNow(s.validatorNow); err != nil {
			s.t.Fatalf("oatktest: %v", err)
		}
	}
	return tk
}

// reachable is url on the address the server listens on, when the server
// was given an issuer of its own.
func (s *Server) reachable(url string) string {
	if s.Issuer != s.URL && strings.HasPrefix(url, s.Issuer) {
		return s.URL + strings.TrimPrefix(url, s.Issuer)
	}
	return url
}

func trustKeySet(tk *oatk.Toolkit, url, issuer string) error {
	res, err := http.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, res.Status)
	}
	if err := tk.WithJWKS(string(body)); err != nil {
		return err
	}
	return tk.WithIssuer(issuer)
}

func (s *Server) setValidatorNow(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.validatorNow = now
	for _, tk := range s.validators {
		if err := tk.WithNow(now); err != nil {
			s.t.Fatalf("oatktest: %v", err)
		}
	}
}

// Now is the server's now.
func (s *Server) Now() time.Time {
	s.t.Helper()
	now, err := s.Fake.Now()
	if err != nil {
		s.t.Fatalf("oatktest: %v", err)
	}
	return now
}

// Advance moves the server's clock d ahead (behind when negative, whole
// seconds) and the validators it handed out to the same instant, so a token
// expires for both without sleeping. It returns the new now.
func (s *Server) Advance(d time.Duration) time.Time {
	s.t.Helper()
	now, err := s.Fake.AdvanceClock(d)
	if err != nil {
		s.t.Fatalf("oatktest: %v", err)
	}
	s.setValidatorNow(now)
	return now
}

// Freeze stops the server's clock, and its validators', at t.
func (s *Server) Freeze(t time.Time) {
	s.t.Helper()
	if err := s.Fake.FreezeClock(t); err != nil {
		s.t.Fatalf("oatktest: %v", err)
	}
	s.setValidatorNow(time.Unix(t.Unix(), 0))
}

// ResetClock puts the server and its validators back on the system clock.
func (s *Server) ResetClock() {
	s.t.Helper()
	if err := s.Fake.ResetClock(); err != nil {
		s.t.Fatalf("oatktest: %v", err)
	}
	s.setValidatorNow(time.Time{})
}

// RotateKeys publishes a new signing key beside the old ones (of the root
// issuer, or of Tenant) and signs new tokens with it; it returns the new kid.
func (s *Server) RotateKeys(opts ...TokenOption) string {
	s.t.Helper()
	kid, err := s.Fake.RotateKeys(s.options(opts).tenant)
	if err != nil {
		s.t.Fatalf("oatktest: %v", err)
	}
	return kid
}

// RetireOldKeys removes every key but the signing one from the key set (of
// the root issuer, or of Tenant), so tokens they signed stop validating; it
// returns how many went.
func (s *Server) RetireOldKeys(opts ...TokenOption) int {
	s.t.Helper()
	n, err := s.Fake.RetireOldKeys(s.options(opts).tenant)
	if err != nil {
		s.t.Fatalf("oatktest: %v", err)
	}
	return n
}

// TenantURL is where a tenant's endpoints are served, {URL}/{name}: what an
// OIDC client library or UsingProvider is given. The tenant is created on
// first use.
func (s *Server) TenantURL(name string) string {
	s.t.Helper()
	info, err := s.Fake.IssuerInfo(name)
	if err != nil {
		s.t.Fatalf("oatktest: %v", err)
	}
	return s.reachable(info.URL)
}

// Close stops the server and closes the validators it handed out. t.Cleanup
// calls it; closing twice is fine.
func (s *Server) Close() {
	s.mu.Lock()
	validators := s.validators
	s.validators, s.toolkit = nil, nil
	s.mu.Unlock()
	for _, tk := range validators {
		tk.Close()
	}
	s.Fake.Close()
}
