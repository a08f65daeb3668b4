package oatktest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oatk/oatk/go/oatk"
	"github.com/oatk/oatk/go/oatk/oatktest"
)

// notesAPI is the service under test: anyone with a valid token reads the
// notes; only the group admin clears them. It takes the toolkit it
// validates with: the test's fake provider here, the real one in production.
func notesAPI(tk *oatk.Toolkit) http.Handler {
	mux := http.NewServeMux()
	read := tk.Protect(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := oatk.ClaimsFrom(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]any{"user": claims["username"], "notes": []string{"buy milk"}})
	}))
	clear := tk.Protect(oatk.Claims{"groups": []string{"admin"}})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"cleared": 1})
	}))
	mux.Handle("GET /notes", read)
	mux.Handle("DELETE /notes", clear)
	return mux
}

type answer struct {
	status int
	body   string
	www    string
}

func call(t *testing.T, base, method, token string) answer {
	t.Helper()
	req, err := http.NewRequest(method, base+"/notes", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, string(body), res.Header.Get("WWW-Authenticate")}
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	header, err := oatk.Header(token)
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := header["kid"].(string)
	return kid
}

func TestNotesAPI(t *testing.T) {
	idp := oatktest.NewServer(t)
	api := httptest.NewServer(notesAPI(idp.Toolkit()))
	defer api.Close()

	if a := call(t, api.URL, "GET", ""); a.status != 401 || a.body != "Missing Authorization\n" && a.body != "Missing Authorization" {
		t.Fatalf("no token: %+v", a)
	}
	if a := call(t, api.URL, "GET", idp.Token(oatk.Claims{"sub": "xtof"})); a.status != 200 || !strings.Contains(a.body, `"user":"xtof"`) {
		t.Fatalf("valid token: %+v", a)
	}
	if a := call(t, api.URL, "GET", "not.a.token"); a.status != 401 {
		t.Fatalf("garbage: %+v", a)
	}
	if a := call(t, api.URL, "DELETE", idp.Token(oatk.Claims{"groups": []string{"admin"}})); a.status != 200 {
		t.Fatalf("admin: %+v", a)
	}
	if a := call(t, api.URL, "DELETE", idp.Token(oatk.Claims{"sub": "bob", "groups": []string{"staff"}})); a.status != 403 {
		t.Fatalf("staff: %+v", a)
	}
	if a := call(t, api.URL, "DELETE", idp.Token(nil)); a.status != 403 {
		t.Fatalf("each token carries exactly its claims: %+v", a)
	}
	if a := call(t, api.URL, "GET", idp.Token(nil, oatktest.ClientID("billing"))); a.status != 401 {
		t.Fatalf("another audience: %+v", a)
	}
	if a := call(t, api.URL, "GET", idp.Token(nil, oatktest.Tenant("acme"))); a.status != 401 {
		t.Fatalf("another issuer: %+v", a)
	}
}

func TestNotesAPITokenExpiresThroughTheClock(t *testing.T) {
	idp := oatktest.NewServer(t)
	api := httptest.NewServer(notesAPI(idp.Toolkit()))
	defer api.Close()
	token := idp.Token(nil)
	if a := call(t, api.URL, "GET", token); a.status != 200 {
		t.Fatalf("fresh: %+v", a)
	}
	start := idp.Now()
	now := idp.Advance(time.Hour) // the server's clock and the app's validator
	if d := now.Sub(start); d < time.Hour || d > time.Hour+2*time.Second {
		t.Fatalf("advanced %v", d)
	}
	if a := call(t, api.URL, "GET", token); a.status != 401 || !strings.Contains(a.www, "expired") {
		t.Fatalf("an hour later: %+v", a)
	}
	if a := call(t, api.URL, "GET", idp.Token(nil)); a.status != 200 {
		t.Fatalf("a token issued now: %+v", a)
	}
	idp.ResetClock()
	if a := call(t, api.URL, "GET", token); a.status != 200 {
		t.Fatalf("back on the system clock: %+v", a)
	}
	idp.Freeze(time.Unix(2_000_000_000, 0))
	if got := idp.Now().Unix(); got != 2_000_000_000 {
		t.Fatalf("frozen at %d", got)
	}
	if a := call(t, api.URL, "GET", token); a.status != 401 {
		t.Fatalf("frozen far ahead: %+v", a)
	}
}

// The app follows a rotation through its validator's rate-limited refetch:
// it waits out the 30 s, in parallel with the other tests.
func TestNotesAPIFollowsAKeyRotation(t *testing.T) {
	t.Parallel()
	idp := oatktest.NewServer(t)
	api := httptest.NewServer(notesAPI(idp.Toolkit()))
	defer api.Close()
	before := idp.Token(nil)
	kid := idp.RotateKeys()
	after := idp.Token(nil)
	if kidOf(t, after) != kid || kidOf(t, before) == kid {
		t.Fatalf("kids: before %s, after %s, new %s", kidOf(t, before), kidOf(t, after), kid)
	}
	if a := call(t, api.URL, "GET", before); a.status != 200 {
		t.Fatalf("old key: %+v", a)
	}
	// The validator read the key set when made; an unknown kid makes it fetch
	// again, at most every 30 s: refused until then, accepted after.
	if a := call(t, api.URL, "GET", after); a.status != 401 {
		t.Fatalf("right after the rotation: %+v", a)
	}
	deadline := time.Now().Add(40 * time.Second)
	for call(t, api.URL, "GET", after).status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("the validator never fetched the new key")
		}
		time.Sleep(500 * time.Millisecond)
	}
	if a := call(t, api.URL, "GET", before); a.status != 200 {
		t.Fatalf("both keys are published: %+v", a)
	}
	// Retired: an app reading the key set now refuses the old tokens.
	if n := idp.RetireOldKeys(); n != 1 {
		t.Fatalf("retired %d", n)
	}
	restarted := httptest.NewServer(notesAPI(idp.Validator()))
	defer restarted.Close()
	if a := call(t, restarted.URL, "GET", before); a.status != 401 {
		t.Fatalf("retired key: %+v", a)
	}
	if a := call(t, restarted.URL, "GET", after); a.status != 200 {
		t.Fatalf("new key: %+v", a)
	}
}

func TestOptionsAndTenants(t *testing.T) {
	idp := oatktest.NewServerWith(t, oatktest.Options{ClientID: "notes", Server: oatk.ServerOptions{Issuer: "https://id.example"}})
	if idp.Issuer != "https://id.example" || idp.ClientID != "notes" {
		t.Fatalf("%s %s", idp.Issuer, idp.ClientID)
	}
	claims, err := idp.Toolkit().Validate(idp.Token(oatk.Claims{"scope": "read", "team": "blue"}))
	if err != nil || claims["aud"] != "notes" || claims["iss"] != "https://id.example" || claims["scope"] != "read" || claims["team"] != "blue" {
		t.Fatalf("%v %v", claims, err)
	}
	acme := idp.Validator(oatktest.Tenant("acme"))
	tenantToken := idp.Token(nil, oatktest.Tenant("acme"))
	if _, err := acme.Validate(tenantToken); err != nil {
		t.Fatal(err)
	}
	if _, err := idp.Toolkit().Validate(tenantToken); err == nil {
		t.Fatal("a tenant's token validated at the root")
	}
	if got := idp.TenantURL("acme"); got != idp.URL+"/acme" {
		t.Fatalf("tenant URL %s", got)
	}
}

func TestCleanupStopsTheServer(t *testing.T) {
	var url string
	t.Run("inner", func(t *testing.T) {
		idp := oatktest.NewServer(t)
		url = idp.URL
		if _, err := idp.Toolkit().Validate(idp.Token(nil)); err != nil {
			t.Fatal(err)
		}
	})
	if res, err := http.Get(url + "/.well-known/openid-configuration"); err == nil {
		res.Body.Close()
		t.Fatalf("the server still answers after its test: %s", res.Status)
	}
}
