package oatk_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/oatk/oatk/go/oatk"
)

func getJSON(t *testing.T, u string) map[string]any {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s", u, res.Status)
	}
	var doc map[string]any
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// clientCredentials asks the server's token endpoint for a client_credentials
// token (client_secret_basic) and returns the status and the JSON response.
func clientCredentials(t *testing.T, server *oatk.Server, id, secret, scope string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, server.URL()+"/oauth/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var doc map[string]any
	_ = json.Unmarshal(body, &doc)
	return res.StatusCode, doc
}

// The fake server in-process; a client registered through its admin API
// takes a token with client_credentials (client_secret_basic) and calls a
// handler protected by a toolkit that trusts the server as its provider.
func TestFakeServerClientCredentials(t *testing.T) {
	server, err := oatk.StartServer(nil, oatk.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if !strings.HasPrefix(server.URL(), "http://localhost:") || server.Issuer() != server.URL() {
		t.Fatalf("url %q issuer %q", server.URL(), server.Issuer())
	}
	discovery := getJSON(t, server.URL()+"/.well-known/openid-configuration")
	if discovery["issuer"] != server.Issuer() || discovery["jwks_uri"] != server.URL()+"/oauth/certs" {
		t.Fatalf("discovery: %v", discovery)
	}
	if keys := getJSON(t, server.URL()+"/oauth/certs")["keys"].([]any); len(keys) != 1 {
		t.Fatalf("jwks: %v", keys)
	}

	client, _ := json.Marshal(map[string]any{
		"client_id": "svc", "client_secret": "s3cret", "name": "a Go service",
		"grant_types": []string{"client_credentials"}, "scope": "api",
	})
	res, err := http.Post(server.URL()+"/admin/clients", "application/json", bytes.NewReader(client))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("register client: %s", res.Status)
	}

	tokenFor := func(secret string) (int, map[string]any) {
		return clientCredentials(t, server, "svc", secret, "api")
	}
	if status, _ := tokenFor("wrong"); status != 401 {
		t.Fatalf("wrong secret: %d", status)
	}
	status, tokens := tokenFor("s3cret")
	access, _ := tokens["access_token"].(string)
	if status != 200 || access == "" || tokens["token_type"] != "Bearer" {
		t.Fatalf("token endpoint: %d %v", status, tokens)
	}

	service := oatk.New()
	defer service.Close()
	if err := service.UsingProvider(server.URL()); err != nil {
		t.Fatal(err)
	}
	if err := service.AcceptAnyAudience(); err != nil { // tokens of several clients below
		t.Fatal(err)
	}
	if err := service.WithIssuer(server.Issuer()); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(service.Protect(oatk.Claims{"client_id": "svc", "scope": []string{"api"}})(hello))
	defer api.Close()
	if r := get(t, api.URL, "Bearer "+access); r.status != 200 {
		t.Fatalf("protected handler with the server's token: %+v", r)
	}
	if r := get(t, api.URL, ""); r.status != 401 {
		t.Fatalf("without token: %+v", r)
	}

	// A user's token from IssueToken: valid, but not the svc client.
	issued, err := server.IssueToken("xtof", oatk.Claims{"name": "Christophe VG"}, "test", "openid profile")
	if err != nil || issued["id_token"] == nil {
		t.Fatalf("issue: %v %v", issued, err)
	}
	if r := get(t, api.URL, "Bearer "+issued["access_token"].(string)); r.status != 403 {
		t.Fatalf("another client's token: %+v", r)
	}
	claims, err := service.Validate(issued["access_token"].(string))
	if err != nil || claims["username"] != "xtof" || claims["name"] != "Christophe VG" {
		t.Fatalf("%v %v", claims, err)
	}
	_, err = server.IssueToken("xtof", nil, "test", "a\x00b")
	wantStatus(t, err, oatk.ErrInvalidArgument)
}

// The server signs with the toolkit's key; with a data dir it writes there.
func TestFakeServerWithToolkitAndOptions(t *testing.T) {
	tk, _, _ := signer(t, "ES256")
	dir := t.TempDir()
	server, err := oatk.StartServer(tk, oatk.ServerOptions{Issuer: "https://issuer.example", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	issued, err := server.IssueToken("xtof", nil, "test", "openid")
	if err != nil {
		t.Fatal(err)
	}
	claims, err := tk.Validate(issued["access_token"].(string)) // our key signed it
	if err != nil || claims["iss"] != "https://issuer.example" {
		t.Fatalf("%v %v", claims, err)
	}
	_, err = oatk.StartServer(nil, oatk.ServerOptions{ConfigPath: dir + "/missing.toml"})
	wantStatus(t, err, oatk.ErrIO)
	server.Close()
	server.Close()
}

// Users and clients added through the API (checked by core as the admin API
// checks them), the discovery URL, and a closed server: core's ErrServer,
// with its URL still readable.
func TestFakeServerUpsertsDiscoveryAndClose(t *testing.T) {
	server, err := oatk.StartServer(nil, oatk.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if server.DiscoveryURL() != server.URL()+"/.well-known/openid-configuration" {
		t.Fatalf("discovery URL %q", server.DiscoveryURL())
	}
	if doc := getJSON(t, server.DiscoveryURL()); doc["issuer"] != server.Issuer() {
		t.Fatalf("discovery document: %v", doc)
	}
	service := oatk.New()
	defer service.Close()
	if err := service.UsingProvider(server.DiscoveryURL()); err != nil {
		t.Fatal(err)
	}
	if err := service.AcceptAnyAudience(); err != nil { // tokens of several clients below
		t.Fatal(err)
	}

	if err := server.UpsertUser("bob", oatk.Claims{"groups": []string{"ops"}}); err != nil {
		t.Fatal(err)
	}
	issued, err := server.IssueToken("bob", nil, "test", "api")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := service.ValidateWithClaims(issued["access_token"].(string),
		oatk.Claims{"username": "bob", "groups": []string{"ops"}}); err != nil {
		t.Fatalf("the upserted user's claims: %v", err)
	}
	if err := server.UpsertUser("carol", nil); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, server.UpsertUser("", nil), oatk.ErrInvalidArgument)
	wantStatus(t, server.UpsertUser("tab\there", nil), oatk.ErrInvalidArgument)

	if err := server.UpsertClient(map[string]any{
		"client_id": "ci", "client_secret": "pw", "grant_types": []string{"client_credentials"}, "scope": "deploy",
	}); err != nil {
		t.Fatal(err)
	}
	if status, _ := clientCredentials(t, server, "ci", "wrong", "deploy"); status != 401 {
		t.Fatalf("wrong secret: %d", status)
	}
	status, tokens := clientCredentials(t, server, "ci", "pw", "deploy")
	access, _ := tokens["access_token"].(string)
	if status != 200 || access == "" {
		t.Fatalf("token endpoint: %d %v", status, tokens)
	}
	if _, err := service.ValidateWithClaims(access, oatk.Claims{"client_id": "ci", "scope": []string{"deploy"}}); err != nil {
		t.Fatalf("the upserted client's token: %v", err)
	}
	wantStatus(t, server.UpsertClient(map[string]any{"client_id": "web", "redirect_uris": []string{"http://localhost/cb#x"}}),
		oatk.ErrInvalidArgument)
	wantStatus(t, server.UpsertClient(map[string]any{"client_id": "web"}), oatk.ErrInvalidArgument) // authorization_code needs a redirect URI
	wantStatus(t, server.UpsertClient(map[string]any{"client_id": "ci", "colour": "blue"}), oatk.ErrInvalidArgument)
	wantStatus(t, server.UpsertClient(map[string]any{"client_id": func() {}}), oatk.ErrInvalidArgument)

	server.Close()
	_, err = server.IssueToken("bob", nil, "test", "api")
	wantStatus(t, err, oatk.ErrServer)
	if msg := err.(*oatk.Error).Message; msg != "the fake server is stopped" {
		t.Fatalf("stopped: %q", msg)
	}
	wantStatus(t, server.UpsertUser("dave", nil), oatk.ErrServer)
	wantStatus(t, server.UpsertClient(map[string]any{"client_id": "ci", "grant_types": []string{}}), oatk.ErrServer)
	if res, err := http.Get(server.URL()); err == nil {
		res.Body.Close()
		t.Fatalf("%s still answers after Close", server.URL())
	}
	server.Close()
}

// Close while other goroutines issue tokens: each call either succeeds or
// says the server is stopped; nothing else, no race.
func TestFakeServerCloseWhileInUse(t *testing.T) {
	server, err := oatk.StartServer(nil, oatk.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				_, err := server.IssueToken(fmt.Sprintf("user%d", g), nil, "test", "api")
				if err != nil && !errors.Is(err, oatk.ErrServer) {
					errs <- err
					return
				}
			}
		}(g)
	}
	server.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	_, err = server.IssueToken("late", nil, "test", "api")
	wantStatus(t, err, oatk.ErrServer)
}
