package oatk_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/oatk/oatk/go/oatk"
)

func Example() {
	priv, _, _ := oatk.GenerateKey("ES256")
	tk := oatk.New()
	defer tk.Close()
	_ = tk.WithPrivatePEM(priv)

	token, _ := tk.Mint(oatk.Claims{"hello": "world"})
	claims, err := tk.Validate(token)
	fmt.Println(claims["hello"], err)

	expired, _ := tk.Mint(oatk.Claims{"exp": 1})
	_, err = tk.Validate(expired)
	fmt.Println(errors.Is(err, oatk.ErrExpired), err.(*oatk.Error).Code)
	// Output:
	// world <nil>
	// true EXPIRED
}

// A handler only xtof may call: the middleware validates the Bearer token and
// matches the claims; the handler reads what it verified from the context.
func ExampleToolkit_Protect() {
	priv, _, _ := oatk.GenerateKey("ES256")
	tk := oatk.New()
	defer tk.Close()
	_ = tk.WithPrivatePEM(priv) // an app that only validates uses WithJWKS or UsingProvider

	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := oatk.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "hello %v", claims["username"])
	})
	api := httptest.NewServer(tk.Protect(oatk.Claims{"username": "xtof"})(hello))
	defer api.Close()

	call := func(authorization string) {
		req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		fmt.Printf("%d %q %s\n", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
	}
	xtof, _ := tk.Mint(oatk.Claims{"username": "xtof"})
	other, _ := tk.Mint(oatk.Claims{"username": "notxtof"})
	call("Bearer " + xtof)
	call("")
	call("Bearer " + other)
	// Output:
	// 200 "" hello xtof
	// 401 "Bearer" Missing Authorization
	// 403 "" claim username doesn't equal required value
}
