// The shared validation vectors (tests/vectors/tokens.json), as every binding runs them.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { oatk, repoDir } from './helpers.mjs'

const doc = JSON.parse(readFileSync(join(repoDir, 'tests', 'vectors', 'tokens.json'), 'utf8'))

test('shared vectors', () => {
  let ran = 0
  for (const v of doc.vectors) {
    const t = new oatk.OAuthToolkit().withJwks(doc.jwks).withValidation({ now: doc.now })
    if (v.client_id) t.withClientId(v.client_id)
    if (v.issuer) t.withIssuer(v.issuer)
    if (v.expect.ok) {
      assert.deepEqual(t.validate(v.token), v.expect.ok, v.name)
    } else {
      assert.throws(() => t.validate(v.token), (err) => {
        assert.ok(err instanceof oatk.OatkError, v.name)
        assert.equal(err.code, `ERR_OATK_${v.expect.code}`, `${v.name}: ${err.message}`)
        return true
      })
    }
    ran += 1
  }
  console.log(`ran ${ran} shared vectors`)
  assert.ok(ran >= 20, `too few vectors ran: ${ran}`)
})
