/*
 * The seed's CLI session, in C:
 *
 *   oatk with_public public_key.pem jwks | tee certs.json
 *   oatk with_private private_key.pem with_jwks certs.json claims '{ "hello" : "world" }' token
 *   oatk with_jwks certs.json from_file token.txt validate
 *   oatk from_file token.txt decode
 *
 * Usage: create_and_validate [DIR]
 *   DIR holds private_key.pem and public_key.pem (`oatk keys generate`);
 *   without it, a key pair is generated with oatk_generate_key.
 * Exits 0 when every step behaved as expected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oatk.h"

/* Print the failure of `what` and return 1, else 0. */
static int failed(const char *what, oatk_status status) {
  if (status == OATK_OK) return 0;
  fprintf(stderr, "%s failed: %s (%s): %s\n", what, oatk_status_name(status), oatk_status_code(status),
          oatk_last_error());
  return 1;
}

int main(int argc, char **argv) {
  int rc = 1;
  char *private_pem = NULL, *public_pem = NULL, *jwks = NULL, *token = NULL, *claims = NULL;
  char *decoded = NULL, *tampered = NULL;
  oatk_toolkit *publisher = oatk_toolkit_new(), *minter = oatk_toolkit_new(), *validator = oatk_toolkit_new();
  if (!publisher || !minter || !validator) goto out;

  printf("liboatk %s\n", oatk_version());
  if (argc > 1) {
    char private_path[4096], public_path[4096];
    snprintf(private_path, sizeof private_path, "%s/private_key.pem", argv[1]);
    snprintf(public_path, sizeof public_path, "%s/public_key.pem", argv[1]);
    if (failed("with_public", oatk_with_public(publisher, public_path))) goto out;
    if (failed("with_private", oatk_with_private(minter, private_path))) goto out;
  } else {
    if (failed("generate_key", oatk_generate_key("RS256", &private_pem, &public_pem))) goto out;
    if (failed("with_public_pem", oatk_with_public_pem(publisher, public_pem))) goto out;
    if (failed("with_private_pem", oatk_with_private_pem(minter, private_pem))) goto out;
  }

  /* % oatk with_public public_key.pem jwks | tee certs.json */
  if (failed("jwks", oatk_jwks(publisher, &jwks))) goto out;
  printf("\n%% oatk with_public public_key.pem jwks\n%s\n", jwks);

  /* % oatk with_private private_key.pem with_jwks certs.json claims '{ "hello" : "world" }' token */
  if (failed("with_jwks", oatk_with_jwks(minter, jwks))) goto out;
  if (failed("claims", oatk_claims(minter, "{ \"hello\" : \"world\" }"))) goto out;
  if (failed("token", oatk_token(minter, &token))) goto out;
  printf("\n%% oatk with_private private_key.pem with_jwks certs.json claims '{ \"hello\" : \"world\" }' token\n%s\n",
         token);

  /* % oatk with_jwks certs.json from_file token.txt validate */
  if (failed("with_jwks", oatk_with_jwks(validator, jwks))) goto out;
  if (failed("validate", oatk_validate(validator, token, &claims))) goto out;
  printf("\n%% oatk with_jwks certs.json from_file token.txt validate\n(valid: %s)\n", claims);

  /* % oatk from_file token.txt decode */
  if (failed("decode", oatk_decode(token, &decoded))) goto out;
  printf("\n%% oatk from_file token.txt decode\n%s\n", decoded);

  /* A tampered token: change one character of the signature. */
  tampered = strdup(token);
  if (!tampered) goto out;
  size_t len = strlen(tampered);
  tampered[len - 2] = tampered[len - 2] == 'A' ? 'B' : 'A';
  oatk_status status = oatk_validate(validator, tampered, NULL);
  printf("\n%% oatk with_jwks certs.json validate <tampered token>\n%s: %s\n", oatk_status_name(status),
         oatk_last_error());
  if (status != OATK_ERR_SIGNATURE) {
    fprintf(stderr, "expected OATK_ERR_SIGNATURE for a tampered token\n");
    goto out;
  }
  rc = 0;

out:
  free(tampered);
  oatk_string_free(decoded);
  oatk_string_free(claims);
  oatk_string_free(token);
  oatk_string_free(jwks);
  oatk_string_free(public_pem);
  oatk_string_free(private_pem);
  oatk_toolkit_free(validator);
  oatk_toolkit_free(minter);
  oatk_toolkit_free(publisher);
  return rc;
}
