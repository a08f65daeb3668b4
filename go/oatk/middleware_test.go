package oatk_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oatk/oatk/go/oatk"
)

// hello answers with the claims the middleware verified.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	claims, ok := oatk.ClaimsFrom(r.Context())
	if !ok {
		http.Error(w, "no claims in context", http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"hello": "world", "username": claims["username"]})
})

type reply struct {
	status    int
	body      string
	challenge string
}

func get(t *testing.T, url, authorization string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, string(body), res.Header.Get("WWW-Authenticate")}
}

func TestProtect(t *testing.T) {
	tk, _, _ := signer(t, "RS256")
	mux := http.NewServeMux()
	mux.Handle("/", tk.Protect(nil)(hello))
	mux.Handle("/api/hello", tk.Protect(oatk.Claims{"username": "xtof"})(hello))
	mux.Handle("/api/groups", tk.Protect(oatk.Claims{"groups": []string{"admin"}})(hello))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	xtof := "Bearer " + mustMint(t, tk, oatk.Claims{"username": "xtof", "groups": []string{"admin", "dev"}})
	notxtof := "Bearer " + mustMint(t, tk, oatk.Claims{"username": "notxtof"})
	expired := "Bearer " + mustMint(t, tk, oatk.Claims{"username": "xtof", "exp": time.Now().Add(-time.Minute).Unix()})

	r := get(t, srv.URL+"/api/hello", "")
	if r.status != 401 || r.body != "Missing Authorization" || r.challenge != "Bearer" {
		t.Fatalf("no header: %+v", r)
	}
	r = get(t, srv.URL+"/api/hello", notxtof)
	if r.status != 403 || r.body != "claim username doesn't equal required value" || r.challenge != "" {
		t.Fatalf("other user: %+v", r)
	}
	r = get(t, srv.URL+"/api/hello", expired)
	if r.status != 401 || !strings.HasPrefix(r.challenge, `Bearer error="invalid_token"`) {
		t.Fatalf("expired: %+v", r)
	}
	r = get(t, srv.URL+"/api/hello", "Basic eHRvZjp4dG9m")
	if r.status != 401 {
		t.Fatalf("basic: %+v", r)
	}
	r = get(t, srv.URL+"/api/hello", xtof)
	if r.status != 200 || !strings.Contains(r.body, `"username":"xtof"`) {
		t.Fatalf("xtof: %+v", r)
	}
	r = get(t, srv.URL+"/", notxtof) // any valid token
	if r.status != 200 {
		t.Fatalf("any valid token: %+v", r)
	}
	if r = get(t, srv.URL+"/api/groups", xtof); r.status != 200 {
		t.Fatalf("groups: %+v", r)
	}
	if r = get(t, srv.URL+"/api/groups", notxtof); r.status != 403 {
		t.Fatalf("no groups: %+v", r)
	}

	// The same decision through Check, with its reason.
	d, err := tk.Check(expired, nil)
	if err != nil || d.Allowed || d.HTTPStatus != 401 || d.Reason != oatk.ErrExpired {
		t.Fatalf("check: %+v %v", d, err)
	}
	d, err = tk.Check("Bearer a\x00b", nil)
	if err != nil || d.HTTPStatus != 401 {
		t.Fatalf("NUL in header: %+v %v", d, err)
	}
}

// A toolkit without keys cannot decide: a server error, not a 401.
func TestProtectWithoutKeyIsAServerError(t *testing.T) {
	tk, _, _ := signer(t, "ES256")
	token := mustMint(t, tk, oatk.Claims{})
	empty := oatk.New()
	defer empty.Close()
	srv := httptest.NewServer(empty.Protect(nil)(hello))
	defer srv.Close()
	if r := get(t, srv.URL, "Bearer "+token); r.status != 500 {
		t.Fatalf("%+v", r)
	}
	_, err := empty.Check("Bearer "+token, nil)
	wantStatus(t, err, oatk.ErrKey)
}
