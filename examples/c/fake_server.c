/*
 * Start the fake OAuth2 / OpenID Connect server in-process, fetch its
 * discovery document and JWKS over HTTP, take a token for a user, validate it
 * the way a service would (trusting the provider), and stop the server.
 *
 * Usage: fake_server
 * Exits 0 when every step behaved as expected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "oatk.h"

static int failed(const char *what, oatk_status status) {
  if (status == OATK_OK) return 0;
  fprintf(stderr, "%s failed: %s: %s\n", what, oatk_status_name(status), oatk_last_error());
  return 1;
}

int main(void) {
  int rc = 1;
  oatk_server *server = NULL;
  oatk_toolkit *service = oatk_toolkit_new();
  char *response = NULL, *access_token = NULL, *claims = NULL;
  http_response discovery = {0}, certs = {0};
  if (!service) return 1;

  /* NULL toolkit: the server generates its own signing key. Port 0: any free port. */
  if (failed("server_start", oatk_server_start(NULL, "localhost", 0, NULL, &server))) goto out;
  const char *url = oatk_server_url(server);
  printf("fake server at %s (issuer %s)\n", url, oatk_server_issuer(server));

  if (http_request(url, "GET", "/.well-known/openid-configuration", NULL, NULL, &discovery) != 0 ||
      discovery.status != 200) {
    fprintf(stderr, "discovery: HTTP %d\n", discovery.status);
    goto out;
  }
  printf("\nGET /.well-known/openid-configuration\n%s\n", discovery.body);
  if (http_request(url, "GET", "/oauth/certs", NULL, NULL, &certs) != 0 || certs.status != 200) {
    fprintf(stderr, "certs: HTTP %d\n", certs.status);
    goto out;
  }
  printf("\nGET /oauth/certs\n%s\n", certs.body);

  /* A token for xtof, as if they had logged in and consented. */
  if (failed("issue_token", oatk_server_issue_token(server, "xtof", "{\"name\": \"Christophe VG\"}", "test",
                                                    "openid profile", &response)))
    goto out;
  access_token = json_string_field(response, "access_token");
  if (!access_token) {
    fprintf(stderr, "no access_token in %s\n", response);
    goto out;
  }

  /* The service trusts the provider (discovery + JWKS) and its issuer. */
  if (failed("using_provider", oatk_using_provider(service, url))) goto out;
  if (failed("with_issuer", oatk_with_issuer(service, oatk_server_issuer(server)))) goto out;
  if (failed("with_client_id", oatk_with_client_id(service, "test"))) goto out;
  if (failed("validate", oatk_validate(service, access_token, &claims))) goto out;
  printf("\naccess token claims\n%s\n", claims);
  rc = 0;

out:
  http_response_free(&certs);
  http_response_free(&discovery);
  oatk_string_free(claims);
  free(access_token);
  oatk_string_free(response);
  oatk_server_stop(server);
  oatk_toolkit_free(service);
  return rc;
}
