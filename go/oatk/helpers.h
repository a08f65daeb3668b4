/* C helpers for the cgo preambles of package oatk. */
#ifndef OATK_GO_HELPERS_H
#define OATK_GO_HELPERS_H
#include <stdlib.h>
#include <string.h>
#include "oatk.h"

// liboatk keeps the message of a failure per OS thread, and a goroutine may
// move to another OS thread between two cgo calls. So each helper below makes
// ONE liboatk call and, when it fails, copies the message in the same cgo
// call: *msg is malloc'd (free with C.free) or NULL on success.
#define GO_OATK(call)                                                   \
  do {                                                                  \
    oatk_status s_ = (call);                                            \
    *msg = s_ == OATK_OK ? NULL : strdup(oatk_last_error());            \
    return s_;                                                          \
  } while (0)

static inline oatk_toolkit *go_oatk_new(char **msg) {
  oatk_toolkit *t = oatk_toolkit_new();
  *msg = t ? NULL : strdup(oatk_last_error());
  return t;
}
// The setters that take one string (oatk_with_private, oatk_with_jwks,
// oatk_using_provider, ...) share a signature: Go passes which one.
typedef oatk_status (*go_oatk_setter)(oatk_toolkit *, const char *);
static inline oatk_status go_oatk_set(go_oatk_setter set, oatk_toolkit *t, const char *a, char **msg) {
  GO_OATK(set(t, a));
}
static inline oatk_status go_oatk_with_leeway(oatk_toolkit *t, uint64_t s, char **msg) { GO_OATK(oatk_with_leeway(t, s)); }
static inline oatk_status go_oatk_with_now(oatk_toolkit *t, int64_t s, char **msg) { GO_OATK(oatk_with_now(t, s)); }
static inline oatk_status go_oatk_with_require_exp(oatk_toolkit *t, bool r, char **msg) { GO_OATK(oatk_with_require_exp(t, r)); }
static inline oatk_status go_oatk_with_cache(oatk_toolkit *t, size_t n, char **msg) { GO_OATK(oatk_with_cache(t, n)); }
static inline oatk_status go_oatk_accept_any_audience(oatk_toolkit *t, char **msg) { GO_OATK(oatk_accept_any_audience(t)); }
static inline oatk_status go_oatk_accept_any_issuer(oatk_toolkit *t, char **msg) { GO_OATK(oatk_accept_any_issuer(t)); }
static inline oatk_status go_oatk_token(const oatk_toolkit *t, char **out, char **msg) { GO_OATK(oatk_token(t, out)); }
static inline oatk_status go_oatk_mint(const oatk_toolkit *t, const char *c, char **out, char **msg) { GO_OATK(oatk_mint(t, c, out)); }
static inline oatk_status go_oatk_jwks(const oatk_toolkit *t, char **out, char **msg) { GO_OATK(oatk_jwks(t, out)); }
static inline oatk_status go_oatk_validate(const oatk_toolkit *t, const char *tok, char **out, char **msg) {
  GO_OATK(oatk_validate(t, tok, out));
}
static inline oatk_status go_oatk_validate_with_claims(const oatk_toolkit *t, const char *tok, const char *req, char **out,
                                                char **msg) {
  GO_OATK(oatk_validate_with_claims(t, tok, req, out));
}
static inline oatk_status go_oatk_guard(const oatk_toolkit *t, const char *h, const char *req, oatk_decision **out,
                                 char **msg) {
  GO_OATK(oatk_guard(t, h, req, out));
}
static inline oatk_status go_oatk_decode(const char *tok, char **out, char **msg) { GO_OATK(oatk_decode(tok, out)); }
static inline oatk_status go_oatk_header(const char *tok, char **out, char **msg) { GO_OATK(oatk_header(tok, out)); }
static inline oatk_status go_oatk_generate_key(const char *alg, char **priv, char **pub, char **msg) {
  GO_OATK(oatk_generate_key(alg, priv, pub));
}
static inline oatk_status go_oatk_server_start_with(const oatk_toolkit *t, const oatk_server_options *o,
                                                    oatk_server **out, char **msg) {
  GO_OATK(oatk_server_start_with(t, o, out));
}
static inline oatk_status go_oatk_server_issue_token(const oatk_server *s, const char *user, const char *claims,
                                                     const char *client, const char *scope, char **out, char **msg) {
  GO_OATK(oatk_server_issue_token(s, user, claims, client, scope, out));
}
static inline oatk_status go_oatk_server_upsert_user(const oatk_server *s, const char *json, char **msg) {
  GO_OATK(oatk_server_upsert_user(s, json));
}
static inline oatk_status go_oatk_server_upsert_client(const oatk_server *s, const char *json, char **msg) {
  GO_OATK(oatk_server_upsert_client(s, json));
}

static inline oatk_status go_oatk_server_issue(const oatk_server *s, const char *req, char **out, char **msg) {
  GO_OATK(oatk_server_issue(s, req, out));
}
static inline oatk_status go_oatk_server_now(const oatk_server *s, int64_t *now, char **msg) {
  GO_OATK(oatk_server_now(s, now));
}
static inline oatk_status go_oatk_server_advance_clock(const oatk_server *s, int64_t secs, int64_t *now, char **msg) {
  GO_OATK(oatk_server_advance_clock(s, secs, now));
}
static inline oatk_status go_oatk_server_freeze_clock(const oatk_server *s, int64_t epoch, char **msg) {
  GO_OATK(oatk_server_freeze_clock(s, epoch));
}
static inline oatk_status go_oatk_server_reset_clock(const oatk_server *s, char **msg) {
  GO_OATK(oatk_server_reset_clock(s));
}
static inline oatk_status go_oatk_server_issuer_info(const oatk_server *s, const char *tenant, char **out, char **msg) {
  GO_OATK(oatk_server_issuer_info(s, tenant, out));
}
static inline oatk_status go_oatk_server_rotate_keys(const oatk_server *s, const char *tenant, char **kid, char **msg) {
  GO_OATK(oatk_server_rotate_keys(s, tenant, kid));
}
static inline oatk_status go_oatk_server_retire_old_keys(const oatk_server *s, const char *tenant, size_t *n,
                                                         char **msg) {
  GO_OATK(oatk_server_retire_old_keys(s, tenant, n));
}
#endif
