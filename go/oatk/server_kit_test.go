package oatk_test

import (
	"testing"
	"time"

	"github.com/oatk/oatk/go/oatk"
)

// The calls a test drives the server by: its clock, its keys, tenants; each
// error a status, and a closed server says so.
func TestServerClockKeysAndTenants(t *testing.T) {
	server, err := oatk.StartServer(nil, oatk.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	start, err := server.Now()
	if err != nil || time.Since(start).Abs() > 5*time.Second {
		t.Fatalf("now %v %v", start, err)
	}
	later, err := server.AdvanceClock(90 * time.Minute)
	if d := later.Sub(start); err != nil || d < 90*time.Minute || d > 90*time.Minute+2*time.Second {
		t.Fatalf("advanced to %v (%v) %v", later, d, err)
	}
	issued, err := server.Issue(oatk.TokenRequest{Username: "xtof", Claims: oatk.Claims{"team": "blue"}})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := oatk.Decode(issued["access_token"].(string))
	if err != nil || claims["team"] != "blue" || int64(claims["iat"].(float64)) < later.Unix() {
		t.Fatalf("%v %v", claims, err)
	}
	if err := server.FreezeClock(time.Unix(2_000_000_000, 0)); err != nil {
		t.Fatal(err)
	}
	if now, _ := server.Now(); now.Unix() != 2_000_000_000 {
		t.Fatalf("frozen at %v", now)
	}
	_, err = server.AdvanceClock(-100 * 365 * 24 * time.Hour)
	wantStatus(t, err, oatk.ErrInvalidArgument)
	if err := server.ResetClock(); err != nil {
		t.Fatal(err)
	}

	root, err := server.IssuerInfo("")
	if err != nil || root.Tenant != "" || root.Issuer != server.Issuer() || len(root.Keys) != 1 || !root.Keys[0].Signing {
		t.Fatalf("%+v %v", root, err)
	}
	kid, err := server.RotateKeys("")
	if err != nil {
		t.Fatal(err)
	}
	root, _ = server.IssuerInfo("")
	if len(root.Keys) != 2 || root.Keys[0].KID != kid || root.Keys[1].RetireAt != nil {
		t.Fatalf("after rotation: %+v", root)
	}
	if n, err := server.RetireOldKeys(""); n != 1 || err != nil {
		t.Fatalf("retired %d %v", n, err)
	}

	acme, err := server.IssuerInfo("acme")
	if err != nil || acme.Tenant != "acme" || acme.URL != server.URL()+"/acme" || acme.JWKSURI != acme.URL+"/oauth/certs" {
		t.Fatalf("%+v %v", acme, err)
	}
	service, err := server.Issue(oatk.TokenRequest{ClientID: "svc", Scope: "api", Tenant: "acme"})
	if err != nil || service["refresh_token"] != nil {
		t.Fatalf("%v %v", service, err)
	}
	claims, _ = oatk.Decode(service["access_token"].(string))
	if claims["iss"] != acme.Issuer || claims["aud"] != "svc" || claims["username"] != nil {
		t.Fatalf("client credentials: %v", claims)
	}
	_, err = server.IssuerInfo("not a tenant")
	wantStatus(t, err, oatk.ErrInvalidArgument)
	_, err = server.RotateKeys("a\x00b")
	wantStatus(t, err, oatk.ErrInvalidArgument)

	server.Close()
	_, err = server.AdvanceClock(time.Second)
	wantStatus(t, err, oatk.ErrServer)
	_, err = server.RotateKeys("")
	wantStatus(t, err, oatk.ErrServer)
	_, err = server.Issue(oatk.TokenRequest{})
	wantStatus(t, err, oatk.ErrServer)
	wantStatus(t, server.FreezeClock(time.Now()), oatk.ErrServer)
}
