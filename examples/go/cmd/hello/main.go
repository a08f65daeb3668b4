// Command hello is the seed's examples/web.py as a Go service: a token
// endpoint for trying things out, a page for any authenticated user, and an
// API that requires the claim username=xtof.
//
//	go run ./cmd/hello -addr 127.0.0.1:8000
//	curl -s "http://127.0.0.1:8000/api/token?username=xtof"   # a token
//	curl http://127.0.0.1:8000/api/hello -H "Authorization: Bearer $TOKEN"
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"

	"github.com/oatk/oatk/go/oatk"
)

// newMux wires the routes around a toolkit that holds the signing key.
func newMux(tk *oatk.Toolkit) http.Handler {
	mux := http.NewServeMux()
	// GET /api/token?username=xtof&groups=a,b: a token with these claims
	// (a value with commas becomes a list), as the seed's Token resource.
	mux.HandleFunc("GET /api/token", func(w http.ResponseWriter, r *http.Request) {
		claims := oatk.Claims{}
		for name, values := range r.URL.Query() {
			value := values[0]
			if strings.Contains(value, ",") {
				claims[name] = strings.Split(value, ",")
			} else {
				claims[name] = value
			}
		}
		token, err := tk.Mint(claims)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, token)
	})
	// Any authenticated user.
	mux.Handle("GET /{$}", tk.Protect(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<p>Hello, World!</p>")
	})))
	// Only xtof.
	mux.Handle("GET /api/hello", tk.Protect(oatk.Claims{"username": "xtof"})(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"hello": "world"})
		})))
	return mux
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "address to listen on")
	private := flag.String("private", "", "private key PEM file (default: a key generated at start)")
	flag.Parse()

	tk := oatk.New()
	defer tk.Close()
	var err error
	if *private != "" {
		err = tk.WithPrivate(*private)
	} else {
		var pem string
		if pem, _, err = oatk.GenerateKey("RS256"); err == nil {
			err = tk.WithPrivatePEM(pem)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
	log.Printf("liboatk %s, listening on http://%s", oatk.Version(), *addr)
	log.Fatal(http.ListenAndServe(*addr, newMux(tk)))
}
