// The browser client: one source (core/assets/oatk.js), reachable as
// require('oatk/browser'), oatk.browserScript(), and the fake server's /static/oatk.js.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'

import { fakeServer, oatk, repoDir, require } from './helpers.mjs'

const source = readFileSync(`${repoDir}core/assets/oatk.js`, 'utf8')

describe('the browser script', () => {
  test("require.resolve('oatk/browser') is a copy of core/assets/oatk.js, and browserScript() its text", () => {
    const path = require.resolve('oatk/browser')
    assert.match(path, /oatk\.js$/)
    assert.equal(readFileSync(path, 'utf8'), source)
    assert.equal(oatk.browserScript(), source)
    assert.equal(new oatk.OAuthToolkit().browserScript(), source)
  })

  test("require('oatk/browser') loads outside a browser and exposes the client API", async () => {
    const client = require('oatk/browser')
    for (const name of ['using_provider', 'using_client_id', 'with_authenticated_user', 'have_authenticated_user', 'logout', 'login']) {
      assert.equal(typeof client[name], 'function', name)
    }
    // RFC 7636 Appendix B: the S256 challenge of the example verifier.
    assert.equal(await client._internal.code_challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
  })

  test('the fake server serves the same script', async (t) => {
    const server = await fakeServer(t)
    const served = await fetch(`${server.url}/static/oatk.js`)
    assert.equal(served.status, 200)
    assert.equal(await served.text(), source)
  })

  test('package.json exports it for bundlers', () => {
    const pkg = require('oatk/package.json')
    assert.equal(pkg.exports['./browser'], './browser/oatk.js')
    assert.ok(pkg.files.includes('browser/'))
  })
})
