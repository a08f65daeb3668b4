'use strict'
// oatk/testing: the fake identity provider as a test kit, for node:test,
// Jest, Vitest or any runner.
//
//   const { fakeIdp } = require('oatk/testing')
//   await using idp = await fakeIdp()          // or: const idp = ...; after(() => idp.close())
//   app.get('/notes', idp.toolkit.authenticated(), handler)
//   const token = idp.token({ sub: 'xtof', groups: ['admin'] })
//   idp.advance(3600)                          // the server's clock and idp.toolkit's, an hour on
//   idp.rotateKeys()                           // a new signing key beside the old one
//
// Every call is one call of core's fake server (FakeServer in index.js) or
// toolkit; this file starts, stops and combines them, and decides nothing.

const { OAuthToolkit, startFakeServer } = require('./index.js')

/** The client the fake server issues tokens for when none is named (their `aud`). */
const DEFAULT_CLIENT_ID = 'test'
const OPTIONS = new Set(['clientId', 'host', 'port', 'issuer', 'config', 'dataDir', 'memory', 'quiet', 'toolkit'])

class FakeIdp {
  /** @param {import('./index').FakeServer} server */
  constructor(server, clientId) {
    /** The running fake server, for what the kit does not wrap (upsertUser, upsertClient...). */
    this.server = server
    /** The audience of `token()`'s tokens and of the validators. */
    this.clientId = clientId
    /** @type {Set<OAuthToolkit>} the validators that follow the server's clock */
    this._validators = new Set()
    /** @type {number | null} the now given to them (null: the system clock) */
    this._validatorNow = null
    /** @type {OAuthToolkit} set by fakeIdp() */
    this.toolkit = undefined
  }

  /** Where it listens, e.g. `http://localhost:41234`. */
  get url() {
    return this.server.url
  }

  /** The `iss` of its tokens. */
  get issuer() {
    return this.server.issuer
  }

  /** Its discovery document URL. */
  get discoveryUrl() {
    return this.server.discoveryUrl
  }

  /**
   * A signed access token for the user `sub` (default `xtof`; their
   * `username` claim, while the token's `sub` is the server's stable id for
   * them), carrying exactly the other claims given: they replace what the
   * user had. `scope` defaults to the server's (`openid profile`); options
   * `clientId` (default `this.clientId`) and `tenant` pick its audience and issuer.
   */
  token(claims = {}, options = {}) {
    const { sub = 'xtof', scope, ...extra } = claims
    const { clientId = this.clientId, tenant } = options
    this.server.upsertUser(sub, extra)
    return this.server.issue({ username: sub, clientId, scope, tenant }).access_token
  }

  /** The token endpoint's JSON for a user or, with no `username`, the client itself (`FakeServer.issue`). */
  issue(request = {}) {
    return this.server.issue(request)
  }

  /**
   * A toolkit validating as an app would: `usingProvider` on this server (or
   * on `tenant`'s issuer) and `withClientId` (default `this.clientId`). It
   * follows this server's clock, and a key rotation as any app does: it
   * fetches the key set again when a token names an unknown `kid` (at most
   * every 30 s). With an `issuer` option that is not where the server
   * listens, discovery cannot work (OpenID Connect Discovery 4.3): then it
   * trusts the key set published now, read where the server listens, and
   * requires that issuer.
   */
  async validator(options = {}) {
    const { clientId = this.clientId, tenant } = options
    const info = this.server.issuerInfo(tenant)
    const toolkit = new OAuthToolkit()
    if (info.issuer === info.url && info.url.startsWith(this.url)) {
      await toolkit.usingProvider(info.url)
    } else {
      let jwksUri = info.jwksUri
      if (this.issuer !== this.url && jwksUri.startsWith(this.issuer)) jwksUri = this.url + jwksUri.slice(this.issuer.length)
      const response = await fetch(jwksUri)
      if (!response.ok) throw new Error(`${jwksUri} answered HTTP ${response.status}`)
      toolkit.withJwks(await response.text()).withIssuer(info.issuer)
    }
    return this._followClock(toolkit.withClientId(clientId))
  }

  _followClock(toolkit) {
    this._validators.add(toolkit)
    if (this._validatorNow !== null) toolkit.withNow(this._validatorNow)
    return toolkit
  }

  _setValidatorNow(now) {
    this._validatorNow = now
    for (const toolkit of this._validators) toolkit.withNow(now)
  }

  /** The server's now, in seconds since the epoch. */
  get now() {
    return this.server.now
  }

  /**
   * Move the server's clock `seconds` ahead (behind when negative) and the
   * validators it handed out (`toolkit`, `validator()`) to the same instant,
   * so a token expires for both without sleeping. Returns the new now.
   */
  advance(seconds) {
    const now = this.server.advanceClock(seconds)
    this._setValidatorNow(now)
    return now
  }

  /** Stop the server's clock, and its validators', at `epoch` seconds. */
  freeze(epoch) {
    this.server.freezeClock(epoch)
    this._setValidatorNow(epoch)
  }

  /** The server and its validators back on the system clock. */
  resetClock() {
    this.server.resetClock()
    this._setValidatorNow(null)
  }

  /**
   * Publish a new signing key beside the old ones (of the root issuer, or of
   * `tenant`) and sign new tokens with it; the old keys leave the key set on
   * `retireOldKeys()`, or by themselves `retireAfter` seconds later on the
   * server's clock. Returns the new `kid`.
   */
  rotateKeys(options = {}) {
    const { tenant, retireAfter } = options
    return this.server.rotateKeys(tenant, retireAfter)
  }

  /** Remove every key but the signing one from the key set (of the root, or `tenant`); returns how many went. */
  retireOldKeys(options = {}) {
    return this.server.retireOldKeys(options.tenant)
  }

  /** The root issuer, or `tenant` (created on first use, served at `{url}/{tenant}`). */
  issuerInfo(tenant) {
    return this.server.issuerInfo(tenant)
  }

  /** Stop the server; resolves once it has stopped. Closing twice is fine. */
  async close() {
    this._validators.clear()
    await this.server.stop()
  }

  /** `await using idp = await fakeIdp()` closes it at the end of the block. */
  async [Symbol.asyncDispose]() {
    await this.close()
  }
}

/**
 * Start a fake OAuth2 / OpenID Connect identity provider for a test: core's
 * server in this process (any free port on localhost, everything in memory),
 * with `toolkit`, a validator trusting it, ready.
 * @param {import('./testing').FakeIdpOptions} [options]
 * @returns {Promise<FakeIdp>}
 */
async function fakeIdp(options = {}) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('fakeIdp(options): options must be an object')
  }
  const unknown = Object.keys(options).filter((name) => !OPTIONS.has(name))
  if (unknown.length > 0) throw new TypeError(`fakeIdp(options): unknown option ${unknown.join(', ')}`)
  const { clientId = DEFAULT_CLIENT_ID, ...serverOptions } = options
  const server = await startFakeServer(serverOptions)
  const idp = new FakeIdp(server, clientId)
  try {
    idp.toolkit = await idp.validator()
  } catch (err) {
    await server.stop()
    throw err
  }
  return idp
}

module.exports = { fakeIdp, FakeIdp, DEFAULT_CLIENT_ID }
