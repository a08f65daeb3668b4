// Types for `oatk`. The native API (OAuthToolkit, RouteGuard, FakeServer and
// their options) is generated from the Rust sources into binding.d.ts by
// napi-rs; this file adds what the JavaScript layer defines: OatkError and
// ERROR_CODES, the Express middleware, startFakeServer with its `toolkit` option.
import type { IncomingMessage, ServerResponse } from 'node:http'

import type { FakeServer, FakeServerOptions, OAuthToolkit } from './binding'

export {
  FakeServer,
  FakeServerOptions,
  GeneratedKey,
  GuardDecision,
  OAuthToolkit,
  RouteGuard,
  ValidationOptions,
  browserScript,
  denyMissingClaim,
  denyRejectedClaim,
  generateKey,
  predicateDenial,
  runCli,
} from './binding'

/**
 * One stable code per core error kind, plus `ERR_OATK_PANIC` (a bug in oatk).
 * A test checks this list against `ERROR_CODES`, which core makes at run time.
 */
export type OatkErrorCode =
  | 'ERR_OATK_MALFORMED'
  | 'ERR_OATK_SIGNATURE'
  | 'ERR_OATK_EXPIRED'
  | 'ERR_OATK_NOT_YET_VALID'
  | 'ERR_OATK_UNKNOWN_KEY'
  | 'ERR_OATK_UNSUPPORTED_ALGORITHM'
  | 'ERR_OATK_AUDIENCE'
  | 'ERR_OATK_ISSUER'
  | 'ERR_OATK_MISSING_CLAIM'
  | 'ERR_OATK_CLAIMS'
  | 'ERR_OATK_KEY'
  | 'ERR_OATK_JWKS'
  | 'ERR_OATK_IO'
  | 'ERR_OATK_INVALID_ARGUMENT'
  | 'ERR_OATK_NETWORK'
  | 'ERR_OATK_SERVER'
  | 'ERR_OATK_PANIC'

/**
 * Every failure oatk reports: a stable `code` and the core's message, which
 * names what failed. Compare `err.code`, never the message text.
 */
export declare class OatkError extends Error {
  constructor(message: string, code: OatkErrorCode)
  readonly name: 'OatkError'
  readonly code: OatkErrorCode
}

/** Every `OatkErrorCode`, in core's order of error kinds, then `ERR_OATK_PANIC`. */
export declare const ERROR_CODES: readonly OatkErrorCode[]

/** A token's claims (JSON object). */
export type Claims = Record<string, any>

/**
 * Checks one claim's value (only the value); return true (or a Promise of
 * true) to accept. Not called when the claim is absent (403, missing). A
 * false result refuses (403); so does a throw or a rejected Promise (403,
 * and a process warning `OATK_PREDICATE_THREW` with the stack).
 */
export type ClaimPredicate = (value: any) => boolean | Promise<boolean>

/**
 * What a route requires. A value must be equal; a list must all be contained
 * (in a list claim, or a space-separated string such as `scope`); a function
 * decides for itself.
 */
export type RequiredClaims = Record<string, string | number | boolean | null | readonly unknown[] | { [key: string]: unknown } | ClaimPredicate>

/** A connect-style middleware: Express 4 and 5, or plain `node:http` with a `next`. */
export type Middleware = (req: IncomingMessage & { auth?: Claims }, res: ServerResponse, next: (err?: any) => void) => void

/** A connect-style request handler. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void

declare module './binding' {
  interface OAuthToolkit {
    /**
     * Middleware for any valid token: 401 `Missing Authorization` without a
     * header, 401 with `WWW-Authenticate: Bearer error="invalid_token", ...`
     * for an invalid or expired token; otherwise the claims go on `req.auth`.
     * Setup failures (no key configured, a provider down) go to `next(err)`.
     */
    authenticated(): Middleware
    /**
     * As `authenticated()`, and the claims must satisfy `required`, else 403
     * with the core's message, e.g. `claim username doesn't equal required value`.
     */
    authenticatedWithClaims(required: RequiredClaims): Middleware
    /** The browser client's source (oatk.js). */
    browserScript(): string
    /** A handler serving oatk.js: `app.get('/oatk.js', toolkit.serveBrowserScript())`. */
    serveBrowserScript(): Handler
  }
}

/** `startFakeServer` options: the server's own, and a toolkit whose private key it signs with. */
export interface StartFakeServerOptions extends FakeServerOptions {
  /** Sign with this toolkit's private key (and publish its JWKS) instead of a generated key. */
  toolkit?: OAuthToolkit
}

/**
 * Start the fake OAuth2 / OpenID Connect server in this process (its own
 * threads). Options left out are core's embedded preset: a free port on
 * loopback, everything in memory, no request log; `dataDir` keeps the
 * database and key in that folder instead.
 */
export declare function startFakeServer(options?: StartFakeServerOptions): Promise<FakeServer>

/** A handler serving the browser client: `app.get('/oatk.js', serveBrowserScript())`. */
export declare function serveBrowserScript(): Handler

/** The oatk version (the Cargo workspace's). */
export declare const version: string

declare global {
  namespace Express {
    interface Request {
      /** The validated token claims, set by `authenticated()` / `authenticatedWithClaims()`. */
      auth?: Record<string, any>
    }
  }
}
