package oatk

/*
#include "helpers.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"time"
)

// ServerOptions says how to start the fake server. The zero value means:
// localhost, any free port, issuer = its URL, no config, everything in
// memory, no request log.
type ServerOptions struct {
	Host        string // "" = "localhost" (bound on 127.0.0.1)
	Port        uint16 // 0 = any free port
	Issuer      string // "" = the server's URL
	ConfigPath  string // TOML with users and clients (see examples/oatk.toml); "" = none
	DataDir     string // SQLite database and signing key; "" = in memory
	LogRequests bool
}

// Server is the fake OAuth2 / OpenID Connect server running in this process.
// Stop it with Close. It is safe for concurrent use, Close included: after
// Close, IssueToken and Upsert* fail with ErrServer ("the fake server is
// stopped"), as in Python and Node, and its URL, issuer and keys stay
// readable. The small handle left after Close is released by the garbage
// collector (which also stops a server nobody closed).
type Server struct {
	ptr          *C.oatk_server
	url          string
	issuer       string
	discoveryURL string
	jwks         string
}

// StartServer starts the fake server and returns once it listens. With a
// toolkit holding a private key, the server signs with it; with nil, it
// generates its own key.
func StartServer(t *Toolkit, opts ServerOptions) (*Server, error) {
	var copts C.oatk_server_options
	var toFree []*C.char
	defer func() {
		for _, p := range toFree {
			free(p)
		}
	}()
	optional := func(name, value string) (*C.char, error) {
		if value == "" {
			return nil, nil
		}
		p, err := cstring(name, value)
		if err == nil {
			toFree = append(toFree, p)
		}
		return p, err
	}
	var err error
	if copts.host, err = optional("host", opts.Host); err != nil {
		return nil, err
	}
	if copts.issuer, err = optional("issuer", opts.Issuer); err != nil {
		return nil, err
	}
	if copts.config_path, err = optional("config_path", opts.ConfigPath); err != nil {
		return nil, err
	}
	if copts.data_dir, err = optional("data_dir", opts.DataDir); err != nil {
		return nil, err
	}
	copts.port = C.uint16_t(opts.Port)
	copts.log_requests = C.bool(opts.LogRequests)

	var toolkit *C.oatk_toolkit
	if t != nil {
		t.mu.RLock()
		defer t.mu.RUnlock()
		toolkit = t.ptr
		if toolkit == nil {
			return nil, invalidArgument("toolkit is closed")
		}
	}
	var ptr *C.oatk_server
	var msg *C.char
	if err := errorFrom(C.go_oatk_server_start_with(toolkit, &copts, &ptr, &msg), msg); err != nil {
		return nil, err
	}
	s := &Server{
		ptr:          ptr,
		url:          C.GoString(C.oatk_server_url(ptr)),
		issuer:       C.GoString(C.oatk_server_issuer(ptr)),
		discoveryURL: C.GoString(C.oatk_server_discovery_url(ptr)),
		jwks:         C.GoString(C.oatk_server_jwks(ptr)),
	}
	runtime.SetFinalizer(s, func(s *Server) { C.oatk_server_stop(s.ptr) })
	return s, nil
}

// URL is where it listens, e.g. "http://localhost:39321".
func (s *Server) URL() string { return s.url }

// Issuer is the iss of its tokens.
func (s *Server) Issuer() string { return s.issuer }

// DiscoveryURL is its OpenID Connect discovery document, e.g.
// "http://localhost:39321/.well-known/openid-configuration": what to give
// Toolkit.UsingProvider or any OIDC client library.
func (s *Server) DiscoveryURL() string { return s.discoveryURL }

// JWKS is the key set it published at /oauth/certs when it started (after
// RotateKeys, IssuerInfo lists the current keys).
func (s *Server) JWKS() string { return s.jwks }

// IssueToken issues tokens for a user as if they had logged in and consented
// (claims: the user's extra claims, nil keeps theirs) and returns the token
// endpoint's JSON response (access_token, id_token, refresh_token...).
func (s *Server) IssueToken(username string, claims Claims, clientID, scope string) (map[string]any, error) {
	args := make([]*C.char, 0, 4)
	defer func() {
		for _, p := range args {
			free(p)
		}
	}()
	for _, a := range [][2]string{{"username", username}, {"client_id", clientID}, {"scope", scope}} {
		p, err := cstring(a[0], a[1])
		if err != nil {
			return nil, err
		}
		args = append(args, p)
	}
	var cclaims *C.char
	if claims != nil {
		p, err := jsonArg("claims", claims)
		if err != nil {
			return nil, err
		}
		args = append(args, p)
		cclaims = p
	}
	var out, msg *C.char
	err := errorFrom(C.go_oatk_server_issue_token(s.ptr, args[0], cclaims, args[1], args[2], &out, &msg), msg)
	runtime.KeepAlive(s)
	if err != nil {
		return nil, err
	}
	var response map[string]any
	err = json.Unmarshal([]byte(takeString(out)), &response)
	return response, err
}

// UpsertUser adds or replaces a user and the extra claims of their tokens
// (nil: none), checked as the server's admin API checks users.
func (s *Server) UpsertUser(username string, claims Claims) error {
	if claims == nil {
		claims = Claims{}
	}
	return s.upsert("user", map[string]any{"username": username, "claims": claims},
		func(p *C.oatk_server, j *C.char, m **C.char) C.oatk_status {
			return C.go_oatk_server_upsert_user(p, j, m)
		})
}

// UpsertClient adds or replaces a client registration with the config file's
// fields (client_id, client_secret, redirect_uris, grant_types, scope...),
// checked as the server's admin API checks clients.
func (s *Server) UpsertClient(client map[string]any) error {
	return s.upsert("client", client,
		func(p *C.oatk_server, j *C.char, m **C.char) C.oatk_status {
			return C.go_oatk_server_upsert_client(p, j, m)
		})
}

func (s *Server) upsert(name string, value map[string]any, f func(*C.oatk_server, *C.char, **C.char) C.oatk_status) error {
	text, err := json.Marshal(value)
	if err != nil {
		return invalidArgument(name + ": " + err.Error())
	}
	arg, err := cstring(name, string(text))
	if err != nil {
		return err
	}
	defer free(arg)
	var msg *C.char
	err = errorFrom(f(s.ptr, arg, &msg), msg)
	runtime.KeepAlive(s)
	return err
}

// TokenRequest is what Server.Issue makes tokens for; every field is optional.
type TokenRequest struct {
	// The user, as if they had signed in and consented; "" for the client
	// acting for itself (client_credentials: an access token only).
	Username string `json:"username,omitempty"`
	// For a user: their extra claims from now on (nil keeps theirs). For a
	// client: extra claims of this token.
	Claims Claims `json:"claims,omitempty"`
	// The audience; "" is "test", the seed's demo client (need not be registered).
	ClientID string `json:"client_id,omitempty"`
	// "" is "openid profile" for a user, the client's scope for a client.
	Scope string `json:"scope,omitempty"`
	// A tenant's issuer and keys instead of the root's (created on first use).
	Tenant string `json:"tenant,omitempty"`
}

// Issue issues tokens as the token endpoint would, with no browser and no
// client secret, and returns the token endpoint's JSON response.
func (s *Server) Issue(req TokenRequest) (map[string]any, error) {
	text, err := json.Marshal(req)
	if err != nil {
		return nil, invalidArgument("token request: " + err.Error())
	}
	arg, err := cstring("request", string(text))
	if err != nil {
		return nil, err
	}
	defer free(arg)
	var out, msg *C.char
	err = errorFrom(C.go_oatk_server_issue(s.ptr, arg, &out, &msg), msg)
	runtime.KeepAlive(s)
	if err != nil {
		return nil, err
	}
	var response map[string]any
	err = json.Unmarshal([]byte(takeString(out)), &response)
	return response, err
}

// Now is the server's now: the system clock unless advanced or frozen.
func (s *Server) Now() (time.Time, error) {
	var now C.int64_t
	var msg *C.char
	err := errorFrom(C.go_oatk_server_now(s.ptr, &now, &msg), msg)
	runtime.KeepAlive(s)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(int64(now), 0), nil
}

// AdvanceClock moves the server's clock d ahead (behind when negative,
// whole seconds), so tokens, codes, refresh tokens and sessions age without
// sleeping, and returns its new now: give it to Toolkit.WithNow so the
// validator under test sees the same time.
func (s *Server) AdvanceClock(d time.Duration) (time.Time, error) {
	var now C.int64_t
	var msg *C.char
	err := errorFrom(C.go_oatk_server_advance_clock(s.ptr, C.int64_t(d/time.Second), &now, &msg), msg)
	runtime.KeepAlive(s)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(int64(now), 0), nil
}

// FreezeClock stops the server's clock at t (whole seconds) until it is
// advanced or reset.
func (s *Server) FreezeClock(t time.Time) error {
	var msg *C.char
	err := errorFrom(C.go_oatk_server_freeze_clock(s.ptr, C.int64_t(t.Unix()), &msg), msg)
	runtime.KeepAlive(s)
	return err
}

// ResetClock puts the server's clock back on the system clock.
func (s *Server) ResetClock() error {
	var msg *C.char
	err := errorFrom(C.go_oatk_server_reset_clock(s.ptr, &msg), msg)
	runtime.KeepAlive(s)
	return err
}

// IssuerKey is one key an issuer publishes.
type IssuerKey struct {
	KID string `json:"kid"`
	Alg string `json:"alg"`
	// Signing: new tokens are signed with it.
	Signing bool `json:"signing"`
	// RetireAt is when it leaves the key set (server clock, Unix seconds);
	// nil: when retired on request.
	RetireAt *int64 `json:"retire_at"`
}

// Issuer is the root issuer or a tenant of the fake server.
type Issuer struct {
	Tenant string `json:"tenant"` // "" for the root
	Issuer string `json:"issuer"` // the iss of its tokens
	// URL is where its endpoints are served: what Toolkit.UsingProvider or
	// an OIDC client library is given.
	URL          string      `json:"url"`
	DiscoveryURL string      `json:"discovery_url"`
	JWKSURI      string      `json:"jwks_uri"`
	Keys         []IssuerKey `json:"keys"` // the signing key first
}

// IssuerInfo describes the root issuer (tenant "") or a tenant, created on
// first use as a request to {URL}/{tenant}/... creates it.
func (s *Server) IssuerInfo(tenant string) (*Issuer, error) {
	ctenant, err := optionalCString("tenant", tenant)
	if err != nil {
		return nil, err
	}
	defer free(ctenant)
	var out, msg *C.char
	err = errorFrom(C.go_oatk_server_issuer_info(s.ptr, ctenant, &out, &msg), msg)
	runtime.KeepAlive(s)
	if err != nil {
		return nil, err
	}
	var info Issuer
	err = json.Unmarshal([]byte(takeString(out)), &info)
	return &info, err
}

// RotateKeys publishes a new signing key beside the old ones, for the root
// issuer (tenant "") or a tenant, signs new tokens with it and returns its
// kid. The old keys stay published until RetireOldKeys.
func (s *Server) RotateKeys(tenant string) (string, error) {
	ctenant, err := optionalCString("tenant", tenant)
	if err != nil {
		return "", err
	}
	defer free(ctenant)
	var kid, msg *C.char
	err = errorFrom(C.go_oatk_server_rotate_keys(s.ptr, ctenant, &kid, &msg), msg)
	runtime.KeepAlive(s)
	if err != nil {
		return "", err
	}
	return takeString(kid), nil
}

// RetireOldKeys removes every key but the signing one from the key set of
// the root issuer (tenant "") or a tenant, so tokens they signed stop
// validating; it returns how many went.
func (s *Server) RetireOldKeys(tenant string) (int, error) {
	ctenant, err := optionalCString("tenant", tenant)
	if err != nil {
		return 0, err
	}
	defer free(ctenant)
	var n C.size_t
	var msg *C.char
	err = errorFrom(C.go_oatk_server_retire_old_keys(s.ptr, ctenant, &n, &msg), msg)
	runtime.KeepAlive(s)
	return int(n), err
}

// optionalCString is NULL for "" (free(NULL) is fine).
func optionalCString(name, value string) (*C.char, error) {
	if value == "" {
		return nil, nil
	}
	return cstring(name, value)
}

// Close stops the server and waits for it. Closing twice is a no-op.
func (s *Server) Close() error {
	C.oatk_server_shutdown(s.ptr)
	runtime.KeepAlive(s)
	return nil
}
