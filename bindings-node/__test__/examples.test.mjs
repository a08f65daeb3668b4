// examples/node: the seed's web.py as an Express app, driven by the seed's
// curl session (real curl, real process), and the client app's page.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, test } from 'node:test'

import { listen, oatk, repoDir, tempDir, writeKeyFiles } from './helpers.mjs'

const examples = join(repoDir, 'examples', 'node')
const requireExample = createRequire(join(examples, 'index.js'))

function installed() {
  assert.ok(existsSync(join(examples, 'node_modules', 'express')),
    'examples/node is not installed: run `make test-node` (or `npm install` in examples/node)')
}

/** Start `node web.js --port 0` in `cwd`; its first line is its URL. Stopped (by PID) when the test ends. */
async function startWeb(t, cwd) {
  const child = spawn(process.execPath, [join(examples, 'web.js'), '--port', '0'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  t.after(() => child.kill('SIGTERM'))
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`web.js exited with ${code}: ${stderr}`)))
  })
}

function curl(...args) {
  return execFileSync('curl', ['-s', '--max-time', '10', ...args], { encoding: 'utf8' })
}

describe('examples/node', () => {
  test("web.js answers the seed's curl session as web.py does", async (t) => {
    installed()
    const dir = tempDir(t)
    const { privatePath } = writeKeyFiles(dir)
    writeFileSync(join(dir, 'certs.json'), new oatk.OAuthToolkit().withPrivate(privatePath).jwks)
    const url = await startWeb(t, dir)
    assert.match(url, /^http:\/\/localhost:\d+$/)

    const token = curl(`${url}/api/token?username=xtof`)
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/)
    assert.equal(curl(`${url}/`, '-H', `Authorization: Bearer ${token}`), '<p>Hello, World!</p>')
    assert.deepEqual(JSON.parse(curl(`${url}/api/hello`, '-H', `Authorization: Bearer ${token}`)), { hello: 'world' })

    const other = curl(`${url}/api/token?username=notxtof`)
    assert.equal(curl(`${url}/api/hello`, '-H', `Authorization: Bearer ${other}`), "claim username doesn't equal required value")
    assert.equal(curl(`${url}`), 'Missing Authorization')
    assert.equal(curl('-o', '/dev/null', '-w', '%{http_code}', `${url}/api/hello`), '401')
    assert.equal(curl('-o', '/dev/null', '-w', '%{http_code}', `${url}/api/hello`, '-H', `Authorization: Bearer ${other}`), '403')

    // Comma-separated values become lists; the token validates with the published JWKS.
    const listed = curl(`${url}/api/token?username=xtof&groups=admin,users&groups=ignored`)
    assert.deepEqual(new oatk.OAuthToolkit().withJwks(join(dir, 'certs.json')).validate(listed), { username: 'xtof', groups: ['admin', 'users'] })
    // CORS for the browser app on another origin
    const preflight = curl('-i', '-X', 'OPTIONS', `${url}/api/hello`, '-H', 'Origin: http://localhost:5001', '-H', 'Access-Control-Request-Headers: authorization')
    assert.match(preflight, /^HTTP\/1\.1 204/)
    assert.match(preflight, /access-control-allow-origin: \*/i)
    assert.match(preflight, /access-control-allow-headers: .*Authorization/i)
  })

  test('client.js serves its page and oatk.js from the package', async (t) => {
    installed()
    const { createClientApp } = requireExample('./client.js')
    const url = await listen(t, createClientApp({ provider: 'http://localhost:5999', api: 'http://localhost:5998' }))
    const page = await fetch(`${url}/`).then((r) => r.text())
    assert.match(page, /<script src="\/oatk\.js"><\/script>/)
    assert.match(page, /oatk\.using_provider\("http:\/\/localhost:5999"\)/)
    assert.match(page, /http\.getJSON\("http:\/\/localhost:5998\/api\/hello"/)
    assert.equal(await fetch(`${url}/oatk.js`).then((r) => r.text()), oatk.browserScript())
  })
})
