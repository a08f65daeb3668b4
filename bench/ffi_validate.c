/*
 * The C side of bench/ffi.sh: oatk_validate per call through liboatk.
 *
 *   ffi_validate prepare DIR ALG        write DIR/private_key.pem and DIR/token.txt
 *   ffi_validate run KEY TOKEN N ROUNDS print per round:
 *       c_validate_ns_per_call X         (claims output NULL)
 *       c_validate_claims_ns_per_call X  (claims returned as JSON, then freed)
 *       c_warm_ns_per_call X             (oatk_with_cache, the same token again)
 *       c_warm_claims_ns_per_call X
 *   and, for each, the thread's CPU time per call: c_..._cpu_ns_per_call X
 *   (on a loaded machine the CPU time is the steadier figure).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oatk.h"

static int fail(const char *what, oatk_status s) {
  fprintf(stderr, "%s: %s: %s\n", what, oatk_status_name(s), oatk_last_error());
  return 1;
}

static double clock_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* `iterations` calls of oatk_validate on `t`; prints wall and CPU ns per call. */
static int timed(const char *name, oatk_toolkit *t, const char *token, long iterations, int with_claims) {
  double wall = clock_ns(CLOCK_MONOTONIC), cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  for (long i = 0; i < iterations; i++) {
    char *claims = NULL;
    oatk_status s = oatk_validate(t, token, with_claims ? &claims : NULL);
    if (s != OATK_OK) return fail("validate", s);
    oatk_string_free(claims);
  }
  double cpu_ns = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu) / (double)iterations;
  printf("%s_ns_per_call %.1f\n", name, (clock_ns(CLOCK_MONOTONIC) - wall) / (double)iterations);
  printf("%s_cpu_ns_per_call %.1f\n", name, cpu_ns);
  return 0;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc((size_t)n + 1);
  size_t got = fread(text, 1, (size_t)n, f);
  text[got] = '\0';
  fclose(f);
  while (got > 0 && (text[got - 1] == '\n' || text[got - 1] == ' ')) text[--got] = '\0';
  return text;
}

static int prepare(const char *dir, const char *alg) {
  char *pem = NULL, *token = NULL, path[4096], claims[512];
  oatk_status s = oatk_generate_key(alg, &pem, NULL);
  if (s != OATK_OK) return fail("generate_key", s);
  oatk_toolkit *t = oatk_toolkit_new();
  if ((s = oatk_with_private_pem(t, pem)) != OATK_OK) return fail("with_private_pem", s);
  long now = (long)time(NULL);
  /* Shaped like the fake server's access tokens. */
  snprintf(claims, sizeof claims,
           "{\"iss\":\"http://localhost:5000\",\"sub\":\"Yx3rQ0d9l0w3Qv4n8vP1uA\",\"aud\":\"test\","
           "\"exp\":%ld,\"iat\":%ld,\"scope\":\"openid profile\",\"client_id\":\"test\",\"username\":\"xtof\"}",
           now + 86400, now);
  if ((s = oatk_mint(t, claims, &token)) != OATK_OK) return fail("mint", s);
  snprintf(path, sizeof path, "%s/private_key.pem", dir);
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  fputs(pem, f);
  fclose(f);
  snprintf(path, sizeof path, "%s/token.txt", dir);
  f = fopen(path, "w");
  if (!f) return 1;
  fputs(token, f);
  fclose(f);
  oatk_string_free(token);
  oatk_string_free(pem);
  oatk_toolkit_free(t);
  return 0;
}

static int run(const char *key, const char *token_path, long iterations, long rounds) {
  char *token = read_file(token_path);
  if (!token) return 1;
  oatk_toolkit *t = oatk_toolkit_new(), *warm = oatk_toolkit_new();
  oatk_status s = oatk_with_private(t, key);
  if (s != OATK_OK) return fail("with_private", s);
  if ((s = oatk_with_private(warm, key)) != OATK_OK || (s = oatk_with_cache(warm, 1024)) != OATK_OK)
    return fail("with_cache", s);
  if ((s = oatk_validate(t, token, NULL)) != OATK_OK) return fail("validate", s);
  if ((s = oatk_validate(warm, token, NULL)) != OATK_OK) return fail("validate", s);
  for (long r = 0; r < rounds; r++) {
    if (timed("c_validate", t, token, iterations, 0) || timed("c_validate_claims", t, token, iterations, 1) ||
        timed("c_warm", warm, token, iterations * 20, 0) || timed("c_warm_claims", warm, token, iterations * 20, 1))
      return 1;
    fflush(stdout);
  }
  oatk_toolkit_free(warm);
  oatk_toolkit_free(t);
  free(token);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "prepare") == 0) return prepare(argv[2], argv[3]);
  if (argc == 6 && strcmp(argv[1], "run") == 0) return run(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
  fprintf(stderr, "usage: ffi_validate prepare DIR ALG | run KEY TOKEN ITERATIONS ROUNDS\n");
  return 2;
}
