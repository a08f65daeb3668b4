// Interop with the reference npm libraries: tokens minted here verify with
// jose (against the fake server's jwks_uri) and jsonwebtoken; tokens minted
// by jose validate here.
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { describe, test } from 'node:test'

import * as jose from 'jose'

import { ecPem, expectCode, fakeServer, now, oatk, require, rsaPem } from './helpers.mjs'

const jsonwebtoken = require('jsonwebtoken')
const { OAuthToolkit } = oatk

describe('interop', () => {
  test('jose: jwtVerify with createRemoteJWKSet on the fake server jwks_uri', async (t) => {
    const toolkit = new OAuthToolkit().withPrivatePem(rsaPem().privatePem)
    const server = await fakeServer(t, { toolkit })
    const discovery = await fetch(`${server.url}/.well-known/openid-configuration`).then((r) => r.json())
    const JWKS = jose.createRemoteJWKSet(new URL(discovery.jwks_uri))

    const minted = toolkit.mint({ sub: 'xtof', iss: server.issuer, aud: 'test', exp: now() + 60 })
    const { payload, protectedHeader } = await jose.jwtVerify(minted, JWKS, { issuer: server.issuer, audience: 'test', algorithms: ['RS256'] })
    assert.equal(payload.sub, 'xtof')
    assert.equal(protectedHeader.kid, toolkit.header(minted).kid)

    const issued = server.issueToken('xtof', { name: 'Christophe VG' }).access_token
    assert.equal((await jose.jwtVerify(issued, JWKS, { issuer: server.issuer })).payload.name, 'Christophe VG')

    const stranger = new OAuthToolkit().withPrivatePem(rsaPem().privatePem).mint({ sub: 'x' })
    await assert.rejects(jose.jwtVerify(stranger, JWKS), (e) => e.code === 'ERR_JWKS_NO_MATCHING_KEY')
  })

  test('jose: a server-published EC key too', async (t) => {
    const toolkit = new OAuthToolkit().withPrivatePem(ecPem().privatePem)
    const server = await fakeServer(t, { toolkit })
    const JWKS = jose.createRemoteJWKSet(new URL(`${server.url}/oauth/certs`))
    const token = toolkit.mint({ sub: 'ec', exp: now() + 60 })
    const { protectedHeader } = await jose.jwtVerify(token, JWKS)
    assert.equal(protectedHeader.alg, 'ES256')
  })

  test('jsonwebtoken: verify with the public key, as a KeyObject and as PEM', () => {
    const keys = rsaPem()
    const toolkit = new OAuthToolkit().withPrivatePem(keys.privatePem)
    const token = toolkit.mint({ username: 'xtof', exp: now() + 60 })
    const fromJwk = createPublicKey({ key: JSON.parse(toolkit.jwks).keys[0], format: 'jwk' })
    assert.equal(jsonwebtoken.verify(token, fromJwk, { algorithms: ['RS256'] }).username, 'xtof')
    assert.equal(jsonwebtoken.verify(token, keys.publicPem, { algorithms: ['RS256'] }).username, 'xtof')
    assert.throws(() => jsonwebtoken.verify(`${token}x`, fromJwk, { algorithms: ['RS256'] }), /invalid signature/)
  })

  test('jsonwebtoken-minted tokens validate here', async () => {
    const keys = rsaPem()
    const toolkit = new OAuthToolkit().withPublicPem(keys.publicPem)
    const kid = JSON.parse(toolkit.jwks).keys[0].kid
    const token = jsonwebtoken.sign({ username: 'xtof' }, keys.privateKey, { algorithm: 'RS256', keyid: kid, expiresIn: 60 })
    assert.equal(toolkit.validate(token).username, 'xtof')
    const expired = jsonwebtoken.sign({ username: 'xtof', exp: now() - 10 }, keys.privateKey, { algorithm: 'RS256', keyid: kid })
    await expectCode(assert, () => toolkit.validate(expired), 'ERR_OATK_EXPIRED')
  })

  test('jose-minted tokens (RS256, PS256, ES256, EdDSA) validate here through a jose-exported JWKS', async () => {
    for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA']) {
      const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true })
      const jwk = { ...(await jose.exportJWK(publicKey)), alg, kid: `jose-${alg}`, use: 'sig' }
      const toolkit = new OAuthToolkit().withJwks({ keys: [jwk] })
      const token = await new jose.SignJWT({ username: 'xtof', groups: ['admin'] })
        .setProtectedHeader({ alg, kid: jwk.kid, typ: 'JWT' })
        .setIssuedAt().setIssuer('http://jose').setAudience('test').setExpirationTime('2m')
        .sign(privateKey)
      const claims = toolkit.withClientId('test').withIssuer('http://jose').validate(token)
      assert.deepEqual([claims.username, claims.groups], ['xtof', ['admin']], alg)
      assert.deepEqual(await toolkit.validateAsync(token), claims, alg)
      const [h, p] = token.split('.')
      await expectCode(assert, () => toolkit.validate(`${h}.${p}.${'A'.repeat(86)}`), 'ERR_OATK_SIGNATURE')
    }
  })

  test('jose: an HS256 token is refused (no key confusion with a public key)', async () => {
    const keys = rsaPem()
    const toolkit = new OAuthToolkit().withPublicPem(keys.publicPem)
    const kid = JSON.parse(toolkit.jwks).keys[0].kid
    const token = await new jose.SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256', kid })
      .sign(new TextEncoder().encode(keys.publicPem))
    await expectCode(assert, () => toolkit.validate(token), 'ERR_OATK_UNSUPPORTED_ALGORITHM')
  })
})
