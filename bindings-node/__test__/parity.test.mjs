// Feature parity: tests/parity.json names, for every core operation, its name
// in each binding. Every Node name listed there must exist in `oatk`.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import { oatk, repoDir } from './helpers.mjs'

const table = JSON.parse(readFileSync(join(repoDir, 'tests', 'parity.json'), 'utf8'))

/**
 * Whether `path` (`name`, or `Class.prototype.member`) exists in `root`: a
 * module value, or a method or getter on the class's prototype.
 */
function exists(root, path) {
  const [name, prototype, member, ...rest] = path.split('.')
  if (prototype === undefined) return Object.hasOwn(root, name) && root[name] !== undefined
  if (prototype !== 'prototype' || member === undefined || rest.length > 0) {
    throw new Error(`${path}: a Node name is \`name\` or \`Class.prototype.member\``)
  }
  if (typeof root[name] !== 'function') return false
  for (let proto = root[name].prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, member)
    if (descriptor) return typeof descriptor.value === 'function' || typeof descriptor.get === 'function'
  }
  return false
}

describe('feature parity (tests/parity.json)', () => {
  test('every operation names its Node form, or says why it has none', () => {
    assert.ok(table.operations.length > 0)
    for (const op of table.operations) {
      assert.ok('node' in op, `${op.core}: no "node" entry`)
      if (op.node === null) assert.ok(op.why, `${op.core}: null in Node without a "why"`)
      else assert.equal(typeof op.node, 'string', op.core)
    }
  })

  test('every listed Node name exists', () => {
    const missing = table.operations
      .filter((op) => op.node !== null && !exists(oatk, op.node))
      .map((op) => `${op.core} -> ${op.node}`)
    assert.deepEqual(missing, [], `missing in the Node package:\n  ${missing.join('\n  ')}`)
  })

  test('the check finds what is missing (it can fail)', () => {
    assert.equal(exists(oatk, 'OAuthToolkit.prototype.noSuchMethod'), false)
    assert.equal(exists(oatk, 'NoSuchClass.prototype.validate'), false)
    assert.equal(exists(oatk, 'noSuchFunction'), false)
    assert.equal(exists(oatk, 'FakeServer.prototype.url'), true, 'a getter counts')
    assert.equal(exists(oatk, 'OAuthToolkit.prototype.authenticated'), true, 'so does a method added in JavaScript')
    assert.equal(exists(oatk, 'version'), true, 'and a module value')
  })
})
