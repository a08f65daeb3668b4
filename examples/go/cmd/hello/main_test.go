package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/oatk/oatk/go/oatk"
)

// The seed's curl session against the Go service.
func TestSeedCurlSession(t *testing.T) {
	priv, _, err := oatk.GenerateKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	tk := oatk.New()
	defer tk.Close()
	if err := tk.WithPrivatePEM(priv); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newMux(tk))
	defer srv.Close()

	call := func(path, token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	_, xtof := call("/api/token?username=xtof", "")
	_, notxtof := call("/api/token?username=notxtof&groups=a,b", "")
	if status, body := call("/", xtof); status != 200 || body != "<p>Hello, World!</p>" {
		t.Fatalf("/: %d %s", status, body)
	}
	if status, body := call("/api/hello", xtof); status != 200 || body != "{\"hello\":\"world\"}\n" {
		t.Fatalf("/api/hello: %d %s", status, body)
	}
	if status, body := call("/api/hello", notxtof); status != 403 || body != "claim username doesn't equal required value" {
		t.Fatalf("/api/hello as notxtof: %d %s", status, body)
	}
	if status, body := call("/", ""); status != 401 || body != "Missing Authorization" {
		t.Fatalf("/ without token: %d %s", status, body)
	}
	claims, err := oatk.Decode(notxtof)
	if err != nil || len(claims["groups"].([]any)) != 2 {
		t.Fatalf("groups: %v %v", claims, err)
	}
}
