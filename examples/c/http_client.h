/*
 * A tiny HTTP/1.1 client over a plain socket, enough to talk to the fake
 * server on loopback from the C examples and tests: one request per
 * connection (Connection: close), Content-Length or chunked bodies.
 * Header-only; not a general HTTP client.
 */
#ifndef OATK_EXAMPLE_HTTP_CLIENT_H
#define OATK_EXAMPLE_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct http_response {
  int status;   /* e.g. 200; 0 when the request failed */
  char *body;   /* NUL-terminated, malloc'd; free with http_response_free */
} http_response;

static void http_response_free(http_response *r) {
  free(r->body);
  r->body = NULL;
}

/* The port of "http://host:PORT[/...]", or -1. */
static int http_url_port(const char *url) {
  const char *p = strstr(url, "://");
  if (!p) return -1;
  p = strchr(p + 3, ':');
  if (!p) return -1;
  int port = atoi(p + 1);
  return port > 0 && port < 65536 ? port : -1;
}

/* Decode a chunked body in place; returns its length. */
static size_t http_dechunk(char *body, size_t len) {
  char *in = body, *out = body, *end = body + len;
  while (in < end) {
    char *line_end = strstr(in, "\r\n");
    if (!line_end) break;
    size_t size = strtoul(in, NULL, 16);
    in = line_end + 2;
    if (size == 0 || in + size > end) break;
    memmove(out, in, size);
    out += size;
    in += size + 2;
  }
  *out = '\0';
  return (size_t)(out - body);
}

/*
 * Send METHOD base_url+path with optional extra header lines (each ending in
 * "\r\n") and an optional body; fill *res. Returns 0 on success.
 */
static int http_request(const char *base_url, const char *method, const char *path,
                        const char *headers, const char *body, http_response *res) {
  res->status = 0;
  res->body = NULL;
  int port = http_url_port(base_url);
  if (port < 0) return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct timeval timeout = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  size_t body_len = body ? strlen(body) : 0;
  size_t cap = strlen(path) + (headers ? strlen(headers) : 0) + body_len + 256;
  char *request = malloc(cap);
  if (!request) {
    close(fd);
    return -1;
  }
  int n = snprintf(request, cap,
                   "%s %s HTTP/1.1\r\nHost: localhost:%d\r\nConnection: close\r\n"
                   "Content-Length: %zu\r\n%s\r\n%s",
                   method, path, port, body_len, headers ? headers : "", body ? body : "");
  ssize_t sent = 0;
  while (sent < n) {
    ssize_t w = send(fd, request + sent, (size_t)(n - sent), 0);
    if (w <= 0) break;
    sent += w;
  }
  free(request);
  size_t len = 0, size = 4096;
  char *buf = malloc(size);
  for (;;) {
    if (!buf) break;
    if (len + 1024 > size) {
      char *bigger = realloc(buf, size * 2);
      if (!bigger) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = bigger;
      size *= 2;
    }
    ssize_t r = recv(fd, buf + len, size - len - 1, 0);
    if (r <= 0) break;
    len += (size_t)r;
  }
  close(fd);
  if (!buf) return -1;
  buf[len] = '\0';
  char *head_end = strstr(buf, "\r\n\r\n");
  if (strncmp(buf, "HTTP/1.", 7) != 0 || !head_end) {
    free(buf);
    return -1;
  }
  res->status = atoi(buf + 9);
  *head_end = '\0';
  int chunked = strstr(buf, "chunked") != NULL || strstr(buf, "Chunked") != NULL;
  char *payload = head_end + 4;
  size_t payload_len = len - (size_t)(payload - buf);
  res->body = malloc(payload_len + 1);
  if (!res->body) {
    free(buf);
    return -1;
  }
  memcpy(res->body, payload, payload_len);
  res->body[payload_len] = '\0';
  if (chunked) http_dechunk(res->body, payload_len);
  free(buf);
  return 0;
}

/*
 * The string value of "name" in a flat JSON object, malloc'd, or NULL.
 * Enough for tokens and URLs, which hold no escapes; not a JSON parser.
 */
static char *json_string_field(const char *json, const char *name) {
  char pattern[128];
  snprintf(pattern, sizeof pattern, "\"%s\":", name);
  const char *p = strstr(json, pattern);
  if (!p) return NULL;
  p += strlen(pattern);
  while (*p == ' ') p++;
  if (*p != '"') return NULL;
  p++;
  const char *end = strchr(p, '"');
  if (!end) return NULL;
  char *out = malloc((size_t)(end - p) + 1);
  if (!out) return NULL;
  memcpy(out, p, (size_t)(end - p));
  out[end - p] = '\0';
  return out;
}

#endif
