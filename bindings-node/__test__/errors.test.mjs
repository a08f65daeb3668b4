// OatkError: one stable code per core error kind (ERROR_CODES, made by core
// at run time), each reached for real.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, test } from 'node:test'

import { b64url, ecPem, expectCode, now, oatk, packageDir, require, rsaPem } from './helpers.mjs'

const { ERROR_CODES, OAuthToolkit, OatkError, predicateDenial } = oatk
const signer = new OAuthToolkit().withPrivatePem(rsaPem().privatePem)
const verifier = new OAuthToolkit().withJwks(signer.jwks)
const kid = JSON.parse(signer.jwks).keys[0].kid

describe('OatkError', () => {
  test('is an Error subclass with name, code, message and stack', () => {
    let error
    try {
      verifier.validate('a.b.c')
    } catch (e) {
      error = e
    }
    assert.ok(error instanceof OatkError)
    assert.ok(error instanceof Error)
    assert.equal(error.name, 'OatkError')
    assert.equal(error.code, 'ERR_OATK_MALFORMED')
    assert.match(String(error), /^OatkError: /)
    assert.ok(error.stack.includes('OatkError'))
    const own = new OatkError('made by hand', 'ERR_OATK_KEY')
    assert.equal(own.code, 'ERR_OATK_KEY')
    assert.equal(own.message, 'made by hand')
  })

  // How to reach each code for real. ERROR_CODES decides which must be here.
  const cases = {
    ERR_OATK_MALFORMED: () => verifier.validate('not.a.token!'),
    ERR_OATK_SIGNATURE: () => {
      const token = signer.mint({ a: 1 })
      const [h, , s] = token.split('.')
      return verifier.validate(`${h}.${b64url({ a: 2 })}.${s}`)
    },
    ERR_OATK_EXPIRED: () => verifier.validate(signer.mint({ exp: now() - 10 })),
    ERR_OATK_NOT_YET_VALID: () => verifier.validate(signer.mint({ nbf: now() + 3600 })),
    ERR_OATK_UNKNOWN_KEY: () => verifier.validate(new OAuthToolkit().withPrivatePem(rsaPem().privatePem).mint({})),
    ERR_OATK_UNSUPPORTED_ALGORITHM: () => verifier.validate(`${b64url({ alg: 'none', kid })}.${b64url({ a: 1 })}.`),
    ERR_OATK_AUDIENCE: () => new OAuthToolkit().withJwks(signer.jwks).withClientId('test').validate(signer.mint({ aud: 'other' })),
    ERR_OATK_ISSUER: () => new OAuthToolkit().withJwks(signer.jwks).withIssuer('http://a').validate(signer.mint({ iss: 'http://b' })),
    ERR_OATK_MISSING_CLAIM: () => new OAuthToolkit().withJwks(signer.jwks).withValidation({ requireExp: true }).validate(signer.mint({})),
    ERR_OATK_KEY: () => new OAuthToolkit().withPrivatePem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
    ERR_OATK_JWKS: () => new OAuthToolkit().withJwks({ keys: [{ kty: 'RSA', n: '!!', e: 'AQAB' }] }),
    ERR_OATK_IO: () => new OAuthToolkit().withPrivate('/nonexistent/private_key.pem'),
    ERR_OATK_INVALID_ARGUMENT: () => verifier.validate(),
    ERR_OATK_NETWORK: () => new OAuthToolkit().usingProvider('http://127.0.0.1:9'),
    ERR_OATK_SERVER: async () => {
      const taken = createServer()
      await new Promise((resolve) => taken.listen(0, '127.0.0.1', resolve))
      try {
        await oatk.startFakeServer({ port: taken.address().port, memory: true, quiet: true })
      } finally {
        taken.close()
      }
    },
    ERR_OATK_CLAIMS: () => verifier.validateWithClaims(signer.mint({ username: 'notxtof' }), { username: 'xtof' }),
    ERR_OATK_PANIC: () => require('../binding.js')._panicForTest(),
  }

  test('ERROR_CODES: one per core kind, then ERR_OATK_PANIC; frozen', () => {
    assert.ok(ERROR_CODES.length > 1)
    assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length)
    assert.ok(ERROR_CODES.every((code) => /^ERR_OATK_[A-Z_]+$/.test(code)))
    assert.equal(ERROR_CODES.at(-1), 'ERR_OATK_PANIC')
    assert.ok(Object.isFrozen(ERROR_CODES))
    assert.deepEqual(Object.keys(cases).filter((code) => !ERROR_CODES.includes(code)), [], 'a case for a code core does not have')
  })

  for (const code of ERROR_CODES) {
    test(code, async () => {
      assert.ok(cases[code], `no way to reach ${code}: add one to the cases`)
      await expectCode(assert, cases[code], code)
    })
  }

  test('index.d.ts: OatkErrorCode is exactly ERROR_CODES', () => {
    const dts = readFileSync(join(packageDir, 'index.d.ts'), 'utf8')
    const union = dts.match(/export type OatkErrorCode =([^;]*?)\n\n/)
    assert.ok(union, 'index.d.ts declares the OatkErrorCode union')
    const declared = [...union[1].matchAll(/'([^']+)'/g)].map((m) => m[1])
    assert.deepEqual([...declared].sort(), [...ERROR_CODES].sort())
  })

  test('the README lists every code', () => {
    const readme = readFileSync(join(packageDir, 'README.md'), 'utf8')
    assert.deepEqual(ERROR_CODES.filter((code) => !readme.includes(`| \`${code}\` |`)), [])
  })

  test('ERR_OATK_CLAIMS is also the code of the guard\'s 403 decision', () => {
    const decision = verifier.guard({ username: 'xtof' }).check(`Bearer ${signer.mint({ username: 'notxtof' })}`)
    assert.equal(decision.allow, false)
    assert.equal(decision.status, 403)
    assert.equal(decision.code, 'ERR_OATK_CLAIMS')
    assert.equal(decision.body, "claim username doesn't equal required value")
  })

  test('a 403 decision names the claim and how it falls short, the same names as Python\'s Denial', async () => {
    const token = `Bearer ${signer.mint({ username: 'notxtof', groups: ['staff'] })}`
    const cases = [
      [{ role: 'admin' }, 'role', 'missing'],
      [{ username: 'xtof' }, 'username', 'not_equal'],
      [{ groups: ['staff', 'admin'] }, 'groups', 'missing_value'],
    ]
    for (const [required, claim, unmet] of cases) {
      const guard = verifier.guard(required)
      for (const decision of [guard.check(token), await guard.checkAsync(token)]) {
        assert.deepEqual([decision.status, decision.claim, decision.unmet], [403, claim, unmet], JSON.stringify(required))
      }
    }
    const refused = predicateDenial('email', 'refused')
    assert.deepEqual([refused.status, refused.claim, refused.unmet], [403, 'email', 'rejected'])
    const unauthenticated = verifier.guard({ role: 'admin' }).check('Bearer a.b.c')
    assert.equal(unauthenticated.status, 401)
    assert.equal(unauthenticated.claim ?? null, null, 'a 401 names no claim')
    assert.equal(unauthenticated.unmet ?? null, null)
  })

  test('the process survives a panic and keeps working', async () => {
    for (let i = 0; i < 3; i++) await expectCode(assert, () => require('../binding.js')._panicForTest(), 'ERR_OATK_PANIC')
    const es = new OAuthToolkit().withPrivatePem(ecPem().privatePem)
    assert.equal(es.validate(es.mint({ ok: true })).ok, true)
  })

  test('worker threads get OatkError instances of their own class', async () => {
    const code = `
      const { parentPort } = require('node:worker_threads')
      const { OAuthToolkit, OatkError } = require(${JSON.stringify(require.resolve('oatk'))})
      try { new OAuthToolkit().validate('a.b.c') } catch (e) { parentPort.postMessage([e instanceof OatkError, e.code]) }`
    for (let i = 0; i < 2; i++) {
      const worker = new Worker(code, { eval: true })
      const message = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject) })
      await worker.terminate()
      assert.deepEqual(message, [true, 'ERR_OATK_MALFORMED'])
    }
  })

  test('wrong JavaScript argument types are refused by napi before core is called', () => {
    assert.throws(() => verifier.validate(42), (e) => e instanceof Error && !(e instanceof OatkError) && typeof e.code === 'string')
  })
})
