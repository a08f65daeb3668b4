// The Express middleware on Express 4 and Express 5: every status and body,
// over real HTTP on 127.0.0.1.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { b64url, listen, now, oatk, require, rsaPem } from './helpers.mjs'

const { OAuthToolkit, OatkError } = oatk
const signer = new OAuthToolkit().withPrivatePem(rsaPem().privatePem)
const kid = JSON.parse(signer.jwks).keys[0].kid

function app(express, toolkit) {
  const app = express()
  app.get('/', toolkit.authenticated(), (req, res) => res.send('<p>Hello, World!</p>'))
  app.get('/api/hello', toolkit.authenticatedWithClaims({ username: 'xtof' }), (req, res) => res.json({ hello: 'world' }))
  app.get('/api/admin', toolkit.authenticatedWithClaims({ username: 'xtof', groups: ['admin'], name: (v) => v.endsWith('VG') }),
    (req, res) => res.json(req.auth))
  app.get('/api/async', toolkit.authenticatedWithClaims({ name: async (v) => v.startsWith('Christophe') }), (req, res) => res.json({ ok: true }))
  app.get('/api/throws', toolkit.authenticatedWithClaims({ name: () => { throw new Error('predicate bug') } }), (req, res) => res.send('unreachable'))
  app.get('/api/rejects', toolkit.authenticatedWithClaims({ name: async () => { throw new Error('async predicate bug') } }), (req, res) => res.send('unreachable'))
  app.get('/api/arguments', toolkit.authenticatedWithClaims({ groups: (...args) => args.length === 1 && Array.isArray(args[0]) }), (req, res) => res.json({ ok: true }))
  app.get('/api/claims', toolkit.authenticated(), (req, res) => res.json(req.auth))
  app.get('/oatk.js', oatk.serveBrowserScript())
  app.use((err, req, res, next) => {
    res.status(500).json({ error: err.message, code: err.code, oatk: err instanceof OatkError })
  })
  return app
}

async function get(base, path, authorization) {
  const headers = authorization === undefined ? {} : { Authorization: authorization }
  const response = await fetch(base + path, { headers })
  return { status: response.status, body: await response.text(), www: response.headers.get('www-authenticate'), type: response.headers.get('content-type') }
}

for (const version of [4, 5]) {
  const express = require(`express${version}`)

  describe(`Express ${version} (${require(`express${version}/package.json`).version})`, () => {
    const toolkit = new OAuthToolkit().withJwks(signer.jwks)
    const xtof = signer.mint({ username: 'xtof', groups: ['users', 'admin'], name: 'Christophe VG', exp: now() + 300 })
    const notxtof = signer.mint({ username: 'notxtof' })

    test('the seed: a token for xtof opens / and /api/hello', async (t) => {
      const base = await listen(t, app(express, toolkit))
      assert.deepEqual(await get(base, '/', `Bearer ${xtof}`).then((r) => [r.status, r.body]), [200, '<p>Hello, World!</p>'])
      assert.deepEqual(await get(base, '/api/hello', `Bearer ${xtof}`).then((r) => [r.status, JSON.parse(r.body)]), [200, { hello: 'world' }])
      // RFC 6750 2.1: the scheme is case-insensitive
      assert.equal((await get(base, '/', `bearer ${xtof}`)).status, 200)
    })

    test('no Authorization header: 401 Missing Authorization', async (t) => {
      const base = await listen(t, app(express, toolkit))
      for (const header of [undefined, '', '   ']) {
        const r = await get(base, '/', header)
        assert.equal(r.status, 401)
        assert.equal(r.body, 'Missing Authorization')
        assert.equal(r.www, 'Bearer')
        assert.match(r.type, /^text\/plain/)
      }
    })

    test('invalid tokens: 401 with WWW-Authenticate Bearer error="invalid_token"', async (t) => {
      const base = await listen(t, app(express, toolkit))
      const [h, , s] = xtof.split('.')
      const invalid = {
        'not bearer': `Basic ${Buffer.from('u:p').toString('base64')}`,
        malformed: 'Bearer a.b.c',
        expired: `Bearer ${signer.mint({ username: 'xtof', exp: now() - 60 })}`,
        'not yet valid': `Bearer ${signer.mint({ username: 'xtof', nbf: now() + 600 })}`,
        tampered: `Bearer ${h}.${b64url({ username: 'xtof', groups: ['admin'] })}.${s}`,
        'unknown key': `Bearer ${new OAuthToolkit().withPrivatePem(rsaPem().privatePem).mint({ username: 'xtof' })}`,
        'alg none': `Bearer ${b64url({ alg: 'none', kid })}.${b64url({ username: 'xtof' })}.`,
      }
      for (const [what, header] of Object.entries(invalid)) {
        for (const path of ['/', '/api/hello']) {
          const r = await get(base, path, header)
          assert.equal(r.status, 401, `${what} on ${path}`)
          assert.match(r.www, /^Bearer error="invalid_token", error_description="[^"]+"$/, what)
          assert.ok(r.body.length > 0, what)
          assert.ok(!r.body.includes('Hello'), what)
        }
      }
      assert.match((await get(base, '/', invalid.expired)).www, /expired/)
    })

    test('claims not satisfied: 403 with the core message', async (t) => {
      const base = await listen(t, app(express, toolkit))
      const r = await get(base, '/api/hello', `Bearer ${notxtof}`)
      assert.equal(r.status, 403)
      assert.equal(r.body, "claim username doesn't equal required value")
      assert.equal(r.www, null)
      assert.equal((await get(base, '/', `Bearer ${notxtof}`)).status, 200, 'any valid token opens /')
      const missing = await get(base, '/api/hello', `Bearer ${signer.mint({ sub: 'x' })}`)
      assert.deepEqual([missing.status, missing.body], [403, 'required claim username is missing'])
    })

    test('list claims must all be present; function claims are called with the value', async (t) => {
      const base = await listen(t, app(express, toolkit))
      const ok = await get(base, '/api/admin', `Bearer ${xtof}`)
      assert.equal(ok.status, 200)
      assert.deepEqual(JSON.parse(ok.body).groups, ['users', 'admin'])

      const notAdmin = signer.mint({ username: 'xtof', groups: ['users'], name: 'Christophe VG' })
      assert.deepEqual(await get(base, '/api/admin', `Bearer ${notAdmin}`).then((r) => [r.status, r.body]),
        [403, 'claim groups is missing required value'])

      const wrongName = signer.mint({ username: 'xtof', groups: ['admin'], name: 'Someone Else' })
      assert.deepEqual(await get(base, '/api/admin', `Bearer ${wrongName}`).then((r) => [r.status, r.body]),
        [403, "claim name doesn't satisfy the required check"])

      const noName = signer.mint({ username: 'xtof', groups: ['admin'] })
      assert.deepEqual(await get(base, '/api/admin', `Bearer ${noName}`).then((r) => [r.status, r.body]),
        [403, 'required claim name is missing'])

      assert.equal((await get(base, '/api/async', `Bearer ${xtof}`)).status, 200)
      assert.equal((await get(base, '/api/async', `Bearer ${signer.mint({ name: 'Jane' })}`)).status, 403)
    })

    test('the validated claims are on req.auth', async (t) => {
      const base = await listen(t, app(express, toolkit))
      const r = await get(base, '/api/claims', `Bearer ${xtof}`)
      assert.deepEqual(JSON.parse(r.body), toolkit.validate(xtof))
    })

    test('a predicate gets the claim\'s value only, and is not called when the claim is absent', async (t) => {
      const base = await listen(t, app(express, toolkit))
      assert.equal((await get(base, '/api/arguments', `Bearer ${xtof}`)).status, 200)
      let calls = 0
      const counting = express()
      counting.get('/', toolkit.authenticatedWithClaims({ name: () => { calls += 1; return true } }), (req, res) => res.send('ok'))
      const countingBase = await listen(t, counting)
      const absent = await get(countingBase, '/', `Bearer ${signer.mint({ username: 'xtof' })}`)
      assert.deepEqual([absent.status, absent.body, calls], [403, 'required claim name is missing', 0])
      assert.equal((await get(countingBase, '/', `Bearer ${xtof}`)).status, 200)
      assert.equal(calls, 1)
    })

    test('a predicate that throws or rejects refuses (403, as false does) and warns', async (t) => {
      const base = await listen(t, app(express, toolkit))
      const warnings = []
      const onWarning = (w) => { if (w.code === 'OATK_PREDICATE_THREW') warnings.push(w) }
      process.on('warning', onWarning)
      t.after(() => process.off('warning', onWarning))
      for (const path of ['/api/throws', '/api/rejects']) {
        const r = await get(base, path, `Bearer ${xtof}`)
        assert.deepEqual([r.status, r.body, r.www], [403, "claim name doesn't satisfy the required check", null], path)
      }
      await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick
      assert.equal(warnings.length, 2)
      assert.equal(warnings[0].name, 'OatkWarning')
      assert.match(warnings[0].message, /claim name/)
      assert.match(warnings[0].detail, /predicate bug/)
      assert.match(warnings[1].detail, /async predicate bug/)
    })

    test('unexpected failures go to next(err): a toolkit without keys', async (t) => {
      const keyless = await listen(t, app(express, new OAuthToolkit()))
      const r = await get(keyless, '/', `Bearer ${xtof}`)
      assert.equal(r.status, 500)
      assert.deepEqual(JSON.parse(r.body), { ...JSON.parse(r.body), code: 'ERR_OATK_KEY', oatk: true })
      assert.equal((await get(keyless, '/')).status, 401, 'a missing header is still the client\'s fault')
    })

    test('authenticatedWithClaims refuses what is not an object of claims', () => {
      for (const bad of [null, 'username', ['username'], 42]) {
        assert.throws(() => toolkit.authenticatedWithClaims(bad), TypeError)
      }
    })

    test('serveBrowserScript serves the browser client', async (t) => {
      const base = await listen(t, app(express, toolkit))
      const r = await get(base, '/oatk.js')
      assert.equal(r.status, 200)
      assert.match(r.type, /^text\/javascript/)
      assert.equal(r.body, oatk.browserScript())
      const head = await fetch(`${base}/oatk.js`, { method: 'HEAD' })
      assert.equal(head.status, 200)
      assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(oatk.browserScript()))
    })
  })
}

describe('a token the withCache() cache verified', () => {
  test('is decided without a worker (checkCached), its claims and exp checked on every request', async (t) => {
    const toolkit = new OAuthToolkit().withJwks(signer.jwks).withCache(16).withNow(1000)
    const guard = toolkit.guard({ username: 'xtof' })
    const token = signer.mint({ username: 'xtof', exp: 1010 })
    assert.equal(guard.checkCached(`Bearer ${token}`), null) // not verified yet: checkAsync's job
    assert.equal(guard.checkCached(undefined).status, 401) // no token: nothing to verify
    assert.equal(guard.checkCached('Bearer a b').status, 401)

    const base = await listen(t, app(require('express5'), toolkit))
    assert.equal((await get(base, '/api/hello', `Bearer ${token}`)).status, 200)
    assert.deepEqual(guard.checkCached(`Bearer ${token}`), { allow: true, claims: { username: 'xtof', exp: 1010 } })
    assert.equal((await get(base, '/api/hello', `Bearer ${token}`)).status, 200)
    const other = signer.mint({ username: 'notxtof', exp: 1010 })
    assert.equal((await get(base, '/', `Bearer ${other}`)).status, 200)
    assert.equal((await get(base, '/api/hello', `Bearer ${other}`)).status, 403) // cached, claims still checked

    toolkit.withNow(1010)
    const expired = await get(base, '/api/hello', `Bearer ${token}`)
    assert.equal(expired.status, 401)
    assert.match(expired.www, /error="invalid_token"/)
  })
})
