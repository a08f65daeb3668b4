// oatk/testing: `fakeIdp()` as a test would use it. The first block is the
// example: a small Express API protected by oatk's middleware, tested with
// node:test against a real fake identity provider: 200/401/403, a token
// expiring through the server's clock, a key rotation the app follows.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'

import { listen, oatk, packageDir, require, tempDir } from './helpers.mjs'

const { fakeIdp } = require('oatk/testing')
const express = require('express5')

/** The app under test: anyone with a valid token reads the notes; only admins clear them. */
function notesApi(toolkit) {
  const app = express()
  app.get('/notes', toolkit.authenticated(), (req, res) => res.json({ user: req.auth.username, notes: ['buy milk'] }))
  app.delete('/notes', toolkit.authenticatedWithClaims({ groups: ['admin'] }), (req, res) => res.json({ cleared: 1 }))
  return app
}

async function call(base, method, token) {
  const headers = token === undefined ? {} : { Authorization: `Bearer ${token}` }
  const response = await fetch(`${base}/notes`, { method, headers })
  return { status: response.status, body: await response.text(), www: response.headers.get('www-authenticate') }
}

const kidOf = (token) => oatk.OAuthToolkit.prototype.header.call(new oatk.OAuthToolkit(), token).kid

describe('example: an Express API tested with fakeIdp()', () => {
  let idp
  let api
  before(async () => {
    idp = await fakeIdp()
  })
  after(() => idp.close())

  test('200 with a valid token, 401 without one, 403 without the claims', async (t) => {
    api = await listen(t, notesApi(idp.toolkit))
    const missing = await call(api, 'GET')
    assert.deepEqual([missing.status, missing.body, missing.www], [401, 'Missing Authorization', 'Bearer'])
    const ok = await call(api, 'GET', idp.token({ sub: 'xtof' }))
    assert.deepEqual([ok.status, JSON.parse(ok.body)], [200, { user: 'xtof', notes: ['buy milk'] }])
    assert.equal((await call(api, 'GET', 'not.a.token')).status, 401)
    assert.equal((await call(api, 'DELETE', idp.token({ groups: ['admin'] }))).status, 200)
    const staff = await call(api, 'DELETE', idp.token({ sub: 'bob', groups: ['staff'] }))
    assert.equal(staff.status, 403)
    assert.equal((await call(api, 'DELETE', idp.token())).status, 403, 'each token carries exactly its claims')
    assert.equal((await call(api, 'GET', idp.token({}, { clientId: 'billing' }))).status, 401, 'another audience')
    assert.equal((await call(api, 'GET', idp.token({}, { tenant: 'acme' }))).status, 401, 'another issuer')
  })

  test('a token expires through the clock, without sleeping', async (t) => {
    api = await listen(t, notesApi(idp.toolkit))
    const token = idp.token()
    assert.equal((await call(api, 'GET', token)).status, 200)
    idp.advance(3600) // the server's clock and idp.toolkit's
    const expired = await call(api, 'GET', token)
    assert.equal(expired.status, 401)
    assert.match(expired.www, /error="invalid_token".*expired/)
    assert.equal((await call(api, 'GET', idp.token())).status, 200, 'a token issued now is fine')
    idp.resetClock()
    assert.equal((await call(api, 'GET', token)).status, 200, 'back on the system clock')
  })

  test('the app follows a key rotation through its refetch', async (t) => {
    api = await listen(t, notesApi(idp.toolkit))
    const before = idp.token()
    const kid = idp.rotateKeys()
    const rotated = idp.token()
    assert.equal(kidOf(rotated), kid)
    assert.notEqual(kidOf(before), kid)
    // The toolkit read the key set when fakeIdp() started; an unknown kid makes
    // it fetch again, at most every 30 s: refused until then, accepted after.
    assert.equal((await call(api, 'GET', rotated)).status, 401)
    const deadline = Date.now() + 40_000
    while ((await call(api, 'GET', rotated)).status !== 200) {
      assert.ok(Date.now() < deadline, 'the validator never fetched the new key')
      await sleep(500)
    }
    assert.equal((await call(api, 'GET', before)).status, 200, 'both keys are published')
    // Retired: the old key leaves the key set; an app reading it now refuses the old tokens.
    assert.equal(idp.retireOldKeys(), 1)
    const restarted = await listen(t, notesApi(await idp.validator()))
    assert.equal((await call(restarted, 'GET', before)).status, 401)
    assert.equal((await call(restarted, 'GET', rotated)).status, 200)
  })
})

describe('fakeIdp()', () => {
  test('url, issuer, token claims, and close', async () => {
    const idp = await fakeIdp()
    assert.match(idp.url, /^http:\/\/localhost:\d+$/)
    assert.equal(idp.issuer, idp.url)
    assert.equal(idp.discoveryUrl, `${idp.url}/.well-known/openid-configuration`)
    const claims = idp.toolkit.validate(idp.token({ sub: 'alice', scope: 'read', groups: ['admin'], team: 'blue' }))
    assert.deepEqual([claims.username, claims.scope, claims.groups, claims.team, claims.aud, claims.iss],
      ['alice', 'read', ['admin'], 'blue', 'test', idp.issuer])
    assert.equal(idp.toolkit.validate(idp.token()).scope, 'openid profile')
    const response = await fetch(idp.discoveryUrl)
    assert.equal(response.status, 200)
    await idp.close()
    await idp.close() // twice is fine
    await assert.rejects(fetch(idp.discoveryUrl))
    assert.throws(() => idp.token(), { code: 'ERR_OATK_SERVER' })
  })

  test('await using closes it at the end of the block (TypeScript, run on this Node)', (t) => {
    const dir = tempDir(t)
    writeFileSync(join(dir, 'using.ts'), `
import { fakeIdp } from 'oatk/testing'
async function main(): Promise<void> {
  let url = ''
  {
    await using idp = await fakeIdp()
    url = idp.url
    idp.toolkit.validate(idp.token({ groups: ['admin'] }))
    console.log('open', (await fetch(url + '/.well-known/openid-configuration')).status)
  }
  await fetch(url + '/.well-known/openid-configuration').then(
    () => console.log('still open'),
    () => console.log('closed'),
  )
}
main()
`)
    writeFileSync(join(dir, 'package.json'), '{"type": "commonjs"}')
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(packageDir, join(dir, 'node_modules', 'oatk'))
    const tsc = require.resolve('typescript/bin/tsc')
    const compiled = spawnSync(process.execPath, [tsc, '--strict', '--target', 'es2022', '--module', 'node16',
      '--moduleResolution', 'node16', '--lib', 'es2022,esnext.disposable,dom', '--types', 'node',
      '--typeRoots', join(packageDir, 'node_modules', '@types'), '--skipLibCheck', join(dir, 'using.ts')], { encoding: 'utf8', cwd: dir })
    assert.equal(compiled.status, 0, `tsc: ${compiled.stdout}${compiled.stderr}`)
    const ran = spawnSync(process.execPath, [join(dir, 'using.js')], { encoding: 'utf8', cwd: dir })
    assert.equal(ran.status, 0, ran.stderr)
    assert.deepEqual(ran.stdout.trim().split('\n'), ['open 200', 'closed'])
  })

  test('Symbol.asyncDispose is close', async () => {
    const idp = await fakeIdp()
    assert.equal(typeof idp[Symbol.asyncDispose], 'function')
    await idp[Symbol.asyncDispose]()
    await assert.rejects(fetch(idp.discoveryUrl))
  })

  test('advance, freeze and resetClock move the server and its validators', async (t) => {
    const idp = await fakeIdp()
    t.after(() => idp.close())
    const token = idp.token()
    const start = idp.now
    const now = idp.advance(3600)
    assert.ok(now - start >= 3600 && now - start <= 3602, `${start} -> ${now}`)
    const later = await idp.validator() // made after the move: at the same time
    for (const validator of [idp.toolkit, later]) {
      assert.throws(() => validator.validate(token), { code: 'ERR_OATK_EXPIRED' })
    }
    idp.freeze(2_000_000_000)
    assert.equal(idp.now, 2_000_000_000)
    assert.equal(idp.toolkit.validate(idp.token()).iat, 2_000_000_000)
    assert.throws(() => idp.advance(-1e12), { code: 'ERR_OATK_INVALID_ARGUMENT' })
    assert.equal(idp.now, 2_000_000_000, 'a refused move moves nothing')
    idp.resetClock()
    assert.ok(Math.abs(idp.now - start) < 5)
    assert.equal(idp.toolkit.validate(token).username, 'xtof')
  })

  test('keys retire by themselves after retireAfter on the server clock', async (t) => {
    const idp = await fakeIdp()
    t.after(() => idp.close())
    const before = idp.token()
    const [old] = idp.issuerInfo().keys
    const kid = idp.rotateKeys({ retireAfter: 60 })
    const keys = idp.issuerInfo().keys
    assert.deepEqual(keys.map((k) => [k.kid, k.signing]), [[kid, true], [old.kid, false]])
    assert.ok(Math.abs(keys[1].retireAt - (idp.now + 60)) <= 2)
    assert.ok((await idp.validator()).validate(before), 'a validator made now reads both keys')
    idp.advance(61)
    assert.deepEqual(idp.issuerInfo().keys.map((k) => k.kid), [kid])
    const after = await idp.validator() // reads the key set as it is now, at the server's now
    assert.throws(() => after.validate(before), { code: 'ERR_OATK_UNKNOWN_KEY' })
    assert.equal(after.validate(idp.token()).username, 'xtof')
  })

  test('tenants: their own issuer and keys; client credentials', async (t) => {
    const idp = await fakeIdp()
    t.after(() => idp.close())
    const acme = idp.issuerInfo('acme')
    assert.deepEqual([acme.tenant, acme.url, acme.issuer], ['acme', `${idp.url}/acme`, `${idp.url}/acme`])
    const acmeValidator = await idp.validator({ tenant: 'acme' })
    const tenantToken = idp.token({}, { tenant: 'acme' })
    assert.equal(acmeValidator.validate(tenantToken).iss, acme.issuer)
    assert.throws(() => idp.toolkit.validate(tenantToken), (e) => e instanceof oatk.OatkError)
    assert.throws(() => acmeValidator.validate(idp.token()), (e) => e instanceof oatk.OatkError)
    const kid = idp.rotateKeys({ tenant: 'acme' })
    assert.equal(idp.issuerInfo('acme').keys[0].kid, kid)
    assert.equal(idp.retireOldKeys({ tenant: 'acme' }), 1)
    const service = idp.issue({ clientId: 'svc', scope: 'api', tenant: 'acme', claims: { roles: ['reader'] } })
    const claims = (await idp.validator({ clientId: 'svc', tenant: 'acme' })).validate(service.access_token)
    assert.deepEqual([claims.roles, claims.username, service.refresh_token], [['reader'], undefined, undefined])
    assert.throws(() => idp.issuerInfo('not/a tenant'), { code: 'ERR_OATK_INVALID_ARGUMENT' })
  })

  test('options: the server\'s, and clientId; unknown ones are refused', async (t) => {
    const dir = tempDir(t)
    writeFileSync(join(dir, 'oatk.toml'), '[[users]]\nusername = "xtof"\nclaims = { name = "Christophe VG" }\n')
    const idp = await fakeIdp({ clientId: 'notes', issuer: 'https://id.example', config: join(dir, 'oatk.toml') })
    t.after(() => idp.close())
    assert.deepEqual([idp.clientId, idp.issuer], ['notes', 'https://id.example'])
    assert.equal(idp.toolkit.validate(idp.server.issueToken('xtof', null, 'notes').access_token).name, 'Christophe VG')
    const claims = idp.toolkit.validate(idp.token())
    assert.deepEqual([claims.aud, claims.iss, claims.name], ['notes', 'https://id.example', undefined])
    await assert.rejects(fakeIdp({ prot: 1 }), /unknown option prot/)
    await assert.rejects(fakeIdp(null), TypeError)
  })
})
