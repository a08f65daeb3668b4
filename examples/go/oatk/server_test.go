package oatk_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oatk/oatk/examples/go/oatk"
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
		req, _ := http.NewRequest(http.MethodPost, server.URL()+"/oauth/token",
			strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("svc", secret)
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
