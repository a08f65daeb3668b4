/*
 * Tests of liboatk's C API: every function, NULL and non-UTF-8 arguments,
 * wrong paths, tampered / expired tokens, the token cache, 8 threads on one
 * toolkit, and the fake server over real HTTP. Run by `make test-ffi` plain, under valgrind
 * and under AddressSanitizer. Closes with "N passed, N failed".
 *
 * Usage: test_oatk            (OATK_EXPECTED_VERSION is set at build time)
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "oatk.h"

#ifndef OATK_EXPECTED_VERSION
#error "build with -DOATK_EXPECTED_VERSION=\"x.y.z\" (the workspace version)"
#endif

static int passed, failures;

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (cond) {                                                           \
      passed++;                                                           \
    } else {                                                              \
      failures++;                                                         \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);     \
    }                                                                     \
  } while (0)

/* Check a status; on mismatch print both names and the last error. */
#define CHECK_STATUS(call, expected)                                                          \
  do {                                                                                        \
    oatk_status got_ = (call);                                                                \
    if (got_ == (expected)) {                                                                 \
      passed++;                                                                               \
    } else {                                                                                  \
      failures++;                                                                             \
      fprintf(stderr, "FAIL %s:%d: %s\n  got %s, want %s (%s)\n", __FILE__, __LINE__, #call,  \
              oatk_status_name(got_), oatk_status_name(expected), oatk_last_error());         \
    }                                                                                         \
  } while (0)

#define CHECK_STR(a, b) CHECK((a) != NULL && strcmp((a), (b)) == 0)
#define CHECK_CONTAINS(haystack, needle) CHECK((haystack) != NULL && strstr((haystack), (needle)) != NULL)

static const char BAD_UTF8[] = "\xff\xfe\xfd";
static char tmpdir[256];
static char private_path[512], public_path[512], garbage_path[512], missing_path[512], jwks_path[512];
static char *private_pem, *public_pem, *other_private_pem;

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    exit(2);
  }
  fputs(text, f);
  fclose(f);
}

static char *strf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = malloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

/* A toolkit signing with the test's RSA key. */
static oatk_toolkit *signer(void) {
  oatk_toolkit *t = oatk_toolkit_new();
  CHECK_STATUS(oatk_with_private_pem(t, private_pem), OATK_OK);
  return t;
}

static char *mint(const oatk_toolkit *t, const char *claims) {
  char *token = NULL;
  CHECK_STATUS(oatk_mint(t, claims, &token), OATK_OK);
  return token;
}

static void test_names_and_version(void) {
  CHECK_STR(oatk_version(), OATK_EXPECTED_VERSION);
  CHECK_STR(oatk_last_error(), "");
  CHECK_STR(oatk_status_name(OATK_OK), "OATK_OK");
  CHECK_STR(oatk_status_name(OATK_ERR_EXPIRED), "OATK_ERR_EXPIRED");
  CHECK_STR(oatk_status_name(OATK_ERR_PANIC), "OATK_ERR_PANIC");
  CHECK_STR(oatk_status_name(OATK_ERR_MISSING_CLAIM), "OATK_ERR_MISSING_CLAIM");
  CHECK_STR(oatk_status_name((oatk_status)999), "OATK_UNKNOWN_STATUS");
  CHECK_STR(oatk_status_code(OATK_ERR_SIGNATURE), "SIGNATURE");
  CHECK_STR(oatk_status_code(OATK_ERR_AUDIENCE), "AUDIENCE");
  CHECK_STR(oatk_status_code((oatk_status)-1), "UNKNOWN");
  /* The numbers are part of the ABI. */
  CHECK(OATK_OK == 0 && OATK_ERR_INVALID_ARGUMENT == 1 && OATK_ERR_SIGNATURE == 8 && OATK_ERR_EXPIRED == 9);
  CHECK(OATK_ERR_CLAIMS == 13 && OATK_ERR_SERVER == 15 && OATK_ERR_PANIC == 16 && OATK_ERR_MISSING_CLAIM == 17);
  for (int s = 0; s <= 17; s++) CHECK(strncmp(oatk_status_name((oatk_status)s), "OATK_", 5) == 0);
}

static void test_generate_key(void) {
  /* A PS256 key is an RSA key: tokens are then signed with the family's default, RS256. */
  const char *algs[] = {"RS256", "PS256", "ES256", "ES384", "EdDSA", NULL};
  const char *signs_with[] = {"RS256", "RS256", "ES256", "ES384", "EdDSA"};
  for (int i = 0; algs[i]; i++) {
    char *priv = NULL, *pub = NULL;
    CHECK_STATUS(oatk_generate_key(algs[i], &priv, &pub), OATK_OK);
    CHECK(priv && strncmp(priv, "-----BEGIN PRIVATE KEY-----", 27) == 0);
    CHECK(pub && strncmp(pub, "-----BEGIN PUBLIC KEY-----", 26) == 0);
    /* The pair works: mint with the private half, validate with the public one. */
    oatk_toolkit *a = oatk_toolkit_new(), *b = oatk_toolkit_new();
    CHECK_STATUS(oatk_with_private_pem(a, priv), OATK_OK);
    CHECK_STATUS(oatk_with_public_pem(b, pub), OATK_OK);
    char *token = mint(a, "{\"alg\":\"test\"}");
    CHECK_STATUS(oatk_validate(b, token, NULL), OATK_OK);
    char *header = NULL;
    CHECK_STATUS(oatk_header(token, &header), OATK_OK);
    char *want = strf("\"alg\":\"%s\"", signs_with[i]);
    CHECK_CONTAINS(header, want);
    free(want);
    oatk_string_free(header);
    oatk_string_free(token);
    oatk_toolkit_free(a);
    oatk_toolkit_free(b);
    oatk_string_free(priv);
    oatk_string_free(pub);
  }
  char *priv = NULL;
  CHECK_STATUS(oatk_generate_key(NULL, &priv, NULL), OATK_OK); /* NULL: RS256; public half not wanted */
  oatk_string_free(priv);
  priv = NULL;
  CHECK_STATUS(oatk_generate_key("rs256", &priv, NULL), OATK_ERR_INVALID_ARGUMENT); /* case-sensitive */
  CHECK(priv == NULL);                                                              /* written only on success */
  CHECK(strlen(oatk_last_error()) > 0);
  CHECK_STATUS(oatk_generate_key(BAD_UTF8, &priv, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_generate_key("ES256", NULL, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK(priv == NULL);
}

static void test_keys_from_files(void) {
  oatk_toolkit *t = oatk_toolkit_new();
  CHECK(t != NULL);
  CHECK_STATUS(oatk_with_private(t, private_path), OATK_OK);
  CHECK_STR(oatk_last_error(), "");
  CHECK_STATUS(oatk_with_private(t, missing_path), OATK_ERR_IO);
  CHECK_CONTAINS(oatk_last_error(), missing_path); /* the message names the file */
  CHECK_STATUS(oatk_with_private(t, garbage_path), OATK_ERR_KEY);
  CHECK_CONTAINS(oatk_last_error(), garbage_path);
  CHECK_STATUS(oatk_with_private(t, tmpdir), OATK_ERR_IO); /* a directory */
  CHECK_STATUS(oatk_with_public(t, public_path), OATK_OK);
  CHECK_STATUS(oatk_with_public(t, private_path), OATK_OK); /* a private key file gives its public half */
  CHECK_STATUS(oatk_with_public(t, missing_path), OATK_ERR_IO);
  CHECK_STATUS(oatk_with_public(t, garbage_path), OATK_ERR_KEY);
  CHECK_STATUS(oatk_with_private_pem(t, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), OATK_ERR_KEY);
  CHECK_STATUS(oatk_with_private_pem(t, "hello"), OATK_ERR_KEY);
  CHECK_STATUS(oatk_with_public_pem(t, "hello"), OATK_ERR_KEY);
  CHECK_STATUS(oatk_with_public_pem(t, public_pem), OATK_OK);

  /* JWKS: export, then load it as text and as a file. */
  char *jwks = NULL;
  CHECK_STATUS(oatk_jwks(t, &jwks), OATK_OK);
  CHECK_CONTAINS(jwks, "\"keys\"");
  CHECK_CONTAINS(jwks, "\"kty\": \"RSA\"");
  write_file(jwks_path, jwks);
  oatk_toolkit *u = oatk_toolkit_new();
  CHECK_STATUS(oatk_with_jwks(u, jwks), OATK_OK);
  CHECK_STATUS(oatk_with_jwks(u, jwks_path), OATK_OK);
  CHECK_STATUS(oatk_with_jwks(u, missing_path), OATK_ERR_IO);
  CHECK_STATUS(oatk_with_jwks(u, "{\"keys\": [{\"kty\": \"RSA\", \"n\": 1}]}"), OATK_ERR_JWKS);
  CHECK_STATUS(oatk_with_jwks(u, "{not json"), OATK_ERR_JWKS);
  CHECK_STATUS(oatk_with_jwks(u, garbage_path), OATK_ERR_JWKS);
  /* A token signed with the private key validates against the exported JWKS. */
  oatk_toolkit *s = signer();
  char *token = mint(s, "{\"hello\":\"world\"}");
  CHECK_STATUS(oatk_validate(u, token, NULL), OATK_OK);
  oatk_string_free(token);
  oatk_toolkit_free(s);
  oatk_string_free(jwks);
  oatk_toolkit_free(u);
  oatk_toolkit_free(t);
}

static void test_nulls_and_bad_utf8(void) {
  char *out = NULL;
  oatk_decision *d = NULL;
  oatk_server *srv = NULL;
  oatk_toolkit *t = signer();
  char *token = mint(t, "{}");

  /* A NULL toolkit. */
  CHECK_STATUS(oatk_with_private(NULL, private_path), OATK_ERR_INVALID_ARGUMENT);
  CHECK(strlen(oatk_last_error()) > 0);
  CHECK_STATUS(oatk_with_private_pem(NULL, private_pem), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_public(NULL, public_path), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_public_pem(NULL, public_pem), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_jwks(NULL, "{}"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_client_id(NULL, "x"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_issuer(NULL, "x"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_algorithm(NULL, "RS256"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_leeway(NULL, 1), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_require_exp(NULL, true), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_cache(NULL, 8), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_using_provider(NULL, "http://localhost:1"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_claims(NULL, "{}"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_token(NULL, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_mint(NULL, "{}", &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_jwks(NULL, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_validate(NULL, token, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_validate_with_claims(NULL, token, "{}", &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_guard(NULL, "Bearer x", NULL, &d), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_issue_token(NULL, "xtof", NULL, "c", "openid", &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_upsert_user(NULL, "{\"username\":\"xtof\"}"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_CONTAINS(oatk_last_error(), "server is NULL");
  CHECK_STATUS(oatk_server_upsert_client(NULL, "{\"client_id\":\"c\"}"), OATK_ERR_INVALID_ARGUMENT);
  CHECK(out == NULL && d == NULL);

  /* NULL string arguments and NULL outputs. */
  CHECK_STATUS(oatk_with_private(t, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_private_pem(t, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_public(t, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_public_pem(t, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_jwks(t, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_client_id(t, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_issuer(t, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_algorithm(t, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_using_provider(t, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_claims(t, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_token(t, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_mint(t, NULL, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_mint(t, "{}", NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_jwks(t, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_validate(t, NULL, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_validate(t, token, NULL), OATK_OK); /* the claims output may be NULL */
  CHECK_STATUS(oatk_validate_with_claims(t, NULL, "{}", &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_validate_with_claims(t, token, NULL, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_validate_with_claims(t, token, "{}", NULL), OATK_OK);
  CHECK_STATUS(oatk_decode(NULL, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_decode(token, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_header(NULL, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_header(token, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_guard(t, NULL, NULL, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_start(NULL, NULL, 0, NULL, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_start_with(NULL, NULL, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK(out == NULL && srv == NULL);

  /* Strings that are not UTF-8. */
  CHECK_STATUS(oatk_with_private(t, BAD_UTF8), OATK_ERR_INVALID_ARGUMENT);
  CHECK_CONTAINS(oatk_last_error(), "UTF-8");
  CHECK_STATUS(oatk_with_private_pem(t, BAD_UTF8), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_public(t, BAD_UTF8), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_public_pem(t, BAD_UTF8), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_jwks(t, BAD_UTF8), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_client_id(t, BAD_UTF8), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_issuer(t, BAD_UTF8), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_algorithm(t, BAD_UTF8), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_using_provider(t, BAD_UTF8), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_claims(t, "{\"a\": \"\xff\"}"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_mint(t, BAD_UTF8, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_validate(t, BAD_UTF8, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_validate_with_claims(t, token, BAD_UTF8, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_decode(BAD_UTF8, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_header(BAD_UTF8, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_guard(t, NULL, BAD_UTF8, &d), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_start(NULL, BAD_UTF8, 0, NULL, &srv), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_start(NULL, NULL, 0, BAD_UTF8, &srv), OATK_ERR_INVALID_ARGUMENT);
  CHECK(out == NULL && d == NULL && srv == NULL);

  /* The toolkit is still fine after all that. */
  CHECK_STATUS(oatk_validate(t, token, NULL), OATK_OK);

  /* Freeing NULL is a no-op; getters of a NULL server give NULL. */
  oatk_string_free(NULL);
  oatk_toolkit_free(NULL);
  oatk_decision_free(NULL);
  oatk_server_shutdown(NULL);
  oatk_server_stop(NULL);
  CHECK(oatk_server_url(NULL) == NULL && oatk_server_issuer(NULL) == NULL && oatk_server_jwks(NULL) == NULL);
  CHECK(oatk_server_discovery_url(NULL) == NULL);
  oatk_string_free(token);
  oatk_toolkit_free(t);
}

static void test_cli_session(void) {
  /* with_private private_key.pem with_jwks certs.json claims '{ "hello" : "world" }' token */
  oatk_toolkit *t = oatk_toolkit_new();
  char *jwks = NULL, *token = NULL, *claims = NULL, *decoded = NULL, *header = NULL;
  CHECK_STATUS(oatk_with_public(t, public_path), OATK_OK);
  CHECK_STATUS(oatk_jwks(t, &jwks), OATK_OK);
  oatk_toolkit_free(t);

  t = oatk_toolkit_new();
  CHECK_STATUS(oatk_token(t, &token), OATK_OK); /* no private key: NULL, as Python's None */
  CHECK(token == NULL);
  CHECK_STATUS(oatk_with_private(t, private_path), OATK_OK);
  CHECK_STATUS(oatk_with_jwks(t, jwks), OATK_OK);
  CHECK_STATUS(oatk_claims(t, "{ \"hello\" : \"world\" }"), OATK_OK);
  CHECK_STATUS(oatk_token(t, &token), OATK_OK);
  CHECK(token != NULL && strchr(token, '.') != NULL);

  /* with_jwks certs.json from_file token.txt validate */
  oatk_toolkit *v = oatk_toolkit_new();
  CHECK_STATUS(oatk_with_jwks(v, jwks), OATK_OK);
  CHECK_STATUS(oatk_validate(v, token, &claims), OATK_OK);
  CHECK_STR(claims, "{\"hello\":\"world\"}");
  /* Whitespace and a Bearer prefix are ignored. */
  char *bearer = strf("  Bearer %s\n", token);
  CHECK_STATUS(oatk_validate(v, bearer, NULL), OATK_OK);
  free(bearer);

  /* from_file token.txt decode / header */
  CHECK_STATUS(oatk_decode(token, &decoded), OATK_OK);
  CHECK_STR(decoded, "{\"hello\":\"world\"}");
  CHECK_STATUS(oatk_header(token, &header), OATK_OK);
  CHECK_CONTAINS(header, "\"alg\":\"RS256\"");
  CHECK_CONTAINS(header, "\"typ\":\"JWT\"");
  CHECK_CONTAINS(header, "\"kid\":");
  CHECK_STATUS(oatk_decode("not a token", &decoded), OATK_ERR_MALFORMED);

  /* Claims that are not a JSON object. */
  CHECK_STATUS(oatk_claims(t, "{ \"hello\" : "), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_claims(t, "[1, 2]"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_mint(t, "42", &decoded), OATK_ERR_INVALID_ARGUMENT);

  /* with_algorithm */
  CHECK_STATUS(oatk_with_algorithm(t, "ES256"), OATK_ERR_KEY); /* does not fit an RSA key */
  CHECK_STATUS(oatk_with_algorithm(t, "nope"), OATK_ERR_INVALID_ARGUMENT);
  oatk_toolkit *ps = signer();
  CHECK_STATUS(oatk_with_algorithm(ps, "PS256"), OATK_OK);
  char *ps_token = mint(ps, "{}"), *ps_header = NULL;
  CHECK_STATUS(oatk_header(ps_token, &ps_header), OATK_OK);
  CHECK_CONTAINS(ps_header, "\"alg\":\"PS256\"");
  CHECK_STATUS(oatk_validate(ps, ps_token, NULL), OATK_OK);
  oatk_string_free(ps_header);
  oatk_string_free(ps_token);
  oatk_toolkit_free(ps);

  oatk_string_free(header);
  oatk_string_free(decoded);
  oatk_string_free(claims);
  oatk_string_free(token);
  oatk_string_free(jwks);
  oatk_toolkit_free(v);
  oatk_toolkit_free(t);
}

static void test_bad_tokens(void) {
  oatk_toolkit *t = signer();
  char *token = mint(t, "{\"username\":\"xtof\"}");
  size_t len = strlen(token);
  char *out = NULL;

  /* Tampered signature, tampered payload. */
  char *bad = strdup(token);
  bad[len - 2] = bad[len - 2] == 'A' ? 'B' : 'A';
  CHECK_STATUS(oatk_validate(t, bad, &out), OATK_ERR_SIGNATURE);
  CHECK(out == NULL);
  CHECK(strlen(oatk_last_error()) > 0);
  strcpy(bad, token);
  char *payload = strchr(bad, '.') + 1;
  payload[2] = payload[2] == 'A' ? 'B' : 'A';
  CHECK_STATUS(oatk_validate(t, bad, NULL), OATK_ERR_SIGNATURE);
  free(bad);

  /* Malformed. */
  CHECK_STATUS(oatk_validate(t, "", NULL), OATK_ERR_MALFORMED);
  CHECK_STATUS(oatk_validate(t, "a.b", NULL), OATK_ERR_MALFORMED);
  CHECK_STATUS(oatk_validate(t, "!!.e30.x", NULL), OATK_ERR_MALFORMED);
  char *truncated = strndup(token, 10); /* cut inside the header */
  CHECK_STATUS(oatk_validate(t, truncated, NULL), OATK_ERR_MALFORMED);
  free(truncated);

  /* alg none is refused; {"alg":"none"}.{} */
  CHECK_STATUS(oatk_validate(t, "eyJhbGciOiJub25lIn0.e30.", NULL), OATK_ERR_UNSUPPORTED_ALGORITHM);

  /* Signed by another key: unknown kid. */
  oatk_toolkit *other = oatk_toolkit_new();
  CHECK_STATUS(oatk_with_private_pem(other, other_private_pem), OATK_OK);
  char *foreign = mint(other, "{}");
  CHECK_STATUS(oatk_validate(t, foreign, NULL), OATK_ERR_UNKNOWN_KEY);
  oatk_string_free(foreign);
  oatk_toolkit_free(other);

  /* Expired: minted with an exp in the past; leeway lets it through. */
  long now = (long)time(NULL);
  char *claims = strf("{\"username\":\"xtof\",\"exp\":%ld}", now - 60);
  char *expired = mint(t, claims);
  free(claims);
  CHECK_STATUS(oatk_validate(t, expired, NULL), OATK_ERR_EXPIRED);
  CHECK_STR(oatk_status_code(OATK_ERR_EXPIRED), "EXPIRED");
  CHECK_STATUS(oatk_validate_with_claims(t, expired, "{\"username\":\"xtof\"}", NULL), OATK_ERR_EXPIRED);
  /* Not yet valid. */
  claims = strf("{\"nbf\":%ld}", now + 3600);
  char *early = mint(t, claims);
  free(claims);
  CHECK_STATUS(oatk_validate(t, early, NULL), OATK_ERR_NOT_YET_VALID);
  CHECK_STATUS(oatk_with_leeway(t, 120), OATK_OK);
  CHECK_STATUS(oatk_validate(t, expired, NULL), OATK_OK);
  CHECK_STATUS(oatk_validate(t, early, NULL), OATK_ERR_NOT_YET_VALID);
  CHECK_STATUS(oatk_with_leeway(t, 0), OATK_OK);
  /* An injected clock: valid again an hour ago, and back to the system clock. */
  CHECK_STATUS(oatk_with_now(NULL, 0), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_with_now(t, now - 3600), OATK_OK);
  CHECK_STATUS(oatk_validate(t, expired, NULL), OATK_OK);
  CHECK_STATUS(oatk_with_now(t, now + 7200), OATK_OK);
  CHECK_STATUS(oatk_validate(t, early, NULL), OATK_OK);
  CHECK_STATUS(oatk_with_now(t, -1), OATK_OK);
  CHECK_STATUS(oatk_validate(t, expired, NULL), OATK_ERR_EXPIRED);
  oatk_string_free(early);
  oatk_string_free(expired);

  /* Required exp. */
  CHECK_STATUS(oatk_with_require_exp(t, true), OATK_OK);
  CHECK_STATUS(oatk_validate(t, token, NULL), OATK_ERR_MISSING_CLAIM);
  CHECK_STATUS(oatk_with_require_exp(t, false), OATK_OK);
  CHECK_STATUS(oatk_validate(t, token, NULL), OATK_OK);

  /* Audience and issuer. */
  char *aud_token = mint(t, "{\"aud\":\"api\",\"iss\":\"https://issuer.example\"}");
  oatk_toolkit *strict = signer();
  CHECK_STATUS(oatk_with_client_id(strict, "other"), OATK_OK);
  CHECK_STATUS(oatk_validate(strict, aud_token, NULL), OATK_ERR_AUDIENCE);
  CHECK_STATUS(oatk_with_client_id(strict, "api"), OATK_OK);
  CHECK_STATUS(oatk_validate(strict, aud_token, NULL), OATK_OK);
  CHECK_STATUS(oatk_with_issuer(strict, "https://evil.example"), OATK_OK);
  CHECK_STATUS(oatk_validate(strict, aud_token, NULL), OATK_ERR_ISSUER);
  CHECK_STATUS(oatk_with_issuer(strict, "https://issuer.example"), OATK_OK);
  CHECK_STATUS(oatk_validate(strict, aud_token, NULL), OATK_OK);
  oatk_toolkit_free(strict);
  oatk_string_free(aud_token);

  /* Required claims. */
  char *claims_out = NULL;
  CHECK_STATUS(oatk_validate_with_claims(t, token, "{\"username\":\"xtof\"}", &claims_out), OATK_OK);
  CHECK_STR(claims_out, "{\"username\":\"xtof\"}");
  oatk_string_free(claims_out);
  CHECK_STATUS(oatk_validate_with_claims(t, token, "{\"username\":\"notxtof\"}", NULL), OATK_ERR_CLAIMS);
  CHECK_STR(oatk_last_error(), "claim username doesn't equal required value");
  CHECK_STATUS(oatk_validate_with_claims(t, token, "{\"email\":\"x\"}", NULL), OATK_ERR_CLAIMS);
  CHECK_STATUS(oatk_validate_with_claims(t, token, "{\"username\":", NULL), OATK_ERR_INVALID_ARGUMENT);

  /* No key at all. */
  oatk_toolkit *empty = oatk_toolkit_new();
  CHECK_STATUS(oatk_validate(empty, token, NULL), OATK_ERR_KEY);
  CHECK_STATUS(oatk_mint(empty, "{}", &out), OATK_ERR_KEY);
  CHECK_STATUS(oatk_jwks(empty, &out), OATK_ERR_KEY);
  CHECK(out == NULL);
  oatk_toolkit_free(empty);

  oatk_string_free(token);
  oatk_toolkit_free(t);
}

static double monotonic_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The fastest of 5 rounds of n validations of token, in seconds. */
static double fastest_validations(const oatk_toolkit *t, const char *token, int n) {
  double best = 1e9;
  for (int round = 0; round < 5; round++) {
    double start = monotonic_seconds();
    for (int i = 0; i < n; i++)
      if (oatk_validate(t, token, NULL) != OATK_OK) return 1e9;
    double took = monotonic_seconds() - start;
    if (took < best) best = took;
  }
  return best;
}

/* The token cache: a repeat skips the signature check (measurably: a P-384
 * verification costs several times a cache hit), and exp, a tampered copy,
 * new keys and capacity 0 still behave. */
static void test_cache(void) {
  oatk_toolkit *t = oatk_toolkit_new();
  char *pem = NULL;
  CHECK_STATUS(oatk_generate_key("ES384", &pem, NULL), OATK_OK);
  CHECK_STATUS(oatk_with_private_pem(t, pem), OATK_OK);
  long now = (long)time(NULL);
  char *claims = strf("{\"username\":\"xtof\",\"exp\":%ld}", now + 60);
  char *token = mint(t, claims), *out = NULL;
  double uncached = fastest_validations(t, token, 20);

  CHECK_STATUS(oatk_with_cache(t, 16), OATK_OK);
  CHECK_STATUS(oatk_validate(t, token, &out), OATK_OK); /* verified once, remembered */
  CHECK_STR(out, claims);
  oatk_string_free(out);
  out = NULL;
  double cached = fastest_validations(t, token, 20);
  CHECK(cached * 2 < uncached);
  if (!(cached * 2 < uncached)) fprintf(stderr, "  cached %.6fs, uncached %.6fs\n", cached, uncached);
  CHECK_STATUS(oatk_validate(t, token, &out), OATK_OK); /* the same claims from the cache */
  CHECK_STR(out, claims);
  oatk_string_free(out);

  /* Time is checked on every call, cached or not. */
  CHECK_STATUS(oatk_with_now(t, now + 120), OATK_OK);
  CHECK_STATUS(oatk_validate(t, token, NULL), OATK_ERR_EXPIRED);
  CHECK_STATUS(oatk_with_now(t, -1), OATK_OK);
  /* A tampered copy of a cached token is still refused. */
  char *bad = strdup(token);
  size_t len = strlen(bad);
  bad[len - 2] = bad[len - 2] == 'A' ? 'B' : 'A';
  CHECK_STATUS(oatk_validate(t, bad, NULL), OATK_ERR_SIGNATURE);
  free(bad);
  /* New keys invalidate it: the token's key is no longer trusted. */
  CHECK_STATUS(oatk_with_private_pem(t, other_private_pem), OATK_OK);
  CHECK_STATUS(oatk_validate(t, token, NULL), OATK_ERR_UNKNOWN_KEY);
  CHECK_STATUS(oatk_with_private_pem(t, pem), OATK_OK);
  /* Capacity 0 turns it off again; validation is unchanged. */
  CHECK_STATUS(oatk_with_cache(t, 0), OATK_OK);
  CHECK_STATUS(oatk_validate(t, token, NULL), OATK_OK);

  free(claims);
  oatk_string_free(token);
  oatk_string_free(pem);
  oatk_toolkit_free(t);
}

static void test_guard(void) {
  oatk_toolkit *t = signer();
  char *good = mint(t, "{\"username\":\"xtof\",\"groups\":[\"a\",\"b\"]}");
  char *other = mint(t, "{\"username\":\"notxtof\"}");
  char *good_header = strf("Bearer %s", good), *other_header = strf("Bearer %s", other);
  oatk_decision *d = NULL;

  CHECK_STATUS(oatk_guard(t, NULL, "{\"username\":\"xtof\"}", &d), OATK_OK);
  CHECK(d && !d->allowed && d->http_status == 401 && d->reason == OATK_OK && d->claims_json == NULL);
  CHECK_STR(d->body, "Missing Authorization");
  CHECK_STR(d->www_authenticate, "Bearer");
  oatk_decision_free(d);

  CHECK_STATUS(oatk_guard(t, "Basic dXNlcjpwYXNz", NULL, &d), OATK_OK);
  CHECK(d->http_status == 401);
  CHECK(d->www_authenticate && strncmp(d->www_authenticate, "Bearer error=\"invalid_token\"", 28) == 0);
  oatk_decision_free(d);

  CHECK_STATUS(oatk_guard(t, "Bearer \xff\xfe", NULL, &d), OATK_OK); /* not UTF-8: refused, not failed */
  CHECK(d->http_status == 401 && d->reason == OATK_ERR_MALFORMED);
  oatk_decision_free(d);

  CHECK_STATUS(oatk_guard(t, other_header, "{\"username\":\"xtof\"}", &d), OATK_OK);
  CHECK(!d->allowed && d->http_status == 403 && d->reason == OATK_ERR_CLAIMS && d->www_authenticate == NULL);
  CHECK_STR(d->body, "claim username doesn't equal required value");
  oatk_decision_free(d);

  CHECK_STATUS(oatk_guard(t, good_header, "{\"username\":\"xtof\",\"groups\":[\"b\"]}", &d), OATK_OK);
  CHECK(d->allowed && d->http_status == 200 && d->reason == OATK_OK && d->body == NULL);
  CHECK_STR(d->claims_json, "{\"username\":\"xtof\",\"groups\":[\"a\",\"b\"]}");
  oatk_decision_free(d);

  CHECK_STATUS(oatk_guard(t, good_header, NULL, &d), OATK_OK); /* any valid token */
  CHECK(d->allowed);
  oatk_decision_free(d);

  char *expired = strf("{\"exp\":%ld}", (long)time(NULL) - 10);
  char *expired_token = mint(t, expired);
  char *expired_header = strf("bearer %s", expired_token);
  CHECK_STATUS(oatk_guard(t, expired_header, NULL, &d), OATK_OK);
  CHECK(d->http_status == 401 && d->reason == OATK_ERR_EXPIRED);
  CHECK_CONTAINS(d->www_authenticate, "error=\"invalid_token\"");
  oatk_decision_free(d);

  /* A setup failure (no key) is an error status, not a decision. */
  oatk_toolkit *empty = oatk_toolkit_new();
  d = NULL;
  CHECK_STATUS(oatk_guard(empty, good_header, NULL, &d), OATK_ERR_KEY);
  CHECK(d == NULL);
  oatk_toolkit_free(empty);

  free(expired);
  free(expired_header);
  oatk_string_free(expired_token);
  free(good_header);
  free(other_header);
  oatk_string_free(good);
  oatk_string_free(other);
  oatk_toolkit_free(t);
}

/* 8 threads validating (and minting) with one const toolkit at once. */
#define THREADS 8
#define ROUNDS 25

typedef struct worker {
  const oatk_toolkit *toolkit;
  const char *token;
  const char *expired;
  int index;
  int ok;
} worker;

static void *validate_many(void *arg) {
  worker *w = arg;
  w->ok = 1;
  for (int i = 0; i < ROUNDS; i++) {
    char *claims = NULL;
    if (oatk_validate(w->toolkit, w->token, &claims) != OATK_OK || strcmp(claims, "{\"shared\":true}") != 0)
      w->ok = 0;
    oatk_string_free(claims);
    /* The last error is per thread: this failure is ours alone. */
    if (oatk_validate(w->toolkit, w->expired, NULL) != OATK_ERR_EXPIRED || strlen(oatk_last_error()) == 0)
      w->ok = 0;
    char own_claims[64], *own = NULL, *back = NULL;
    snprintf(own_claims, sizeof own_claims, "{\"thread\":%d,\"round\":%d}", w->index, i);
    if (oatk_mint(w->toolkit, own_claims, &own) != OATK_OK) w->ok = 0;
    if (oatk_validate(w->toolkit, own, &back) != OATK_OK || strcmp(back, own_claims) != 0) w->ok = 0;
    if (strcmp(oatk_last_error(), "") != 0) w->ok = 0;
    oatk_string_free(back);
    oatk_string_free(own);
  }
  return NULL;
}

static void test_threads(void) {
  oatk_toolkit *t = oatk_toolkit_new();
  char *pem = NULL;
  /* ES256 keeps this fast under valgrind. */
  CHECK_STATUS(oatk_generate_key("ES256", &pem, NULL), OATK_OK);
  CHECK_STATUS(oatk_with_private_pem(t, pem), OATK_OK);
  char *token = mint(t, "{\"shared\":true}");
  char *expired = mint(t, "{\"exp\":1}");
  pthread_t threads[THREADS];
  worker workers[THREADS];
  for (int i = 0; i < THREADS; i++) {
    workers[i] = (worker){t, token, expired, i, 0};
    CHECK(pthread_create(&threads[i], NULL, validate_many, &workers[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(threads[i], NULL);
    CHECK(workers[i].ok);
  }
  oatk_string_free(expired);
  oatk_string_free(token);
  oatk_string_free(pem);
  oatk_toolkit_free(t);
}

static void test_server(void) {
  /* A config with a confidential client allowed the client_credentials grant. */
  char config_path[600];
  snprintf(config_path, sizeof config_path, "%s/oatk.toml", tmpdir);
  write_file(config_path,
             "access_token_lifetime = 300\n"
             "[[users]]\nusername = \"xtof\"\nclaims = { name = \"Christophe VG\" }\n"
             "[[clients]]\nclient_id = \"svc\"\nclient_secret = \"s3cret\"\n"
             "grant_types = [\"client_credentials\"]\nscope = \"api\"\n");

  oatk_toolkit *t = signer();
  oatk_server *s = NULL;
  CHECK_STATUS(oatk_server_start(t, "localhost", 0, missing_path, &s), OATK_ERR_IO);
  CHECK(s == NULL);
  CHECK_STATUS(oatk_server_start(t, "localhost", 0, garbage_path, &s), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_start(t, "localhost", 0, config_path, &s), OATK_OK);
  if (!s) {
    oatk_toolkit_free(t);
    return;
  }
  const char *url = oatk_server_url(s);
  CHECK(url && strncmp(url, "http://localhost:", 17) == 0 && http_url_port(url) > 0);
  CHECK_STR(oatk_server_issuer(s), url);
  char *want_discovery = strf("%s/.well-known/openid-configuration", url);
  CHECK_STR(oatk_server_discovery_url(s), want_discovery);
  free(want_discovery);

  /* The same port again: in use. */
  oatk_server *twice = NULL;
  CHECK_STATUS(oatk_server_start(NULL, "localhost", (uint16_t)http_url_port(url), NULL, &twice), OATK_ERR_SERVER);
  CHECK(twice == NULL);

  /* Discovery and JWKS over real HTTP. */
  http_response r;
  CHECK(http_request(url, "GET", "/.well-known/openid-configuration", NULL, NULL, &r) == 0);
  CHECK(r.status == 200);
  char *issuer = json_string_field(r.body, "issuer"), *jwks_uri = json_string_field(r.body, "jwks_uri");
  char *token_endpoint = json_string_field(r.body, "token_endpoint");
  CHECK_STR(issuer, url);
  char *want_jwks_uri = strf("%s/oauth/certs", url);
  CHECK_STR(jwks_uri, want_jwks_uri);
  CHECK(token_endpoint != NULL);
  free(want_jwks_uri);
  free(token_endpoint);
  free(issuer);
  free(jwks_uri);
  http_response_free(&r);
  CHECK(http_request(url, "GET", "/oauth/certs", NULL, NULL, &r) == 0);
  CHECK(r.status == 200);
  CHECK_STR(r.body, oatk_server_jwks(s));
  /* It publishes our key: the kid of a token we mint is in it. */
  char *ours = mint(t, "{}"), *header = NULL;
  CHECK_STATUS(oatk_header(ours, &header), OATK_OK);
  char *kid = header ? json_string_field(header, "kid") : NULL;
  CHECK(kid != NULL && strstr(r.body, kid) != NULL);
  free(kid);
  oatk_string_free(header);
  oatk_string_free(ours);
  http_response_free(&r);

  /* A service trusting the provider, given its discovery document. */
  oatk_toolkit *service = oatk_toolkit_new();
  CHECK_STATUS(oatk_using_provider(service, oatk_server_discovery_url(s)), OATK_OK);
  CHECK_STATUS(oatk_with_issuer(service, oatk_server_issuer(s)), OATK_OK);
  /* A provider's tokens need an audience or its waiver (tokens of svc, test, ci below). */
  {
    char *issued = NULL;
    CHECK_STATUS(oatk_server_issue_token(s, "xtof", NULL, NULL, NULL, &issued), OATK_OK);
    char *at = json_string_field(issued, "access_token");
    CHECK_STATUS(oatk_validate(service, at, NULL), OATK_ERR_INVALID_ARGUMENT);
    CHECK(strstr(oatk_last_error(), "accept_any_audience") != NULL);
    oatk_toolkit *strict = oatk_toolkit_new();
    CHECK_STATUS(oatk_using_provider(strict, oatk_server_url(s)), OATK_OK);
    CHECK_STATUS(oatk_with_client_id(strict, "test"), OATK_OK);
    CHECK_STATUS(oatk_validate(strict, at, NULL), OATK_OK);
    CHECK_STATUS(oatk_accept_any_issuer(strict), OATK_OK);
    CHECK_STATUS(oatk_accept_any_issuer(NULL), OATK_ERR_INVALID_ARGUMENT);
    oatk_toolkit_free(strict);
    free(at);
    oatk_string_free(issued);
  }
  CHECK_STATUS(oatk_accept_any_audience(service), OATK_OK);

  /* client_credentials with client_secret_basic (svc:s3cret). */
  CHECK(http_request(url, "POST", "/oauth/token",
                     "Authorization: Basic c3ZjOnMzY3JldA==\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n",
                     "grant_type=client_credentials&scope=api", &r) == 0);
  CHECK(r.status == 200);
  char *access = r.body ? json_string_field(r.body, "access_token") : NULL;
  CHECK(access != NULL);
  char *claims = NULL;
  CHECK_STATUS(oatk_validate_with_claims(service, access, "{\"client_id\":\"svc\"}", &claims), OATK_OK);
  CHECK_CONTAINS(claims, "\"aud\":\"svc\"");
  oatk_string_free(claims);
  free(access);
  http_response_free(&r);
  /* A wrong secret is refused. */
  CHECK(http_request(url, "POST", "/oauth/token",
                     "Authorization: Basic c3ZjOndyb25n\r\nContent-Type: application/x-www-form-urlencoded\r\n",
                     "grant_type=client_credentials", &r) == 0);
  CHECK(r.status == 401);
  http_response_free(&r);

  /* Tokens for a user, without a browser. */
  char *json = NULL;
  CHECK_STATUS(oatk_server_issue_token(s, "xtof", NULL, "test", "openid profile", &json), OATK_OK);
  CHECK_CONTAINS(json, "\"id_token\"");
  access = json ? json_string_field(json, "access_token") : NULL;
  claims = NULL;
  CHECK_STATUS(oatk_validate_with_claims(service, access, "{\"username\":\"xtof\"}", &claims), OATK_OK);
  CHECK_CONTAINS(claims, "\"name\":\"Christophe VG\""); /* the config's user claims */
  oatk_string_free(claims);
  free(access);
  oatk_string_free(json);
  json = NULL;
  CHECK_STATUS(oatk_server_issue_token(s, "alice", "{\"groups\":[\"admin\"]}", "test", "api", &json), OATK_OK);
  access = json ? json_string_field(json, "access_token") : NULL;
  CHECK_STATUS(oatk_validate_with_claims(service, access, "{\"groups\":[\"admin\"]}", NULL), OATK_OK);
  free(access);
  oatk_string_free(json);
  json = NULL;
  CHECK_STATUS(oatk_server_issue_token(s, "alice", "[]", "test", "api", &json), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_issue_token(s, NULL, NULL, "test", "api", &json), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_issue_token(s, "alice", NULL, "test", "api", NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK(json == NULL);

  /* Users added through the API carry their claims into issued tokens. */
  CHECK_STATUS(oatk_server_upsert_user(s, "{\"username\":\"bob\",\"claims\":{\"groups\":[\"ops\"]}}"), OATK_OK);
  CHECK_STR(oatk_last_error(), "");
  CHECK_STATUS(oatk_server_issue_token(s, "bob", NULL, "test", "api", &json), OATK_OK);
  access = json ? json_string_field(json, "access_token") : NULL;
  CHECK_STATUS(oatk_validate_with_claims(service, access, "{\"username\":\"bob\",\"groups\":[\"ops\"]}", NULL),
               OATK_OK);
  free(access);
  oatk_string_free(json);
  json = NULL;
  /* Checked as the admin API checks them. */
  CHECK_STATUS(oatk_server_upsert_user(s, "{\"username\":\"\"}"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_CONTAINS(oatk_last_error(), "username");
  CHECK_STATUS(oatk_server_upsert_user(s, "{\"username\":\"bob\",\"password\":\"x\"}"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_upsert_user(s, "{\"username\":"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_upsert_user(s, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_upsert_user(s, BAD_UTF8), OATK_ERR_INVALID_ARGUMENT);

  /* A client registered through the API takes a client_credentials token (client_secret_basic, ci:pw). */
  CHECK_STATUS(oatk_server_upsert_client(s, "{\"client_id\":\"ci\",\"client_secret\":\"pw\","
                                            "\"grant_types\":[\"client_credentials\"],\"scope\":\"deploy\"}"),
               OATK_OK);
  CHECK(http_request(url, "POST", "/oauth/token",
                     "Authorization: Basic Y2k6cHc=\r\nContent-Type: application/x-www-form-urlencoded\r\n",
                     "grant_type=client_credentials&scope=deploy", &r) == 0);
  CHECK(r.status == 200);
  access = r.body ? json_string_field(r.body, "access_token") : NULL;
  CHECK_STATUS(oatk_validate_with_claims(service, access, "{\"client_id\":\"ci\",\"scope\":[\"deploy\"]}", NULL),
               OATK_OK);
  free(access);
  http_response_free(&r);
  CHECK_STATUS(oatk_server_upsert_client(s, "{\"client_id\":\"web\",\"redirect_uris\":[\"http://localhost/cb#x\"]}"),
               OATK_ERR_INVALID_ARGUMENT);
  CHECK_CONTAINS(oatk_last_error(), "fragment");
  CHECK_STATUS(oatk_server_upsert_client(s, "{\"client_id\":\"web\"}"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_CONTAINS(oatk_last_error(), "redirect URI"); /* authorization_code needs one */
  CHECK_STATUS(oatk_server_upsert_client(s, "{\"client_id\":\"\",\"grant_types\":[]}"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_upsert_client(s, "[]"), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_upsert_client(s, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_upsert_client(s, BAD_UTF8), OATK_ERR_INVALID_ARGUMENT);

  /* Shut down: the port no longer answers, the handle stays readable, and
   * what needs a running server says it is stopped (core's error). */
  oatk_server_shutdown(s);
  CHECK(http_request(url, "GET", "/", NULL, NULL, &r) != 0);
  http_response_free(&r);
  CHECK(http_url_port(oatk_server_url(s)) > 0);
  CHECK_STATUS(oatk_server_issue_token(s, "xtof", NULL, "test", "openid", &json), OATK_ERR_SERVER);
  CHECK_STR(oatk_last_error(), "the fake server is stopped");
  CHECK_STATUS(oatk_server_upsert_user(s, "{\"username\":\"carol\"}"), OATK_ERR_SERVER);
  CHECK_STATUS(oatk_server_upsert_client(s, "{\"client_id\":\"ci\",\"grant_types\":[]}"), OATK_ERR_SERVER);
  CHECK(json == NULL);
  oatk_server_shutdown(s); /* twice is fine */
  oatk_server_stop(s);     /* frees it: s and url are gone from here on */
  oatk_toolkit_free(service);

  /* With options: a data directory in the temp dir, a fixed issuer, no toolkit. */
  char data_dir[600], key_path[700];
  snprintf(data_dir, sizeof data_dir, "%s/data", tmpdir);
  snprintf(key_path, sizeof key_path, "%s/signing_key.pem", data_dir);
  oatk_server_options options = {0};
  options.data_dir = data_dir;
  options.issuer = "https://issuer.example";
  CHECK_STATUS(oatk_server_start_with(NULL, &options, &s), OATK_OK);
  CHECK_STR(oatk_server_issuer(s), "https://issuer.example");
  struct stat st;
  CHECK(stat(key_path, &st) == 0 && (st.st_mode & 077) == 0); /* the generated key, private to us */
  json = NULL;
  CHECK_STATUS(oatk_server_issue_token(s, "xtof", NULL, "test", "openid", &json), OATK_OK);
  access = json ? json_string_field(json, "access_token") : NULL;
  oatk_toolkit *by_jwks = oatk_toolkit_new();
  CHECK_STATUS(oatk_with_jwks(by_jwks, oatk_server_jwks(s)), OATK_OK);
  CHECK_STATUS(oatk_with_issuer(by_jwks, "https://issuer.example"), OATK_OK);
  CHECK_STATUS(oatk_validate(by_jwks, access, NULL), OATK_OK);
  oatk_toolkit_free(by_jwks);
  free(access);
  oatk_string_free(json);
  oatk_server_stop(s);

  /* NULL options: all defaults (memory, any port). */
  s = NULL;
  CHECK_STATUS(oatk_server_start_with(NULL, NULL, &s), OATK_OK);
  CHECK(s != NULL && http_url_port(oatk_server_url(s)) > 0);
  oatk_server_stop(s);
  oatk_toolkit_free(t);
}

/* The kit calls: the server's clock (and a validator told the same time),
 * key rotation and retirement, tenants with their own issuer and keys. */
static char *kid_of(const char *token) {
  char *header = NULL, *kid = NULL;
  if (oatk_header(token, &header) == OATK_OK) kid = json_string_field(header, "kid");
  oatk_string_free(header);
  return kid;
}

static char *issued_access_token(oatk_server *s, const char *request_json) {
  char *json = NULL, *access = NULL;
  CHECK_STATUS(oatk_server_issue(s, request_json, &json), OATK_OK);
  if (json) access = json_string_field(json, "access_token");
  oatk_string_free(json);
  return access;
}

static void test_server_clock_keys_tenants(void) {
  oatk_server *s = NULL;
  CHECK_STATUS(oatk_server_start_with(NULL, NULL, &s), OATK_OK);
  if (!s) return;
  oatk_toolkit *service = oatk_toolkit_new();
  CHECK_STATUS(oatk_using_provider(service, oatk_server_url(s)), OATK_OK);
  CHECK_STATUS(oatk_with_client_id(service, "test"), OATK_OK);
  char *token = issued_access_token(s, "{\"username\": \"xtof\"}");
  CHECK_STATUS(oatk_validate(service, token, NULL), OATK_OK);

  /* An hour and a minute later the token (5 minutes' lifetime) has expired,
   * for the server and for a validator told the server's now. */
  int64_t start = 0, now = 0;
  CHECK_STATUS(oatk_server_now(s, &start), OATK_OK);
  CHECK_STATUS(oatk_server_advance_clock(s, 3660, &now), OATK_OK);
  CHECK(now - start >= 3660 && now - start <= 3662);
  CHECK_STATUS(oatk_with_now(service, now), OATK_OK);
  CHECK_STATUS(oatk_validate(service, token, NULL), OATK_ERR_EXPIRED);
  http_response r;
  char *bearer = strf("Authorization: Bearer %s\r\n", token);
  CHECK(http_request(oatk_server_url(s), "GET", "/oauth/userinfo", bearer, NULL, &r) == 0);
  CHECK(r.status == 401);
  http_response_free(&r);
  free(bearer);
  /* A token issued now is valid at the server's now. */
  char *fresh = issued_access_token(s, "{\"username\": \"xtof\"}");
  CHECK_STATUS(oatk_validate(service, fresh, NULL), OATK_OK);
  free(fresh);
  CHECK_STATUS(oatk_server_freeze_clock(s, 2000000000), OATK_OK);
  CHECK_STATUS(oatk_server_now(s, &now), OATK_OK);
  CHECK(now == 2000000000);
  CHECK_STATUS(oatk_server_advance_clock(s, -3000000000LL, &now), OATK_ERR_INVALID_ARGUMENT);
  CHECK(now == 2000000000); /* written only on success */
  CHECK_CONTAINS(oatk_last_error(), "1970");
  CHECK_STATUS(oatk_server_freeze_clock(s, -1), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_reset_clock(s), OATK_OK);
  CHECK_STATUS(oatk_server_now(s, &now), OATK_OK);
  CHECK(now - start >= 0 && now - start < 60);
  CHECK_STATUS(oatk_with_now(service, -1), OATK_OK); /* the validator back on the system clock */
  CHECK_STATUS(oatk_validate(service, token, NULL), OATK_OK);

  /* Rotation: a new signing key beside the old one; both verify until the
   * old one retires. (A validator refetches for an unknown kid at most every
   * 30 s; a new one reads the current set at once.) */
  oatk_toolkit *early = oatk_toolkit_new(); /* read the key set just before the rotation */
  CHECK_STATUS(oatk_using_provider(early, oatk_server_url(s)), OATK_OK);
  CHECK_STATUS(oatk_with_client_id(early, "test"), OATK_OK);
  char *old_kid = kid_of(token), *new_kid = NULL;
  CHECK_STATUS(oatk_server_rotate_keys(s, NULL, &new_kid), OATK_OK);
  CHECK(new_kid && old_kid && strcmp(new_kid, old_kid) != 0);
  char *info = NULL;
  CHECK_STATUS(oatk_server_issuer_info(s, NULL, &info), OATK_OK);
  CHECK_CONTAINS(info, new_kid);
  CHECK_CONTAINS(info, old_kid);
  oatk_string_free(info);
  char *rotated = issued_access_token(s, "{\"username\": \"xtof\"}");
  char *rotated_kid = kid_of(rotated);
  CHECK_STR(rotated_kid, new_kid);
  free(rotated_kid);
  CHECK_STATUS(oatk_validate(early, rotated, NULL), OATK_ERR_UNKNOWN_KEY); /* rate limited: fetched < 30 s ago */
  oatk_toolkit_free(early);
  oatk_toolkit *later = oatk_toolkit_new();
  CHECK_STATUS(oatk_using_provider(later, oatk_server_url(s)), OATK_OK);
  CHECK_STATUS(oatk_with_client_id(later, "test"), OATK_OK);
  CHECK_STATUS(oatk_validate(later, rotated, NULL), OATK_OK);
  CHECK_STATUS(oatk_validate(later, token, NULL), OATK_OK);
  size_t retired = 0;
  CHECK_STATUS(oatk_server_retire_old_keys(s, NULL, &retired), OATK_OK);
  CHECK(retired == 1);
  CHECK_STATUS(oatk_server_retire_old_keys(s, NULL, NULL), OATK_OK);
  oatk_toolkit *after = oatk_toolkit_new();
  CHECK_STATUS(oatk_using_provider(after, oatk_server_url(s)), OATK_OK);
  CHECK_STATUS(oatk_with_client_id(after, "test"), OATK_OK);
  CHECK_STATUS(oatk_validate(after, rotated, NULL), OATK_OK);
  CHECK_STATUS(oatk_validate(after, token, NULL), OATK_ERR_UNKNOWN_KEY); /* the retired key is gone */
  CHECK_STATUS(oatk_server_rotate_keys(s, NULL, NULL), OATK_OK);
  free(rotated);
  free(old_kid);
  oatk_string_free(new_kid);
  oatk_toolkit_free(after);
  oatk_toolkit_free(later);

  /* A tenant: its own issuer and keys at {url}/acme; its tokens never
   * validate against the root, nor the root's against it. */
  CHECK_STATUS(oatk_server_issuer_info(s, "acme", &info), OATK_OK);
  char *tenant_url = info ? json_string_field(info, "url") : NULL;
  char *tenant_issuer = info ? json_string_field(info, "issuer") : NULL;
  char *want_url = strf("%s/acme", oatk_server_url(s));
  CHECK_STR(tenant_url, want_url);
  CHECK_STR(tenant_issuer, want_url);
  free(want_url);
  oatk_string_free(info);
  oatk_toolkit *acme = oatk_toolkit_new();
  CHECK_STATUS(oatk_using_provider(acme, tenant_url), OATK_OK);
  CHECK_STATUS(oatk_with_client_id(acme, "test"), OATK_OK);
  char *tenant_token = issued_access_token(s, "{\"username\": \"xtof\", \"tenant\": \"acme\"}");
  char *claims = NULL;
  CHECK_STATUS(oatk_validate(acme, tenant_token, &claims), OATK_OK);
  CHECK_CONTAINS(claims, tenant_issuer);
  oatk_string_free(claims);
  CHECK(oatk_validate(service, tenant_token, NULL) != OATK_OK);
  CHECK(oatk_validate(acme, token, NULL) != OATK_OK);
  char *tenant_kid = NULL;
  CHECK_STATUS(oatk_server_rotate_keys(s, "acme", &tenant_kid), OATK_OK);
  CHECK_STATUS(oatk_server_retire_old_keys(s, "acme", &retired), OATK_OK);
  CHECK(retired == 1);
  oatk_string_free(tenant_kid);
  /* Client credentials from the tenant: no username. */
  char *client_token = issued_access_token(s, "{\"client_id\": \"svc\", \"scope\": \"api\", \"tenant\": \"acme\"}");
  CHECK(client_token != NULL);
  free(client_token);
  free(tenant_token);
  free(tenant_issuer);
  free(tenant_url);
  oatk_toolkit_free(acme);

  /* Bad arguments and NULLs are statuses, never crashes. */
  char *out = NULL;
  CHECK_STATUS(oatk_server_issuer_info(s, "no/such tenant", &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_issuer_info(s, BAD_UTF8, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_issuer_info(s, NULL, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_issue(s, "{\"password\": \"x\"}", &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_issue(s, NULL, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_issue(s, "{}", NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_rotate_keys(s, BAD_UTF8, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK(out == NULL);
  CHECK_STATUS(oatk_server_now(NULL, &now), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_now(s, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_advance_clock(NULL, 1, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_freeze_clock(NULL, 0), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_reset_clock(NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_rotate_keys(NULL, NULL, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_retire_old_keys(NULL, NULL, NULL), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_issuer_info(NULL, NULL, &out), OATK_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(oatk_server_issue(NULL, "{}", &out), OATK_ERR_INVALID_ARGUMENT);

  /* Stopped: each says so. */
  oatk_server_shutdown(s);
  CHECK_STATUS(oatk_server_advance_clock(s, 1, NULL), OATK_ERR_SERVER);
  CHECK_STATUS(oatk_server_freeze_clock(s, 0), OATK_ERR_SERVER);
  CHECK_STATUS(oatk_server_rotate_keys(s, NULL, NULL), OATK_ERR_SERVER);
  CHECK_STATUS(oatk_server_retire_old_keys(s, NULL, NULL), OATK_ERR_SERVER);
  CHECK_STATUS(oatk_server_issuer_info(s, NULL, &out), OATK_ERR_SERVER);
  CHECK_STATUS(oatk_server_issue(s, "{}", &out), OATK_ERR_SERVER);
  CHECK(out == NULL);
  oatk_server_stop(s);
  free(token);
  oatk_toolkit_free(service);
}

/* An unreachable provider is a network error, not a crash. */
static void test_provider_errors(void) {
  oatk_toolkit *t = oatk_toolkit_new();
  CHECK_STATUS(oatk_using_provider(t, "http://127.0.0.1:1"), OATK_ERR_NETWORK);
  CHECK_STATUS(oatk_using_provider(t, "ftp://example"), OATK_ERR_INVALID_ARGUMENT);
  oatk_toolkit_free(t);
}

static void rm(const char *dir, const char *name) {
  char path[700];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  unlink(path);
}

int main(void) {
  const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(tmpdir, sizeof tmpdir, "%s/oatk-c-test-XXXXXX", base);
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 2;
  }
  snprintf(private_path, sizeof private_path, "%s/private_key.pem", tmpdir);
  snprintf(public_path, sizeof public_path, "%s/public_key.pem", tmpdir);
  snprintf(garbage_path, sizeof garbage_path, "%s/garbage.pem", tmpdir);
  snprintf(missing_path, sizeof missing_path, "%s/no/such/file.pem", tmpdir);
  snprintf(jwks_path, sizeof jwks_path, "%s/certs.json", tmpdir);

  test_names_and_version();
  if (oatk_generate_key("RS256", &private_pem, &public_pem) != OATK_OK ||
      oatk_generate_key("RS256", &other_private_pem, NULL) != OATK_OK) {
    fprintf(stderr, "cannot generate keys: %s\n", oatk_last_error());
    return 2;
  }
  write_file(private_path, private_pem);
  write_file(public_path, public_pem);
  write_file(garbage_path, "this is not a key\n");

  test_generate_key();
  test_keys_from_files();
  test_nulls_and_bad_utf8();
  test_cli_session();
  test_bad_tokens();
  test_cache();
  test_guard();
  test_threads();
  test_server();
  test_server_clock_keys_tenants();
  test_provider_errors();

  oatk_string_free(private_pem);
  oatk_string_free(public_pem);
  oatk_string_free(other_private_pem);
  rm(tmpdir, "private_key.pem");
  rm(tmpdir, "public_key.pem");
  rm(tmpdir, "garbage.pem");
  rm(tmpdir, "certs.json");
  rm(tmpdir, "oatk.toml");
  char data_dir[600];
  snprintf(data_dir, sizeof data_dir, "%s/data", tmpdir);
  const char *data_files[] = {"signing_key.pem", "csrf.key", "oatk.sqlite3", "oatk.sqlite3-wal", "oatk.sqlite3-shm", NULL};
  for (int i = 0; data_files[i]; i++) rm(data_dir, data_files[i]);
  rmdir(data_dir);
  if (rmdir(tmpdir) != 0) perror(tmpdir);

  printf("%d passed, %d failed\n", passed, failures);
  return failures == 0 ? 0 : 1;
}
