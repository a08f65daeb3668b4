-- wrk: POST a client_credentials token request (RFC 6749 4.4.2), client_secret_basic.
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=api"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic YmVuY2g6YmVuY2gtc2VjcmV0" -- bench:bench-secret
