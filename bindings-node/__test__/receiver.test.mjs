// The hottest methods are plain functions put on the prototypes by index.js
// (src/receiver.rs): without V8's check of a class method's receiver, they
// must refuse any `this` that is not an instance of their class, and must
// behave exactly as the methods napi-rs generated.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { b64url, expectCode, now, oatk, require, rsaPem } from './helpers.mjs'

const { OAuthToolkit, RouteGuard } = oatk
const native = require('../native.js')

const signer = new OAuthToolkit().withPrivatePem(rsaPem().privatePem).withCache(16)
const token = signer.mint({ sub: 'alice', scope: 'read', exp: now() + 600 })
const guard = signer.guard({ scope: 'read' })

const fast = [
  [OAuthToolkit, 'validate', native._validate],
  [OAuthToolkit, 'validateAsync', native._validateAsync],
  [RouteGuard, 'checkCached', native._checkCached],
  [RouteGuard, 'checkAsync', native._checkAsync],
]

describe('the methods index.js replaces (src/receiver.rs)', () => {
  test('are the receiver functions, under the method names, with the methods’ descriptors', () => {
    for (const [cls, name, fn] of fast) {
      const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, name)
      assert.equal(descriptor.value, fn, `${cls.name}.prototype.${name}`)
      assert.equal(fn.name, name)
      // What napi-rs gives every other method (writable, enumerable, configurable).
      const generated = Object.getOwnPropertyDescriptor(cls.prototype, 'decode' in cls.prototype ? 'decode' : 'check')
      for (const flag of ['writable', 'enumerable', 'configurable']) {
        assert.equal(descriptor[flag], generated[flag], `${name}: ${flag}`)
      }
    }
  })

  test('answer as before: claims, cached claims, a refusal, a decision', async () => {
    const expected = { sub: 'alice', scope: 'read', exp: signer.decode(token).exp }
    assert.deepEqual(signer.validate(token), expected)
    assert.deepEqual(signer.validate(token), expected) // from the cache
    assert.deepEqual(await signer.validateAsync(token), expected)
    await expectCode(assert, () => signer.validate('a.b.c'), 'ERR_OATK_MALFORMED')
    const [header, , signature] = token.split('.')
    const forged = [header, b64url({ sub: 'mallory', scope: 'read', exp: now() + 600 }), signature].join('.')
    await assert.rejects(signer.validateAsync(forged), { code: 'ERR_OATK_SIGNATURE' })
    assert.deepEqual(guard.checkCached(`Bearer ${token}`), { allow: true, claims: expected })
    assert.deepEqual(await guard.checkAsync(`Bearer ${token}`), { allow: true, claims: expected })
    assert.equal(guard.checkCached(undefined).allow, false)
    assert.equal((await guard.checkAsync('Basic abc')).allow, false)
  })

  test('work on a subclass instance (constructed, so tagged, by the native constructor)', async () => {
    class Mine extends OAuthToolkit {}
    const mine = new Mine().withJwks(signer.jwks)
    assert.ok(mine instanceof Mine)
    assert.equal(mine.validate(token).sub, 'alice')
    assert.equal((await mine.validateAsync(token)).sub, 'alice')
  })

  // The attack: a method called on an object of another class would hand its
  // pointer to code expecting this class (type confusion, memory corruption).
  test('refuse any other `this` with a TypeError, before reading it', () => {
    const others = {
      'an instance of the other class': (cls) => (cls === OAuthToolkit ? guard : signer),
      'a plain object': () => ({}),
      'an object with the prototype, never constructed': (cls) => Object.create(cls.prototype),
      'a function': () => function () {},
      'a proxy of an instance': (cls) => new Proxy(cls === OAuthToolkit ? signer : guard, {}),
      undefined: () => undefined,
      null: () => null,
      'a number': () => 42,
      'a string': () => token,
    }
    for (const [cls, name, fn] of fast) {
      for (const [what, make] of Object.entries(others)) {
        assert.throws(
          () => fn.call(make(cls), `Bearer ${token}`),
          (error) =>
            error instanceof TypeError &&
            error.message === `Illegal invocation: \`this\` must be an instance of ${cls.name}`,
          `${cls.name}.prototype.${name} on ${what}`,
        )
      }
    }
  })

  // napi-rs converts the arguments before `this`: a wrong argument on a wrong
  // receiver may be refused for either, but always refused, never read through.
  test('refuse a wrong receiver with a wrong argument too', () => {
    for (const [cls, name, fn] of fast) {
      for (const argument of [42, {}, Symbol('x')]) {
        assert.throws(() => fn.call({}, argument), Error, `${cls.name}.prototype.${name}(${String(argument)}) on {}`)
        assert.throws(() => fn.call(Object.create(cls.prototype), argument), Error)
      }
    }
  })
})
