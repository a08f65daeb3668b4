// startFakeServer: the core's fake OAuth2 / OpenID Connect server in this process.
import assert from 'node:assert/strict'
import { existsSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import { expectCode, fakeServer, oatk, rsaPem, tempDir } from './helpers.mjs'

const { OAuthToolkit } = oatk

describe('startFakeServer', () => {
  test('serves discovery and JWKS on 127.0.0.1 with a free port', async (t) => {
    const server = await fakeServer(t)
    assert.match(server.url, /^http:\/\/localhost:\d+$/)
    assert.ok(!server.url.endsWith(':0'))
    const discovery = await fetch(`${server.url}/.well-known/openid-configuration`).then((r) => r.json())
    assert.equal(discovery.issuer, server.issuer)
    for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']) {
      assert.ok(discovery[endpoint].startsWith(server.url), endpoint)
    }
    const jwks = await fetch(discovery.jwks_uri).then((r) => r.json())
    assert.deepEqual(jwks, JSON.parse(server.jwks))
  })

  test('discoveryUrl is the document usingProvider is given', async (t) => {
    const server = await fakeServer(t)
    assert.equal(server.discoveryUrl, `${server.url}/.well-known/openid-configuration`)
    assert.equal((await fetch(server.discoveryUrl).then((r) => r.json())).issuer, server.issuer)
    const oauth = await new OAuthToolkit().usingProvider(server.discoveryUrl)
    const token = server.issueToken('xtof').access_token
    // A provider's tokens need an audience (withClientId) or its waiver.
    assert.throws(() => oauth.validate(token), (err) => err.code === 'ERR_OATK_INVALID_ARGUMENT' && /withClientId|with_client_id/.test(err.message))
    assert.equal(oauth.withClientId('test').validate(token).iss, server.issuer)
    const any = (await new OAuthToolkit().usingProvider(server.url)).acceptAnyAudience().acceptAnyIssuer()
    assert.equal(any.validate(token).iss, server.issuer)
  })

  test('without options: the embedded preset (a free port, in memory, quiet)', async (t) => {
    const before = existsSync('.oatk') ? statSync('.oatk').mtimeMs : null
    const server = await oatk.startFakeServer()
    t.after(() => server.stop())
    const other = await oatk.startFakeServer({})
    t.after(() => other.stop())
    assert.match(server.url, /^http:\/\/localhost:\d+$/)
    assert.notEqual(server.url, other.url, 'two side by side')
    assert.notEqual(server.jwks, other.jwks, 'each with a key of its own')
    server.issueToken('xtof', { color: 'blue' })
    assert.equal(existsSync('.oatk') ? statSync('.oatk').mtimeMs : null, before, 'nothing written to ./.oatk')
  })

  test('issueToken gives the token endpoint response; userinfo accepts the access token', async (t) => {
    const server = await fakeServer(t)
    const response = server.issueToken('xtof', { name: 'Christophe VG', groups: ['admin'] })
    assert.equal(response.token_type, 'Bearer')
    for (const field of ['access_token', 'id_token', 'refresh_token']) assert.equal(typeof response[field], 'string', field)
    const claims = new OAuthToolkit().withJwks(server.jwks).withIssuer(server.issuer).validate(response.access_token)
    assert.equal(claims.name, 'Christophe VG')
    assert.deepEqual(claims.groups, ['admin'])
    const userinfo = await fetch(`${server.url}/oauth/userinfo`, { headers: { Authorization: `Bearer ${response.access_token}` } })
    assert.equal(userinfo.status, 200)
    assert.equal((await userinfo.json()).name, 'Christophe VG')
    const idToken = new OAuthToolkit().decode(response.id_token)
    assert.equal(idToken.aud, 'test', 'the default client is the seed\'s "test"')
    const other = server.issueToken('jane', {}, 'another-client', 'openid')
    assert.equal(new OAuthToolkit().decode(other.id_token).aud, 'another-client')
  })

  test('a config file: issuer, users and clients', async (t) => {
    const dir = tempDir(t)
    const config = join(dir, 'oatk.toml')
    writeFileSync(config, [
      'issuer = "http://issuer.test"',
      '[[users]]',
      'username = "xtof"',
      'claims = { name = "Christophe VG" }',
      '[[clients]]',
      'client_id = "app"',
      'client_secret = "s3cret"',
      'redirect_uris = ["http://localhost:5001"]',
      'grant_types = ["authorization_code", "client_credentials", "refresh_token"]',
      '',
    ].join('\n'))
    const server = await fakeServer(t, { config })
    assert.equal(server.issuer, 'http://issuer.test')
    const token = server.issueToken('xtof', {}, 'app').access_token
    assert.equal(new OAuthToolkit().decode(token).name, 'Christophe VG')
    assert.equal(new OAuthToolkit().decode(token).iss, 'http://issuer.test')
  })

  test('with a toolkit, it signs with the toolkit key', async (t) => {
    const toolkit = new OAuthToolkit().withPrivatePem(rsaPem().privatePem)
    const server = await fakeServer(t, { toolkit })
    assert.deepEqual(JSON.parse(server.jwks), JSON.parse(toolkit.jwks))
    assert.equal(toolkit.validate(server.issueToken('xtof').access_token).iss, server.issuer)
  })

  test('upsertUser and upsertClient', async (t) => {
    const server = await fakeServer(t)
    server.upsertUser('jane', { email: 'jane@example.test' })
    assert.equal(new OAuthToolkit().decode(server.issueToken('jane').access_token).email, 'jane@example.test')
    server.upsertClient({ client_id: 'spa', redirect_uris: ['http://localhost:1234/'], public: true, scope: 'openid profile' })
    const authorize = await fetch(`${server.url}/oauth/authorize?response_type=code&client_id=spa&redirect_uri=${encodeURIComponent('http://localhost:1234/')}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&state=x`, { redirect: 'manual' })
    assert.ok(authorize.status < 400, `registered client accepted (${authorize.status})`)
    const unknown = await fetch(`${server.url}/oauth/authorize?response_type=code&client_id=nope&redirect_uri=${encodeURIComponent('http://localhost:1234/')}`, { redirect: 'manual' })
    assert.ok(unknown.status >= 400, 'an unknown client is refused')
    await expectCode(assert, () => server.upsertClient({ client_id: 'x', no_such_field: 1 }), 'ERR_OATK_INVALID_ARGUMENT')
  })

  test('upsertUser and upsertClient are checked as the admin API checks them', async (t) => {
    const server = await fakeServer(t)
    await expectCode(assert, () => server.upsertUser('', { a: 1 }), 'ERR_OATK_INVALID_ARGUMENT')
    await expectCode(assert, () => server.upsertUser('x'.repeat(10_000)), 'ERR_OATK_INVALID_ARGUMENT')
    await expectCode(assert, () => server.upsertClient({ client_id: '' }), 'ERR_OATK_INVALID_ARGUMENT')
    await expectCode(assert, () => server.upsertClient({ client_id: 'spa', redirect_uris: ['http://localhost:1234/#frag'] }), 'ERR_OATK_INVALID_ARGUMENT')
    await expectCode(assert, () => server.upsertClient({ client_id: 'spa', redirect_uris: 'http://localhost:1234/' }), 'ERR_OATK_INVALID_ARGUMENT')
    const admin = (client) => fetch(`${server.url}/admin/clients`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(client),
    }).then((r) => r.status)
    assert.equal(await admin({ client_id: 'spa', redirect_uris: ['http://localhost:1234/#frag'] }), 400, 'the admin API refuses the same client')
    assert.ok(await admin({ client_id: 'spa', redirect_uris: ['http://localhost:1234/'] }) < 300, 'and takes a good one')
  })

  test('stop() ends it; stopping twice is fine; a stopped server refuses calls', async () => {
    const server = await oatk.startFakeServer({ port: 0, memory: true, quiet: true })
    const { url } = server
    assert.equal((await fetch(`${url}/oauth/certs`)).status, 200)
    await server.stop()
    await assert.rejects(fetch(`${url}/oauth/certs`))
    await server.stop()
    await expectCode(assert, () => server.issueToken('xtof'), 'ERR_OATK_SERVER')
    const stopped = await expectCode(assert, () => server.upsertUser('jane'), 'ERR_OATK_SERVER')
    assert.equal(stopped.message, 'the fake server is stopped')
    await expectCode(assert, () => server.upsertClient({ client_id: 'spa', redirect_uris: ['http://localhost:1234/'] }), 'ERR_OATK_SERVER')
    assert.equal(server.url, url, 'what it was stays readable')
  })

  test('stop() from two places at once', async () => {
    const server = await oatk.startFakeServer()
    await Promise.all([server.stop(), server.stop(), server.stop()])
    await assert.rejects(fetch(`${server.url}/oauth/certs`))
  })

  test('data survives a restart with a data directory', async (t) => {
    const dataDir = tempDir(t)
    const first = await oatk.startFakeServer({ port: 0, dataDir, quiet: true })
    const jwks = first.jwks
    first.upsertUser('kept', { color: 'blue' })
    await first.stop()
    const second = await fakeServer(t, { dataDir, memory: false })
    assert.equal(second.jwks, jwks, 'the generated signing key is kept')
    assert.equal(new OAuthToolkit().decode(second.issueToken('kept').access_token).color, 'blue')
  })

  test('options are checked', async () => {
    await assert.rejects(oatk.startFakeServer({ prot: 0 }), TypeError)
    await assert.rejects(oatk.startFakeServer('port=0'), TypeError)
    await expectCode(assert, () => oatk.startFakeServer({ port: 70000, memory: true }), 'ERR_OATK_INVALID_ARGUMENT')
    await expectCode(assert, () => oatk.startFakeServer({ port: 0, memory: true, config: '/nonexistent.toml' }), 'ERR_OATK_IO')
  })
})
