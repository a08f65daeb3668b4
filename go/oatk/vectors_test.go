package oatk_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/oatk/oatk/go/oatk"
)

// The shared validation vectors (tests/vectors/tokens.json), as every binding runs them.
func TestSharedVectors(t *testing.T) {
	raw, err := os.ReadFile(findUp(t, filepath.Join("tests", "vectors", "tokens.json")))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Now     int64           `json:"now"`
		JWKS    json.RawMessage `json:"jwks"`
		Vectors []struct {
			Name     string `json:"name"`
			Token    string `json:"token"`
			ClientID string `json:"client_id"`
			Issuer   string `json:"issuer"`
			Expect   struct {
				OK   map[string]any `json:"ok"`
				Code string         `json:"code"`
			} `json:"expect"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, v := range doc.Vectors {
		tk := oatk.New()
		must := func(err error) {
			if err != nil {
				t.Fatalf("%s: %v", v.Name, err)
			}
		}
		must(tk.WithJWKS(string(doc.JWKS)))
		must(tk.WithNow(time.Unix(doc.Now, 0)))
		if v.ClientID != "" {
			must(tk.WithClientID(v.ClientID))
		}
		if v.Issuer != "" {
			must(tk.WithIssuer(v.Issuer))
		}
		claims, err := tk.Validate(v.Token)
		if v.Expect.OK != nil {
			if err != nil {
				t.Errorf("%s: %v", v.Name, err)
			} else if !reflect.DeepEqual(map[string]any(claims), v.Expect.OK) {
				t.Errorf("%s: claims %v, want %v", v.Name, claims, v.Expect.OK)
			}
		} else {
			var e *oatk.Error
			if !errors.As(err, &e) || e.Code != v.Expect.Code {
				t.Errorf("%s: got %v, want code %s", v.Name, err, v.Expect.Code)
			}
		}
		tk.Close()
		ran++
	}
	t.Logf("ran %d shared vectors", ran)
	if ran < 20 {
		t.Fatalf("too few vectors ran: %d", ran)
	}
}
