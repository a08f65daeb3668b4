// Types for `oatk/testing`: the fake identity provider as a test kit.
import type { FakeIssuer, FakeServer, FakeTokenRequest, OAuthToolkit } from './binding'
import type { StartFakeServerOptions } from './index'

/** `fakeIdp` options: the fake server's own (see `startFakeServer`), and the client its tokens are for. */
export interface FakeIdpOptions extends StartFakeServerOptions {
  /** The audience of `token()`'s tokens and of the validators; default `test`. */
  clientId?: string
}

/** What `token()` puts in a token: `sub` names the user, `scope` its scope, the rest are its extra claims. */
export interface FakeIdpClaims {
  /** The user (their `username` claim); default `xtof`. */
  sub?: string
  /** Default `openid profile`, the server's. */
  scope?: string
  [claim: string]: unknown
}

export interface FakeIdpTokenOptions {
  /** The token's audience; default the idp's `clientId`. */
  clientId?: string
  /** A tenant's issuer and keys (created on first use, served at `{url}/{tenant}`). */
  tenant?: string
}

export interface FakeIdpValidatorOptions extends FakeIdpTokenOptions {}

export interface FakeIdpKeyOptions {
  /** A tenant's keys instead of the root issuer's. */
  tenant?: string
}

export interface FakeIdpRotateOptions extends FakeIdpKeyOptions {
  /** Retire the old keys by themselves this many seconds later on the server's clock. */
  retireAfter?: number
}

/** A fake identity provider running for a test. */
export declare class FakeIdp implements AsyncDisposable {
  /** The running fake server, for what the kit does not wrap (`upsertUser`, `upsertClient`...). */
  readonly server: FakeServer
  /** The audience of `token()`'s tokens and of the validators. */
  readonly clientId: string
  /** A validator trusting this server as an app would (`usingProvider` + `withClientId`); it follows the server's clock. */
  readonly toolkit: OAuthToolkit
  /** Where it listens, e.g. `http://localhost:41234`. */
  get url(): string
  /** The `iss` of its tokens. */
  get issuer(): string
  /** Its discovery document URL. */
  get discoveryUrl(): string
  /** The server's now, in seconds since the epoch. */
  get now(): number
  /** A signed access token for the user `sub` carrying exactly these extra claims. */
  token(claims?: FakeIdpClaims, options?: FakeIdpTokenOptions): string
  /** The token endpoint's JSON for a user or, with no `username`, the client itself. */
  issue(request?: FakeTokenRequest): any
  /** Another validator (another audience, or a tenant), following the server's clock. */
  validator(options?: FakeIdpValidatorOptions): Promise<OAuthToolkit>
  /** Move the server's clock and its validators' `seconds` ahead; returns the new now. */
  advance(seconds: number): number
  /** Stop the server's clock, and its validators', at `epoch` seconds. */
  freeze(epoch: number): void
  /** The server and its validators back on the system clock. */
  resetClock(): void
  /** A new signing key beside the old ones; returns its `kid`. */
  rotateKeys(options?: FakeIdpRotateOptions): string
  /** Remove every key but the signing one from the key set; returns how many went. */
  retireOldKeys(options?: FakeIdpKeyOptions): number
  /** The root issuer, or a tenant (created on first use). */
  issuerInfo(tenant?: string): FakeIssuer
  /** Stop the server. Closing twice is fine. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** The client the fake server issues tokens for when none is named: `test`. */
export declare const DEFAULT_CLIENT_ID: string

/** Start a fake OAuth2 / OpenID Connect identity provider for a test, with a validator trusting it. */
export declare function fakeIdp(options?: FakeIdpOptions): Promise<FakeIdp>
