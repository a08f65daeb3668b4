// Shared helpers for the oatk Node test suites: real keys, real servers on
// 127.0.0.1, temporary folders that are removed after each test.
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const require = createRequire(import.meta.url)
export const oatk = require('oatk') // the package itself, by its name (package.json "exports")
export const packageDir = new URL('..', import.meta.url).pathname
export const repoDir = new URL('../..', import.meta.url).pathname

/** A temporary folder, removed when the test ends. */
export function tempDir(t, prefix = 'oatk-node-') {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** An RSA key pair as PEM text: PKCS#8 private, SPKI public (what openssl 3 writes). */
export function rsaPem(bits = 2048) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits })
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    pkcs1Pem: privateKey.export({ type: 'pkcs1', format: 'pem' }),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }),
    privateKey,
    publicKey,
  }
}

export function ecPem() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }),
    privateKey,
    publicKey,
  }
}

/** private_key.pem and public_key.pem in `dir`, as the seed's openssl commands make them. */
export function writeKeyFiles(dir, keys = rsaPem()) {
  const privatePath = join(dir, 'private_key.pem')
  const publicPath = join(dir, 'public_key.pem')
  writeFileSync(privatePath, keys.privatePem)
  writeFileSync(publicPath, keys.publicPem)
  return { privatePath, publicPath, ...keys }
}

export const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/** Assert that `fn` throws (or rejects with) an OatkError with this code. */
export async function expectCode(assert, fn, code) {
  let error = null
  try {
    await fn()
  } catch (e) {
    error = e
  }
  assert.ok(error, `expected an OatkError ${code}, nothing was thrown`)
  assert.ok(error instanceof oatk.OatkError, `expected an OatkError, got ${error && error.constructor.name}: ${error}`)
  assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`)
  assert.ok(error.message.length > 0)
  return error
}

/** Listen on 127.0.0.1 with a free port; stopped when the test ends. */
export async function listen(t, app) {
  const server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err) => (err ? reject(err) : resolve(s)))
    s.on('error', reject)
  })
  t.after(() => new Promise((resolve) => {
    server.closeAllConnections?.()
    server.close(() => resolve())
  }))
  return `http://127.0.0.1:${server.address().port}`
}

/** A fake server for one test, stopped when it ends. */
export async function fakeServer(t, options = {}) {
  const server = await oatk.startFakeServer({ port: 0, memory: true, quiet: true, ...options })
  t.after(() => server.stop())
  return server
}

export const now = () => Math.floor(Date.now() / 1000)
