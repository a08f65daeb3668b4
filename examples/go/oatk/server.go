package oatk

/*
#include "helpers.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
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

// JWKS is the key set it publishes at /oauth/certs.
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

// Close stops the server and waits for it. Closing twice is a no-op.
func (s *Server) Close() error {
	C.oatk_server_shutdown(s.ptr)
	runtime.KeepAlive(s)
	return nil
}
