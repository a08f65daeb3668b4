// OAuthToolkit: every method, in the seed's order (keys, JWKS, token, validate, decode).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import { b64url, ecPem, expectCode, fakeServer, now, oatk, require, rsaPem, tempDir, writeKeyFiles } from './helpers.mjs'

const { OAuthToolkit } = oatk

describe('OAuthToolkit', () => {
  test('the seed walk: withPrivate, withJwks, claims, token, validate, decode', (t) => {
    const dir = tempDir(t)
    const { privatePath, publicPath } = writeKeyFiles(dir)
    const certs = join(dir, 'certs.json')
    writeFileSync(certs, new OAuthToolkit().withPublic(publicPath).jwks)

    const oauth = new OAuthToolkit()
    assert.equal(oauth.withPrivate(privatePath), oauth, 'setters chain and return the toolkit')
    assert.equal(oauth.withJwks(certs), oauth)
    assert.equal(oauth.claims({ hello: 'world' }), oauth)
    const token = oauth.token
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/)
    assert.deepEqual(oauth.validate(token), { hello: 'world' })
    assert.deepEqual(oauth.decode(token), { hello: 'world' })
    const header = oauth.header(token)
    assert.equal(header.alg, 'RS256')
    assert.equal(header.kid, JSON.parse(readFileSync(certs, 'utf8')).keys[0].kid)
  })

  test('token is null without a private key, and a new token each time claims change', () => {
    const oauth = new OAuthToolkit()
    assert.equal(oauth.token, null)
    oauth.withPrivatePem(rsaPem().privatePem)
    assert.equal(oauth.claims({ a: 1 }).validate(oauth.token).a, 1)
    assert.equal(oauth.claims({ a: 2 }).validate(oauth.token).a, 2)
  })

  test('withPrivatePem accepts PKCS#8 and PKCS#1 (openssl genrsa) RSA keys and EC keys', () => {
    const rsa = rsaPem()
    for (const pem of [rsa.privatePem, rsa.pkcs1Pem, ecPem().privatePem]) {
      const oauth = new OAuthToolkit().withPrivatePem(pem)
      assert.equal(oauth.validate(oauth.mint({ sub: 'x' })).sub, 'x')
    }
    assert.equal(new OAuthToolkit().withPrivatePem(ecPem().privatePem).header(new OAuthToolkit().withPrivatePem(ecPem().privatePem).mint({})).alg, 'ES256')
  })

  test('withPublic and withPublicPem validate what the private key minted', (t) => {
    const dir = tempDir(t)
    const keys = writeKeyFiles(dir)
    const token = new OAuthToolkit().withPrivatePem(keys.privatePem).mint({ u: 1 })
    assert.deepEqual(new OAuthToolkit().withPublic(keys.publicPath).validate(token), { u: 1 })
    assert.deepEqual(new OAuthToolkit().withPublicPem(keys.publicPem).validate(token), { u: 1 })
    assert.equal(new OAuthToolkit().withPublicPem(keys.publicPem).token, null, 'a public key cannot mint')
  })

  test('withJwks takes a path, the JSON text or the parsed object', (t) => {
    const dir = tempDir(t)
    const signer = new OAuthToolkit().withPrivatePem(rsaPem().privatePem)
    const jwks = signer.jwks
    const path = join(dir, 'certs.json')
    writeFileSync(path, jwks)
    const token = signer.mint({ from: 'signer' })
    for (const source of [path, jwks, JSON.parse(jwks)]) {
      assert.deepEqual(new OAuthToolkit().withJwks(source).validate(token), { from: 'signer' })
    }
    const parsed = JSON.parse(new OAuthToolkit().withJwks(JSON.parse(jwks)).jwks)
    assert.deepEqual(parsed, JSON.parse(jwks), 'jwks publishes the loaded set')
    assert.equal(parsed.keys[0].kty, 'RSA')
    assert.equal(parsed.keys[0].alg, 'RS256')
  })

  test('jwks: our public key with an RFC 7638 thumbprint kid; throws without keys', async () => {
    const oauth = new OAuthToolkit().withPrivatePem(rsaPem().privatePem)
    const { keys } = JSON.parse(oauth.jwks)
    assert.equal(keys.length, 1)
    assert.match(keys[0].kid, /^[\w-]{43}$/)
    assert.equal(keys[0].d, undefined, 'never the private part')
    await expectCode(assert, () => new OAuthToolkit().jwks, 'ERR_OATK_KEY')
  })

  test('withClientId requires the audience; withIssuer the issuer', async () => {
    const signer = new OAuthToolkit().withPrivatePem(rsaPem().privatePem)
    const good = signer.mint({ aud: ['test', 'other'], iss: 'http://idp' })
    const jwks = signer.jwks
    assert.equal(new OAuthToolkit().withJwks(jwks).withClientId('test').withIssuer('http://idp').validate(good).iss, 'http://idp')
    await expectCode(assert, () => new OAuthToolkit().withJwks(jwks).withClientId('nope').validate(good), 'ERR_OATK_AUDIENCE')
    await expectCode(assert, () => new OAuthToolkit().withJwks(jwks).withIssuer('http://other').validate(good), 'ERR_OATK_ISSUER')
  })

  test('fromFile and withToken set the token that validate, decode and header use', (t) => {
    const dir = tempDir(t)
    const oauth = new OAuthToolkit().withPrivatePem(rsaPem().privatePem).claims({ hello: 'world' })
    const file = join(dir, 'token.txt')
    writeFileSync(file, `${oauth.token}\n`)
    assert.deepEqual(new OAuthToolkit().withJwks(oauth.jwks).fromFile(file).validate(), { hello: 'world' })
    assert.deepEqual(oauth.fromFile(file).decode(), { hello: 'world' })
    assert.equal(oauth.header().typ, 'JWT')
    assert.deepEqual(oauth.withToken(`Bearer ${oauth.token}`).validate(), { hello: 'world' })
  })

  test('claims keep their JSON types and order', () => {
    const oauth = new OAuthToolkit().withPrivatePem(ecPem().privatePem)
    const claims = { username: 'xtof', n: 3, big: 2 ** 40, f: 1.5, yes: true, none: null, groups: ['a', 'b'], nested: { x: [1, { y: 'z' }] } }
    const back = oauth.validate(oauth.claims(claims).token)
    assert.deepEqual(back, claims)
    assert.deepEqual(Object.keys(back), Object.keys(claims))
    assert.equal(JSON.parse(Buffer.from(oauth.token.split('.')[1], 'base64url')).big, 2 ** 40)
  })

  test('withAlgorithm: PS256 with an RSA key; unknown or unfitting names are refused', async () => {
    const oauth = new OAuthToolkit().withPrivatePem(rsaPem().privatePem).withAlgorithm('PS256')
    const token = oauth.mint({ a: 1 })
    assert.equal(oauth.header(token).alg, 'PS256')
    assert.equal(oauth.validate(token).a, 1)
    assert.equal(JSON.parse(oauth.jwks).keys[0].alg, 'PS256')
    await expectCode(assert, () => oauth.withAlgorithm('HS256'), 'ERR_OATK_INVALID_ARGUMENT')
    await expectCode(assert, () => oauth.withAlgorithm('ES256'), 'ERR_OATK_KEY')
  })

  test('withValidation: leeway, requireExp and a fixed clock', async () => {
    const oauth = new OAuthToolkit().withPrivatePem(ecPem().privatePem)
    const t0 = 1_700_000_000
    const token = oauth.mint({ exp: t0 + 10, nbf: t0 - 10 })
    assert.equal(oauth.withValidation({ now: t0 }).validate(token).exp, t0 + 10)
    await expectCode(assert, () => oauth.withValidation({ now: t0 + 10 }).validate(token), 'ERR_OATK_EXPIRED')
    assert.equal(oauth.withValidation({ now: t0 + 15, leeway: 30 }).validate(token).exp, t0 + 10)
    await expectCode(assert, () => oauth.withValidation({ now: t0 - 100, leeway: 0 }).validate(token), 'ERR_OATK_NOT_YET_VALID')
    const noExp = oauth.mint({ sub: 'x' })
    assert.equal(oauth.withValidation({ now: t0 }).validate(noExp).sub, 'x')
    await expectCode(assert, () => oauth.withValidation({ requireExp: true }).validate(noExp), 'ERR_OATK_MISSING_CLAIM')
  })

  test('withNow fixes the clock: a token expires without sleeping; null goes back to the system clock', async () => {
    const oauth = new OAuthToolkit().withPrivatePem(ecPem().privatePem)
    const t0 = 1_700_000_000
    const token = oauth.mint({ exp: t0 + 10 })
    assert.equal(oauth.withNow(t0), oauth)
    assert.equal(oauth.validate(token).exp, t0 + 10)
    await expectCode(assert, () => oauth.withNow(t0 + 10).validate(token), 'ERR_OATK_EXPIRED')
    await expectCode(assert, () => oauth.validateAsync(token), 'ERR_OATK_EXPIRED')
    await expectCode(assert, () => oauth.withNow(null).validate(token), 'ERR_OATK_EXPIRED') // t0 + 10 is long past
    const fresh = oauth.mint({ sub: 'fresh', exp: now() + 60 })
    assert.equal(oauth.validate(fresh).sub, 'fresh')
    await expectCode(assert, () => oauth.withNow(now() + 120).validate(fresh), 'ERR_OATK_EXPIRED')
  })

  test('withLeeway accepts exp and nbf that many seconds off', async () => {
    const oauth = new OAuthToolkit().withPrivatePem(ecPem().privatePem).withNow(1_700_000_000)
    const expired = oauth.mint({ exp: 1_700_000_000 - 20 })
    const early = oauth.mint({ nbf: 1_700_000_000 + 20 })
    await expectCode(assert, () => oauth.validate(expired), 'ERR_OATK_EXPIRED')
    await expectCode(assert, () => oauth.validate(early), 'ERR_OATK_NOT_YET_VALID')
    assert.equal(oauth.withLeeway(30), oauth)
    assert.equal(oauth.validate(expired).exp, 1_700_000_000 - 20)
    assert.equal(oauth.validate(early).nbf, 1_700_000_000 + 20)
    await expectCode(assert, () => oauth.withLeeway(10).validate(expired), 'ERR_OATK_EXPIRED')
  })

  test('withRequireExp refuses tokens without exp, and can allow them again', async () => {
    const oauth = new OAuthToolkit().withPrivatePem(ecPem().privatePem)
    const noExp = oauth.mint({ sub: 'x' })
    assert.equal(oauth.validate(noExp).sub, 'x', 'not required by default (the original\'s tokens carry none)')
    assert.equal(oauth.withRequireExp(true), oauth)
    await expectCode(assert, () => oauth.validate(noExp), 'ERR_OATK_MISSING_CLAIM')
    assert.equal(oauth.validate(oauth.mint({ sub: 'x', exp: now() + 60 })).sub, 'x')
    assert.equal(oauth.withRequireExp(false).validate(noExp).sub, 'x')
  })

  test('withCache: a repeated token validates again, and is still refused once it expires', async () => {
    const oauth = new OAuthToolkit().withPrivatePem(rsaPem().privatePem)
    const t0 = 1_700_000_000
    const token = oauth.mint({ username: 'xtof', exp: t0 + 10 })
    assert.equal(oauth.withCache(16), oauth)
    oauth.withNow(t0)
    const first = oauth.validate(token)
    assert.deepEqual(oauth.validate(token), first, 'the cached answer')
    assert.deepEqual(await oauth.validateAsync(token), first)
    await expectCode(assert, () => oauth.withNow(t0 + 10).validate(token), 'ERR_OATK_EXPIRED')
    await expectCode(assert, () => oauth.withClientId('test').withNow(t0).validate(token), 'ERR_OATK_AUDIENCE')
    // new keys: the cached verification no longer counts
    const other = new OAuthToolkit().withPrivatePem(rsaPem().privatePem).withCache(16).withNow(t0)
    await expectCode(assert, () => other.validate(token), 'ERR_OATK_UNKNOWN_KEY')
    assert.equal(oauth.withCache(0), oauth, '0 turns it off')
    await expectCode(assert, () => oauth.validate(`${token.slice(0, -4)}AAAA`), 'ERR_OATK_SIGNATURE')
  })

  test('withCache: every hit returns a new object of its own, refused the second it expires', async () => {
    const oauth = new OAuthToolkit().withPrivatePem(ecPem().privatePem).withCache(16)
    const t0 = 1_700_000_000
    const claims = { sub: 'xtof', scope: 'openid', n: 1.5, ok: true, none: null, exp: t0 + 10 }
    const token = oauth.mint(claims)
    oauth.withNow(t0)
    const first = oauth.validate(token) // verified, remembered
    const second = oauth.validate(token) // a hit
    assert.notEqual(second, first)
    assert.deepEqual(second, claims)
    second.sub = 'someone else'
    second.admin = true
    assert.deepEqual(oauth.validate(token), claims, 'what a caller did to one object never shows in another')
    assert.deepEqual(Object.keys(oauth.validate(token)), Object.keys(claims), 'the same names in the same order')
    assert.deepEqual(await oauth.validateAsync(token), claims)
    await expectCode(assert, () => oauth.withNow(t0 + 10).validate(token), 'ERR_OATK_EXPIRED')
  })

  test('validateWithClaims: valid and satisfying, or ERR_OATK_CLAIMS with the core message', async () => {
    const oauth = new OAuthToolkit().withPrivatePem(ecPem().privatePem)
    const token = oauth.mint({ username: 'xtof', groups: ['users', 'admin'], scope: 'openid profile' })
    assert.deepEqual(oauth.validateWithClaims(token, { username: 'xtof', groups: ['admin'], scope: ['profile'] }), oauth.validate(token))
    const refused = await expectCode(assert, () => oauth.validateWithClaims(token, { username: 'jane' }), 'ERR_OATK_CLAIMS')
    assert.equal(refused.message, "claim username doesn't equal required value")
    await expectCode(assert, () => oauth.validateWithClaims(token, { email: 'x' }), 'ERR_OATK_CLAIMS')
    await expectCode(assert, () => oauth.validateWithClaims('a.b.c', {}), 'ERR_OATK_MALFORMED')
    assert.equal(oauth.withToken(token).validateWithClaims(null, { username: 'xtof' }).username, 'xtof', 'null: the token set by withToken')
  })

  test('generateKey: a key pair for each algorithm family, usable at once', async () => {
    for (const [alg, kty] of [[undefined, 'RSA'], ['RS256', 'RSA'], ['PS256', 'RSA'], ['ES256', 'EC'], ['ES384', 'EC'], ['EdDSA', 'OKP']]) {
      const { privatePem, publicPem } = oatk.generateKey(alg)
      assert.match(privatePem, /^-----BEGIN PRIVATE KEY-----\r?\n/, alg)
      assert.match(publicPem, /^-----BEGIN PUBLIC KEY-----\r?\n/, alg)
      const signer = new OAuthToolkit().withPrivatePem(privatePem)
      if (alg) signer.withAlgorithm(alg)
      assert.equal(JSON.parse(signer.jwks).keys[0].kty, kty, alg)
      const kid = (toolkit) => JSON.parse(toolkit.jwks).keys[0].kid
      assert.equal(kid(new OAuthToolkit().withPublicPem(publicPem)), kid(signer), `${alg}: the public half of the private key`)
      assert.equal(new OAuthToolkit().withJwks(signer.jwks).validate(signer.mint({ alg: alg ?? 'default' })).alg, alg ?? 'default')
    }
    assert.notEqual(oatk.generateKey('ES256').privatePem, oatk.generateKey('ES256').privatePem, 'a fresh key each time')
    await expectCode(assert, () => oatk.generateKey('HS256'), 'ERR_OATK_INVALID_ARGUMENT')
  })

  test('validateAsync resolves to the claims and rejects with an OatkError', async () => {
    const oauth = new OAuthToolkit().withPrivatePem(rsaPem().privatePem)
    const token = oauth.mint({ username: 'xtof', exp: now() + 60 })
    assert.deepEqual(await oauth.validateAsync(token), oauth.validate(token))
    const results = await Promise.all(Array.from({ length: 64 }, () => oauth.validateAsync(token)))
    assert.ok(results.every((c) => c.username === 'xtof'))
    await expectCode(assert, () => oauth.validateAsync(`${token.slice(0, -4)}AAAA`), 'ERR_OATK_SIGNATURE')
    await expectCode(assert, () => oauth.validateAsync('not a token'), 'ERR_OATK_MALFORMED')
    await expectCode(assert, () => new OAuthToolkit().validateAsync(token), 'ERR_OATK_KEY')
  })

  test('claims are the same object by every conversion route (claim-routes.mjs, a process of its own)', () => {
    const out = execFileSync(process.execPath, [new URL('claim-routes.mjs', import.meta.url).pathname], { encoding: 'utf8' })
    // 32 tokens by a constructor (the shapes kept), 12 by JSON.parse, 2 by N-API
    assert.deepEqual(JSON.parse(out), { fast: 32, parsed: 12, napi: 2 })
  })

  test('decode and header do not verify', () => {
    const token = `${b64url({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${b64url({ hello: 'world' })}.c2ln`
    const oauth = new OAuthToolkit()
    assert.deepEqual(oauth.decode(token), { hello: 'world' })
    assert.deepEqual(oauth.header(token), { alg: 'RS256', kid: 'k1', typ: 'JWT' })
  })

  test('usingProvider resolves to the toolkit and trusts the provider keys', async (t) => {
    const server = await fakeServer(t)
    const oauth = new OAuthToolkit()
    const resolved = await oauth.usingProvider(server.url)
    assert.equal(resolved, oauth)
    oauth.withClientId('test')
    const { access_token: accessToken } = server.issueToken('xtof', { name: 'Christophe VG' })
    const claims = oauth.validate(accessToken)
    assert.equal(claims.iss, server.issuer)
    assert.equal(claims.name, 'Christophe VG')
    assert.deepEqual(JSON.parse(oauth.jwks), JSON.parse(server.jwks))
    assert.deepEqual(await oauth.validateAsync(accessToken), claims)
  })

  test('usingProvider rejects with ERR_OATK_NETWORK when nothing answers', async () => {
    await expectCode(assert, () => new OAuthToolkit().usingProvider('http://127.0.0.1:9'), 'ERR_OATK_NETWORK')
  })

  test('ESM: named imports work', async () => {
    const esm = await import('oatk')
    for (const name of Object.keys(oatk)) assert.equal(esm[name], oatk[name], name)
    assert.equal(esm.default, oatk)
  })

  test('version is the workspace version, also in package.json', () => {
    const cargo = readFileSync(new URL('../../Cargo.toml', import.meta.url), 'utf8')
    const workspaceVersion = cargo.match(/\[workspace\.package\][^[]*?version\s*=\s*"([^"]+)"/)[1]
    assert.equal(new OAuthToolkit().version, workspaceVersion)
    assert.equal(oatk.version, workspaceVersion)
    assert.equal(require('oatk/package.json').version, workspaceVersion,
      'package.json "version" must equal [workspace.package] version in Cargo.toml')
  })
})
