// The seed's browser walkthrough with the Express API (examples/node) instead
// of Flask: headless chromium signs in at the fake server as xtof, consents,
// sees the API's greeting, logs out (tests/browser/walkthrough.mjs).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import { fakeServer, listen, oatk, repoDir, rsaPem } from './helpers.mjs'

const harness = join(repoDir, 'tests', 'browser', 'walkthrough.mjs')
const chromium = process.env.CHROMIUM || '/usr/bin/chromium'
const examples = join(repoDir, 'examples', 'node')
const missing = [harness, chromium, join(repoDir, 'tests', 'browser', 'node_modules', 'playwright-core'), join(examples, 'node_modules', 'express')]
  .filter((path) => !existsSync(path))
// `make test-node` sets OATK_REQUIRE_BROWSER=1: there, a missing piece is a failure, not a skip.
const skip = missing.length > 0 && !process.env.OATK_REQUIRE_BROWSER ? `needs ${missing.join(', ')}` : false

describe('browser walkthrough', () => {
  test('sign in at the fake server, greeting from the Express API, logout', { skip, timeout: 180_000 }, async (t) => {
    assert.deepEqual(missing, [], 'the walkthrough needs chromium, tests/browser installed and examples/node installed')
    const requireExample = createRequire(join(examples, 'index.js'))
    const { createApi } = requireExample('./web.js')
    const { createClientApp } = requireExample('./client.js')

    // One key for the fake server and the API, as the seed's
    // `oatk with_private private_key.pem with_jwks certs.json server run`.
    const keys = new oatk.OAuthToolkit().withPrivatePem(rsaPem().privatePem)
    const server = await fakeServer(t, { toolkit: keys })
    const api = await listen(t, createApi(keys))
    const appBase = await listen(t, createClientApp({ provider: server.url, api: api.replace('127.0.0.1', 'localhost') }))
    const appUrl = `${appBase.replace('127.0.0.1', 'localhost')}/`
    server.upsertUser('xtof', { name: 'Christophe VG' })
    server.upsertClient({
      client_id: 'test', name: 'My App', public: true, scope: 'openid profile',
      redirect_uris: [appUrl], post_logout_redirect_uris: [appUrl], allowed_origins: [new URL(appUrl).origin],
      permission_groups: ['Group1', 'Group2', 'Group3'],
    })

    const walk = spawn(process.execPath, [harness, '--app', appUrl, '--expect', '{"hello":"world"}', '--shots', join(repoDir, 'build', 'shots', 'node')],
      { stdio: ['ignore', 'pipe', 'pipe'] })
    t.after(() => walk.exitCode === null && walk.kill('SIGTERM'))
    let output = ''
    walk.stdout.on('data', (d) => (output += d))
    walk.stderr.on('data', (d) => (output += d))
    const code = await new Promise((resolve) => walk.once('exit', resolve))
    t.diagnostic(output.trim())
    assert.equal(code, 0, `the walkthrough failed:\n${output}`)
    assert.match(output, /logout returns to the sign-in page/)
  })
})
