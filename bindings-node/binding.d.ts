
/**
 * Which binding artifact the generated loader actually loaded: `'native'` for
 * a native addon, otherwise the `platformArchABI` of the WASI flavor. Every
 * flavor napi-rs can build is listed, because `NAPI_RS_NATIVE_LIBRARY_PATH`
 * can point the loader at a WASI artifact this package does not build itself.
 */
export declare const __napiBindingTarget: 'native' | 'wasm32-wasi' | 'wasm32-wasip1'

/**
 * A running fake server. `await server.stop()` ends it; so does the end of
 * the process.
 */
export declare class FakeServer {
  /** Where it listens, e.g. `http://localhost:41234`. */
  get url(): string
  /** The `iss` of its tokens. */
  get issuer(): string
  /**
   * Its OpenID Connect discovery document, what `usingProvider` is given:
   * `{url}/.well-known/openid-configuration`.
   */
  get discoveryUrl(): string
  /** The JWKS it publishes at `/oauth/certs`, as JSON text. */
  get jwks(): string
  /**
   * Issue tokens for a user as if they had logged in and consented, for
   * tests that need no browser. `claims` are stored as the user's extra
   * claims. Returns the token endpoint's JSON (`access_token`, `id_token`,
   * `refresh_token`, `token_type`, `expires_in`, `scope`).
   */
  issueToken(username: string, claims?: Record<string, any> | undefined | null, clientId?: string | undefined | null, scope?: string | undefined | null): any
  /** Add or replace a user and their extra claims, checked as the admin API checks them. */
  upsertUser(username: string, claims?: Record<string, any> | undefined | null): void
  /**
   * Add or replace a client registration, checked as the admin API checks
   * it: `{ client_id, client_secret?, name?, redirect_uris,
   * post_logout_redirect_uris?, allowed_origins?, scope?, grant_types?,
   * response_types?, public? }` (the TOML fields).
   */
  upsertClient(client: Record<string, any>): void
  /**
   * Tokens as the token endpoint would issue them: for a user as if they
   * had signed in and consented (as `issueToken`), or with no `username`
   * for the client acting for itself (`client_credentials`). `tenant`
   * picks a tenant's issuer and keys (created on first use).
   */
  issue(request?: FakeTokenRequest | undefined | null): any
  /**
   * The server's now, in seconds since the epoch: the system clock unless
   * advanced or frozen.
   */
  get now(): number
  /**
   * Move the server's clock `seconds` ahead (behind when negative), so
   * tokens, codes and sessions age without sleeping. Returns the new now.
   */
  advanceClock(seconds: number): number
  /** Stop the server's clock at `epoch` (seconds) until advanced or reset. */
  freezeClock(epoch: number): void
  /** Back to the system clock. */
  resetClock(): void
  /**
   * The root issuer (no `tenant`) or a tenant, created on first use as a
   * request to `/{tenant}/...` creates it.
   */
  issuerInfo(tenant?: string | undefined | null): FakeIssuer
  /**
   * Publish a new signing key beside the old ones (of the root, or of
   * `tenant`) and sign new tokens with it. The old keys stay in the JWKS
   * until `retireOldKeys`, or retire by themselves `retireAfter` seconds
   * later on the server's clock. Returns the new key's `kid`.
   */
  rotateKeys(tenant?: string | undefined | null, retireAfter?: number | undefined | null): string
  /**
   * Remove every key but the signing one from the JWKS (of the root, or
   * of `tenant`): tokens they signed stop validating. Returns how many went.
   */
  retireOldKeys(tenant?: string | undefined | null): number
  /**
   * Stop serving; resolves once its threads have ended. Stopping twice is
   * fine; afterwards the other calls throw `ERR_OATK_SERVER`.
   */
  stop(): Promise<void>
}

/**
 * Keys, claims and validation settings, chainable as in the original oatk:
 * `new OAuthToolkit().withPrivate('private_key.pem').withJwks('certs.json')`.
 *
 * Setters return the toolkit itself. Minting and validating are safe to call
 * at any time; `validateAsync` verifies on oatk's worker threads.
 */
export declare class OAuthToolkit {
  /**
   * A route guard for these required claims (see `RouteGuard`); the
   * Express middleware is built on it.
   */
  guard(required?: Record<string, any> | undefined | null): RouteGuard
  /** An empty toolkit: no keys, no claims. */
  constructor()
  /**
   * Sign with the private key in this PEM file (RSA, EC P-256/P-384 or
   * Ed25519, PKCS#1, SEC1 or PKCS#8). Its public half is published and
   * trusted too, so a private key alone is enough to mint and validate.
   */
  withPrivate(path: string): this
  /** Sign with the private key in this PEM text. */
  withPrivatePem(pem: string): this
  /** Trust (and publish) the public key in this PEM file. */
  withPublic(path: string): this
  /** Trust (and publish) the public key in this PEM text. */
  withPublicPem(pem: string): this
  /**
   * Publish and trust a JSON Web Key Set: a file path, the JSON text, or
   * the parsed object (`{ keys: [...] }`). The first key's `kid` is used
   * for minting unless the set holds our own key under another `kid`.
   */
  withJwks(pathOrJwks: string | { keys: object[] }): this
  /**
   * Trust the keys of an OpenID provider: fetches
   * `{url}/.well-known/openid-configuration`, then its `jwks_uri`, on the
   * thread pool. Resolves to this toolkit. Unknown `kid`s later trigger a
   * rate-limited refetch.
   */
  usingProvider(url: string): Promise<this>
  /** Tokens must name this client in `aud` (RFC 7519 4.1.3). */
  withClientId(clientId: string): this
  /** Tokens must carry exactly this `iss` (RFC 7519 4.1.1). */
  withIssuer(issuer: string): this
  /**
   * Sign with this algorithm instead of the key's default (RS256 for an
   * RSA key): RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA.
   */
  withAlgorithm(algorithm: string): this
  /** Accept `exp` and `nbf` this many seconds off (clock skew). Default 0. */
  withLeeway(seconds: number): this
  /**
   * Refuse tokens without `exp` (true), or accept them (false, the
   * default: the original's tokens carry none).
   */
  withRequireExp(required: boolean): this
  /**
   * Validate as if the time were `seconds` since the epoch, so expiry
   * tests never sleep; `null` goes back to the system clock.
   */
  withNow(seconds?: number | undefined | null): this
  /**
   * Waive the audience check `usingProvider` otherwise requires: tokens
   * the provider issued to any of its clients are accepted.
   */
  acceptAnyAudience(): this
  /**
   * Waive the issuer a provider given as a bare JWKS URL otherwise
   * requires (`withIssuer`).
   */
  acceptAnyIssuer(): this
  /**
   * Remember up to `capacity` verified tokens, so a repeated token skips
   * the signature check (`exp`, `nbf`, `aud` and `iss` are still checked
   * every time; new keys empty it). 0 turns the cache off (the default).
   */
  withCache(capacity: number): this
  /**
   * `withLeeway`, `withRequireExp` and `withNow` in one call: `leeway`
   * seconds of clock skew, `requireExp`, `now` (seconds since the epoch).
   * Fields left out keep their current value.
   */
  withValidation(options: ValidationOptions): this
  /**
   * Read the token to work on (for `validate()`, `decode()`, `header()`
   * without an argument) from a file.
   */
  fromFile(path: string): this
  /** Work on this token text (a leading `Bearer ` is dropped). */
  withToken(token: string): this
  /** The claims that the `token` getter mints. */
  claims(claims: Record<string, any>): this
  /** A token for the claims given to `claims()`; `null` without a private key. */
  get token(): string | null
  /** Mint a token for exactly these claims (needs a private key). */
  mint(claims: Record<string, any>): string
  /** The JSON Web Key Set to publish, as indented JSON text. */
  get jwks(): string
  /**
   * Verify a token (or the one read by `fromFile`) and return its claims:
   * signature with the key its `kid` names, algorithm, `exp`/`nbf`, and
   * `aud`/`iss` when configured. Throws an `OatkError` when it is not valid.
   */
  validate(token?: string | undefined | null): Record<string, any>
  /**
   * `validate` on oatk's worker threads (one per core): the main thread
   * stays free while the signature is checked. Resolves to the claims;
   * rejects with an `OatkError`.
   */
  validateAsync(token?: string | undefined | null): Promise<Record<string, any>>
  /**
   * `validate`, then the claims must satisfy `required`: a value must be
   * equal, a list must all be contained. Throws `ERR_OATK_CLAIMS` when
   * they do not (functions are for the middleware, `authenticatedWithClaims`).
   */
  validateWithClaims(token: string | undefined | null, required: Record<string, any>): Record<string, any>
  /** The claims, not verified. */
  decode(token?: string | undefined | null): Record<string, any>
  /** The JOSE header (`alg`, `kid`, `typ`), not verified. */
  header(token?: string | undefined | null): Record<string, any>
  /** The oatk version. */
  get version(): string
}

/**
 * Decides on requests for one route: the core's `guard::check`, the same
 * rule as the Flask decorator and the Go middleware. Framework-neutral: pass
 * the `Authorization` header value, send the denial it returns.
 */
export declare class RouteGuard {
  /**
   * Decide on a request from its `Authorization` header value. Throws an
   * `OatkError` only for setup failures (no key configured, provider down).
   */
  check(authorization?: string | undefined | null): GuardDecision
  /**
   * `check`'s decision when it needs no signature check: no token, a
   * header refused as it stands, or a token the `withCache` cache verified
   * (its `exp`, `aud` and `iss` checked now); `null` otherwise (then call
   * `checkAsync`). Never blocks. The Express middleware tries it first.
   */
  checkCached(authorization?: string | undefined | null): GuardDecision | null
  /**
   * `check` with the token verified on oatk's worker threads (one per
   * core), so the event loop stays free during the signature check.
   * Resolves to the same decision; rejects with an `OatkError` only for
   * setup failures. The Express middleware uses it.
   */
  checkAsync(authorization?: string | undefined | null): Promise<GuardDecision>
}

/** `RouteGuard.prototype.checkAsync` (index.js puts it there); not part of the public API. */
export declare function _checkAsync(this: RouteGuard, authorization?: string | undefined | null): Promise<GuardDecision>

/** `RouteGuard.prototype.checkCached` (index.js puts it there); not part of the public API. */
export declare function _checkCached(this: RouteGuard, authorization?: string | undefined | null): GuardDecision | null

/**
 * Panics inside the boundary, to prove a panic becomes an `OatkError` with
 * code `ERR_OATK_PANIC` instead of ending the process. Tests only.
 */
export declare function _panicForTest(): void

/**
 * Register the JavaScript `OatkError` class that failures are thrown as.
 * Called once by index.js; not part of the public API.
 */
export declare function _setErrorClass(errorClass: new (message: string, code: string) => Error): void

/** `OAuthToolkit.prototype.validate` (index.js puts it there); not part of the public API. */
export declare function _validate(this: OAuthToolkit, token?: string | undefined | null): Record<string, any>

/** `OAuthToolkit.prototype.validateAsync` (index.js puts it there); not part of the public API. */
export declare function _validateAsync(this: OAuthToolkit, token?: string | undefined | null): Promise<Record<string, any>>

/**
 * The browser client, oatk.js: the same file the fake server serves at
 * `/static/oatk.js`.
 */
export declare function browserScript(): string

/**
 * The 403 denial for a claim that a predicate needs but the token lacks:
 * `predicateDenial(name, 'absent')`.
 */
export declare function denyMissingClaim(name: string): GuardDecision

/**
 * The 403 denial for a claim that a predicate refused:
 * `predicateDenial(name, 'refused')`.
 */
export declare function denyRejectedClaim(name: string): GuardDecision

/**
 * Every code an `OatkError` can carry: one per core kind, in core's order,
 * then `ERR_OATK_PANIC`. index.js exports it as `ERROR_CODES`.
 */
export declare function errorCodes(): Array<string>

/** The root issuer (no `tenant`) or a tenant of the fake server. */
export interface FakeIssuer {
  tenant?: string
  /** The `iss` of its tokens. */
  issuer: string
  /** Where its endpoints are served: what `usingProvider` is given. */
  url: string
  discoveryUrl: string
  jwksUri: string
  /** The published keys, the signing one first. */
  keys: Array<FakeIssuerKey>
}

/** One key an issuer publishes. */
export interface FakeIssuerKey {
  kid: string
  alg: string
  /** New tokens are signed with it. */
  signing: boolean
  /** When it leaves the JWKS (server clock, seconds); absent: when retired on request. */
  retireAt?: number
}

/**
 * Options for `startFakeServer`. Left out, each is core's embedded preset:
 * a free port on loopback, everything in memory, no request log.
 */
export interface FakeServerOptions {
  /** Interface to listen on; default `localhost` (bound on 127.0.0.1). */
  host?: string
  /** Port; default 0, a free one. */
  port?: number
  /** The `iss` of its tokens, byte for byte; default `http://HOST:PORT`. */
  issuer?: string
  /** A TOML file with issuer, lifetimes, users and clients. */
  config?: string
  /**
   * Keep the SQLite database and generated key in this folder (created
   * when missing), so they survive a restart; default: in memory.
   */
  dataDir?: string
  /** Keep everything in memory, write nothing; default true unless `dataDir` is given. */
  memory?: boolean
  /** No request log on stderr; default true. */
  quiet?: boolean
}

/** What `FakeServer.issue` makes tokens for; every field is optional. */
export interface FakeTokenRequest {
  /**
   * The user, as if they had signed in and consented; left out: the
   * client acting for itself (`client_credentials`).
   */
  username?: string
  /**
   * For a user: their extra claims from now on. For a client: extra
   * claims of this token.
   */
  claims?: Record<string, any>
  /** The audience; default `test`, the seed's demo client (need not be registered). */
  clientId?: string
  /** Default `openid profile` for a user, the client's scope for a client. */
  scope?: string
  /** A tenant's issuer and keys instead of the root's (created on first use). */
  tenant?: string
}

/** A new key pair, as PEM text. */
export interface GeneratedKey {
  /** PKCS#8 (`BEGIN PRIVATE KEY`), for `withPrivatePem`. */
  privatePem: string
  /** SPKI (`BEGIN PUBLIC KEY`), for `withPublicPem`. */
  publicPem: string
}

/**
 * Generate a key pair for `alg` (default RS256: RSA 2048; ES256: P-256,
 * ES384: P-384, EdDSA: Ed25519; any RS/PS name: RSA 2048), as
 * `oatk keys generate` does.
 */
export declare function generateKey(alg?: string | undefined | null): GeneratedKey

/**
 * The outcome of `RouteGuard.check`: allowed with the validated claims, or
 * denied with the HTTP status, body and `WWW-Authenticate` value to send.
 */
export interface GuardDecision {
  /** True when the request may go on; `claims` then holds the token's claims. */
  allow: boolean
  claims?: Record<string, any>
  /** 401 (no or invalid token) or 403 (claims not satisfied) when denied. */
  status?: number
  /** The response body when denied, e.g. `Missing Authorization`. */
  body?: string
  /** The `WWW-Authenticate` header value (RFC 6750 3), when there is one. */
  wwwAuthenticate?: string
  /** The `ERR_OATK_*` code of the reason, when there is one. */
  code?: string
  /** For a 403: the required claim the token does not satisfy. */
  claim?: string
  /**
   * For a 403: how the claim falls short of the requirement (core's
   * `claims::Unmet`), the same names as Python's `Denial.unmet`.
   */
  unmet?: 'missing' | 'not_equal' | 'missing_value' | 'rejected'
}

/**
 * The decision for a predicate (a function given as a required claim's
 * value), from what it made of the token: `absent` (the claim is missing,
 * the predicate was not called), `accepted` (truthy), `refused` (falsy) or
 * `raised` (it threw, or its promise rejected). `null` when the request may
 * go on; otherwise the 403 to send. The rule is core's, the same in Flask,
 * FastAPI and Express.
 */
export declare function predicateDenial(claim: string, outcome: 'absent' | 'accepted' | 'refused' | 'raised'): GuardDecision | null

/**
 * Run the `oatk` command line with these arguments (without the program
 * name); returns the exit code. Meant for the `oatk` bin script: it blocks
 * the calling thread, and it gives SIGINT and SIGTERM back their default
 * action for this process, as in the Rust binary (`server run` then stops
 * gracefully on them; any other step is simply ended).
 */
export declare function runCli(args: Array<string>): number

/**
 * Start the fake OAuth2 / OpenID Connect server in this process (on its own
 * threads). With a toolkit holding a private key, it signs with that key.
 */
export declare function startFakeServer(options?: FakeServerOptions | undefined | null, toolkit?: OAuthToolkit | undefined | null): Promise<FakeServer>

/** Options for `withValidation`. */
export interface ValidationOptions {
  /** Seconds of clock skew tolerated on `exp` and `nbf`. Default 0. */
  leeway?: number
  /** Refuse tokens without `exp`. Default false. */
  requireExp?: boolean
  /** The clock, in seconds since the epoch. Default: the system clock. */
  now?: number
}

/** The oatk version (from the Cargo workspace). */
export declare function version(): string
