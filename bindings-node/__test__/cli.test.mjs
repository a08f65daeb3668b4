// `npx oatk`: the seed's command lines through the package's bin, in an app
// that installed this folder the way a user does (`npm install ./bindings-node`).
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { packageDir } from './helpers.mjs'

let app

/** Load a module as the app would, from its node_modules. */
const requireFromApp = (name) => createRequire(join(app, 'index.js'))(name)

function npx(args, options = {}) {
  const result = spawnSync('npx', ['--no-install', 'oatk', ...args], { cwd: app, encoding: 'utf8', timeout: 60_000, ...options })
  if (result.error) throw result.error
  return result
}

describe('npx oatk', () => {
  before(() => {
    app = mkdtempSync(join(tmpdir(), 'oatk-node-app-'))
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, allowScripts: { oatk: true } }))
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', packageDir], {
      cwd: app,
      encoding: 'utf8',
      timeout: 600_000,
      env: { ...process.env, OATK_NODE_PROFILE: process.env.OATK_NODE_PROFILE || 'debug' },
    })
    assert.equal(install.status, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`)
  })

  after(() => rmSync(app, { recursive: true, force: true }))

  test('npm install of the folder links it, builds it and installs the bin', () => {
    assert.ok(lstatSync(join(app, 'node_modules', 'oatk')).isSymbolicLink())
    assert.ok(existsSync(join(app, 'node_modules', '.bin', 'oatk')))
    const loaded = spawnSync(process.execPath, ['-e', "process.stdout.write(require('oatk').version)"], { cwd: app, encoding: 'utf8' })
    assert.equal(loaded.status, 0, loaded.stderr)
    assert.match(loaded.stdout, /^\d+\.\d+\.\d+/)
  })

  test('version and help', () => {
    const version = npx(['version'])
    assert.equal(version.status, 0, version.stderr)
    assert.equal(version.stdout.trim(), requireFromApp('oatk').version)
    const help = npx(['--help'])
    assert.equal(help.status, 0)
    assert.match(help.stdout + help.stderr, /Usage: oatk STEP/)
    const bad = npx(['no_such_step'])
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /no_such_step/)
  })

  test("the seed's command lines: jwks, token, validate, decode", () => {
    const keys = npx(['keys', 'generate'])
    assert.equal(keys.status, 0, keys.stderr)
    assert.ok(existsSync(join(app, 'private_key.pem')) && existsSync(join(app, 'public_key.pem')))

    const jwks = npx(['with_public', 'public_key.pem', 'jwks'])
    assert.equal(jwks.status, 0, jwks.stderr)
    assert.equal(JSON.parse(jwks.stdout).keys[0].kty, 'RSA')
    writeFileSync(join(app, 'certs.json'), jwks.stdout)

    const token = npx(['with_private', 'private_key.pem', 'with_jwks', 'certs.json', 'claims', '{ "hello" : "world" }', 'token'])
    assert.equal(token.status, 0, token.stderr)
    assert.match(token.stdout.trim(), /^[\w-]+\.[\w-]+\.[\w-]+$/)
    writeFileSync(join(app, 'token.txt'), token.stdout)

    const valid = npx(['with_jwks', 'certs.json', 'from_file', 'token.txt', 'validate'])
    assert.deepEqual([valid.status, valid.stdout], [0, ''], 'no output means good output')

    const decoded = npx(['from_file', 'token.txt', 'decode'])
    assert.equal(decoded.status, 0)
    assert.equal(decoded.stdout.trim(), 'hello: world')

    // The Node API agrees with the CLI.
    const { OAuthToolkit } = requireFromApp('oatk')
    assert.deepEqual(new OAuthToolkit().withJwks(join(app, 'certs.json')).fromFile(join(app, 'token.txt')).validate(), { hello: 'world' })

    writeFileSync(join(app, 'bad.txt'), `${readFileSync(join(app, 'token.txt'), 'utf8').trim()}x`)
    const invalid = npx(['with_jwks', 'certs.json', 'from_file', 'bad.txt', 'validate'])
    assert.equal(invalid.status, 1)
    assert.match(invalid.stderr, /^oatk: /m)
  })

  test('server run: prints its URL first, serves, stops on SIGTERM', { timeout: 60_000 }, async () => {
    const child = spawn('npx', ['--no-install', 'oatk', 'server', 'run', '--port', '0', '--memory', '--quiet'], {
      cwd: app,
      detached: true, // its own process group: npx, sh and node are stopped together by the group's PID
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
    try {
      const url = await new Promise((resolve, reject) => {
        let out = ''
        const timer = setTimeout(() => reject(new Error(`no URL within 30 s: ${out}`)), 30_000)
        child.stdout.on('data', (chunk) => {
          out += chunk
          const line = out.split('\n')
          if (line.length > 1) {
            clearTimeout(timer)
            resolve(line[0].trim())
          }
        })
        child.on('exit', () => reject(new Error(`server exited: ${out}`)))
      })
      assert.match(url, /^http:\/\/localhost:\d+$/)
      const discovery = await fetch(`${url}/.well-known/openid-configuration`).then((r) => r.json())
      assert.equal(discovery.issuer, url)
    } finally {
      process.kill(-child.pid, 'SIGTERM')
    }
    const { code, signal } = await exited
    assert.ok(code !== null || signal !== null, 'npx ended')
    // ...and so did every process of its group (the node running the bin included).
    const groupGone = async () => {
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(-child.pid, 0)
        } catch {
          return true
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      return false
    }
    assert.ok(await groupGone(), 'the oatk server process stopped on SIGTERM')
  })
})

