package oatk

/*
#include "helpers.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"strings"
)

// Decision is what to answer a request, as core's guard decides it for every
// oatk binding (the Flask decorator, the Express middleware, C's oatk_guard).
type Decision struct {
	Allowed bool
	// 200 when allowed; 401 (no or invalid token) or 403 (claims not satisfied).
	HTTPStatus int
	// Why it was refused (e.g. ErrExpired, ErrClaims); OK when allowed or when
	// the request had no Bearer token.
	Reason Status
	// The verified claims, when allowed.
	Claims Claims
	// The plain-text body of a refusal, e.g. "Missing Authorization".
	Body string
	// The WWW-Authenticate header of a 401 (RFC 6750 3); "" otherwise.
	WWWAuthenticate string
}

// Check decides on a request from its Authorization header value ("" when
// absent) and the claims the route requires (nil: any valid token). The
// error is for failures that are not the client's fault (no key configured,
// provider unreachable): answer those with a 500.
func (t *Toolkit) Check(authorization string, required Claims) (*Decision, error) {
	req, err := jsonArg("required claims", required)
	if err != nil {
		return nil, err
	}
	defer free(req)
	return t.check(authorization, req)
}

func (t *Toolkit) check(authorization string, required *C.char) (*Decision, error) {
	var header *C.char
	if authorization != "" {
		// A NUL cannot cross into C: replace it, as liboatk replaces bytes
		// that are not UTF-8, so core refuses the token instead of the call failing.
		header = C.CString(strings.ReplaceAll(authorization, "\x00", "\uFFFD"))
		defer free(header)
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	var d *C.oatk_decision
	var msg *C.char
	if err := errorFrom(C.go_oatk_guard(t.ptr, header, required, &d, &msg), msg); err != nil {
		return nil, err
	}
	defer C.oatk_decision_free(d)
	decision := &Decision{
		Allowed:    bool(d.allowed),
		HTTPStatus: int(d.http_status),
		Reason:     Status(d.reason),
	}
	if d.claims_json != nil {
		claims, err := parseClaims(C.GoString(d.claims_json))
		if err != nil {
			return nil, err
		}
		decision.Claims = claims
	}
	if d.body != nil {
		decision.Body = C.GoString(d.body)
	}
	if d.www_authenticate != nil {
		decision.WWWAuthenticate = C.GoString(d.www_authenticate)
	}
	return decision, nil
}

type claimsKey struct{}

// ClaimsFrom returns the verified claims Protect put in the request's context.
func ClaimsFrom(ctx context.Context) (Claims, bool) {
	claims, ok := ctx.Value(claimsKey{}).(Claims)
	return claims, ok
}

// Protect returns net/http middleware that serves a request only when it
// carries a valid bearer token whose claims satisfy required (nil: any valid
// token), as the Python decorator does:
//
//   - no Authorization header: 401 "Missing Authorization", WWW-Authenticate: Bearer
//   - not a Bearer token, or an invalid, expired... one: 401 with the reason
//     and an RFC 6750 invalid_token challenge
//   - claims not satisfied: 403 with the reason
//   - otherwise next runs, with the claims in the context (ClaimsFrom)
//
// A failure that is not the client's fault (no key configured, provider
// unreachable) is logged and answered with 500.
func (t *Toolkit) Protect(required Claims) func(http.Handler) http.Handler {
	requiredJSON, reqErr := json.Marshal(required)
	if required == nil {
		requiredJSON = []byte("{}")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if reqErr != nil {
				log.Printf("oatk: required claims: %v", reqErr)
				http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
				return
			}
			req := C.CString(string(requiredJSON))
			defer free(req)
			decision, err := t.check(r.Header.Get("Authorization"), req)
			if err != nil {
				log.Printf("oatk: %v", err)
				http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
				return
			}
			if !decision.Allowed {
				if decision.WWWAuthenticate != "" {
					w.Header().Set("WWW-Authenticate", decision.WWWAuthenticate)
				}
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.Header().Set("X-Content-Type-Options", "nosniff")
				w.WriteHeader(decision.HTTPStatus)
				_, _ = w.Write([]byte(decision.Body))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, decision.Claims)))
		})
	}
}
