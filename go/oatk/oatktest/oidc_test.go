package oatktest_test

// A strict OpenID Connect client nobody here wrote, Go's go-oidc with
// golang.org/x/oauth2, through the authorization-code flow with PKCE against
// the fake server's root issuer and against a tenant issuer: discovery (the
// issuer must match), the login and consent forms as a browser posts them,
// the code exchange, the id_token verified (signature through jwks_uri, iss,
// aud, exp, nonce, at_hash), userinfo, and a refresh.

import (
	"context"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/oatk/oatk/go/oatk"
	"github.com/oatk/oatk/go/oatk/oatktest"
)

const redirectURI = "http://127.0.0.1:8765/callback"

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// hidden reads a form's hidden fields (its CSRF token among them).
func hidden(page string) url.Values {
	fields := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		fields.Set(m[1], html.UnescapeString(m[2]))
	}
	return fields
}

func read(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// signInAndAllow is what the user's browser does with the authorization URL:
// sign in as xtof, allow; it returns the redirect back to the client.
func signInAndAllow(t *testing.T, authorizationURL string) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := browser.Get(authorizationURL)
	if err != nil {
		t.Fatal(err)
	}
	login := read(t, res)
	if res.StatusCode != 200 || !strings.Contains(login, `name="username"`) {
		t.Fatalf("login page: %d %s", res.StatusCode, login)
	}
	form, _ := url.Parse(authorizationURL)
	form.RawQuery = ""
	fields := hidden(login)
	fields.Set("username", "xtof")
	res, err = browser.PostForm(form.String(), fields)
	if err != nil {
		t.Fatal(err)
	}
	consent := read(t, res)
	if res.StatusCode != 200 || !strings.Contains(consent, `value="allow"`) {
		t.Fatalf("consent page: %d %s", res.StatusCode, consent)
	}
	fields = hidden(consent)
	fields.Set("decision", "allow")
	res, err = browser.PostForm(form.String(), fields)
	if err != nil {
		t.Fatal(err)
	}
	body := read(t, res)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("after consent: %d %s", res.StatusCode, body)
	}
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(back.String(), redirectURI+"?") {
		t.Fatalf("redirect: %q %v", res.Header.Get("Location"), err)
	}
	return back
}

func TestGoOIDCCodeFlowWithPKCE(t *testing.T) {
	idp := oatktest.NewServer(t)
	err := idp.Fake.UpsertUser("xtof", oatk.Claims{"name": "Christophe VG", "email": "xtof@example.org"})
	if err == nil {
		err = idp.Fake.UpsertClient(map[string]any{"client_id": "webapp", "client_secret": "webapp-secret",
			"redirect_uris": []string{redirectURI}, "scope": "openid profile email"})
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, issuer := range []struct{ name, url string }{{"root", idp.URL}, {"tenant", idp.TenantURL("acme")}} {
		t.Run(issuer.name, func(t *testing.T) {
			codeFlow(t, issuer.url)
		})
	}
	// The tenant is an issuer of its own: go-oidc refuses its id_token at the root.
	ctx := context.Background()
	root, err := oidc.NewProvider(ctx, idp.URL)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := idp.Fake.Issue(oatk.TokenRequest{Username: "xtof", ClientID: "webapp", Scope: "openid", Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Verifier(&oidc.Config{ClientID: "webapp"}).Verify(ctx, issued["id_token"].(string)); err == nil {
		t.Fatal("the root verified a tenant's id_token")
	}
}

func codeFlow(t *testing.T, issuerURL string) {
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, issuerURL) // checks the document's issuer is issuerURL
	if err != nil {
		t.Fatal(err)
	}
	config := oauth2.Config{
		ClientID:     "webapp",
		ClientSecret: "webapp-secret",
		Endpoint:     provider.Endpoint(),
		RedirectURL:  redirectURI,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
	verifier := oauth2.GenerateVerifier()
	state, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	back := signInAndAllow(t, config.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)))
	if got := back.Query().Get("state"); got != state {
		t.Fatalf("state %q, want %q", got, state)
	}
	code := back.Query().Get("code")

	// PKCE is enforced: the code does not come without its verifier.
	if _, err := config.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("the code was exchanged with a wrong verifier")
	}
	// A code is single-use (RFC 6749 4.1.2): the refused attempt spent it.
	if _, err := config.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("a code was exchanged after a failed attempt")
	}
	back = signInAndAllow(t, config.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)))
	token, err := config.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	rawIDToken, ok := token.Extra("id_token").(string)
	if !ok {
		t.Fatal("no id_token")
	}
	idToken, err := provider.Verifier(&oidc.Config{ClientID: "webapp"}).Verify(ctx, rawIDToken)
	if err != nil {
		t.Fatal(err)
	}
	if idToken.Issuer != issuerURL || idToken.Nonce != nonce {
		t.Fatalf("iss %q nonce %q", idToken.Issuer, idToken.Nonce)
	}
	if err := idToken.VerifyAccessToken(token.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	var claims struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	if err := idToken.Claims(&claims); err != nil || claims.Name != "Christophe VG" || claims.Email != "xtof@example.org" {
		t.Fatalf("%+v %v", claims, err)
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
	if err != nil || info.Subject != idToken.Subject {
		t.Fatalf("userinfo: %+v %v", info, err)
	}
	// A refresh through the token source once the access token has expired.
	token.Expiry = token.Expiry.Add(-24 * 60 * 60 * 1e9)
	refreshed, err := config.TokenSource(ctx, token).Token()
	if err != nil || refreshed.AccessToken == token.AccessToken {
		t.Fatalf("refresh: %v", err)
	}
	// And an API trusting that issuer accepts the access token (audience: the client).
	api := oatk.New()
	defer api.Close()
	if err := api.UsingProvider(issuerURL); err != nil {
		t.Fatal(err)
	}
	if err := api.WithClientID("webapp"); err != nil {
		t.Fatal(err)
	}
	if got, err := api.Validate(refreshed.AccessToken); err != nil || got["iss"] != issuerURL {
		t.Fatalf("%v %v", got, err)
	}
}
