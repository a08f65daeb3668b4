#!/usr/bin/env node
// oatk (Node, napi-rs) vs jose, jsonwebtoken and fast-jwt, side by side in one run.
//
// 1. validate per call on the same RS256 token and 2048-bit key, no cache
//    anywhere (key objects prepared once, as an app does):
//      oatk validate() (sync) - jsonwebtoken.verify with a KeyObject (sync)
//      - fast-jwt createVerifier({cache: false}) (sync) - oatk validateAsync()
//      and jose jwtVerify (both async: one at a time, then 64 in flight).
// 2. requests/s through a protected Express 5 route (autocannon, loopback,
//    bounded time), the server in its own process.
//
// Timing: ROUNDS interleaved rounds, each as many calls as fit in --time
// seconds; the best round is reported (as timeit does), so other load on
// the shared machine disturbs the ratios least. Ratios are peer µs / oatk µs:
// above 1 means oatk is faster.
//
//   node bench/node-validate.mjs [--time 0.5] [--rounds 5] [--http-seconds 5] [--connections 10]
//   make bench-node            (builds the release addon first)
import { spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { createInterface } from 'node:readline'

const require = createRequire(new URL('../bindings-node/package.json', import.meta.url))
const { OAuthToolkit } = require('oatk')
const jsonwebtoken = require('jsonwebtoken')
const { createVerifier } = require('fast-jwt')
const jose = require('jose')
const autocannon = require('autocannon')

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const TIME = option('time', 0.5)
const ROUNDS = option('rounds', 5)
const HTTP_SECONDS = option('http-seconds', 5)
const CONNECTIONS = option('connections', 10)
const BATCH = 64

// ---- the same key and token for everyone ------------------------------------
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const publicPem = publicKey.export({ type: 'spki', format: 'pem' })
const signer = new OAuthToolkit().withPrivatePem(privateKey.export({ type: 'pkcs8', format: 'pem' }))
const now = Math.floor(Date.now() / 1000)
const token = signer.mint({ sub: 'xtof', username: 'xtof', name: 'Christophe VG', groups: ['admin', 'users'], iat: now, exp: now + 3600 })
const oatk = new OAuthToolkit().withPublicPem(publicPem)
const fastVerify = createVerifier({ key: publicPem, algorithms: ['RS256'], cache: false })

const contenders = {
  'oatk validate()': { sync: () => oatk.validate(token) },
  'jsonwebtoken.verify': { sync: () => jsonwebtoken.verify(token, publicKey, { algorithms: ['RS256'] }) },
  'fast-jwt verifier': { sync: () => fastVerify(token) },
  'oatk validateAsync()': { async: () => oatk.validateAsync(token) },
  'jose jwtVerify': { async: () => jose.jwtVerify(token, publicKey, { algorithms: ['RS256'] }) },
}

// Everyone agrees on the claims before anything is timed.
const expected = JSON.stringify(oatk.validate(token))
for (const [name, c] of Object.entries(contenders)) {
  const claims = c.sync ? c.sync() : await c.async()
  const payload = claims.payload ?? claims
  if (JSON.stringify(payload) !== expected) throw new Error(`${name} returned ${JSON.stringify(payload)}`)
}

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9

function roundSync(fn) {
  let calls = 0
  const start = process.hrtime.bigint()
  do {
    for (let i = 0; i < 200; i++) fn()
    calls += 200
  } while (seconds(start) < TIME)
  return (seconds(start) * 1e6) / calls
}

async function roundSequential(fn) {
  let calls = 0
  const start = process.hrtime.bigint()
  do {
    for (let i = 0; i < 50; i++) await fn()
    calls += 50
  } while (seconds(start) < TIME)
  return (seconds(start) * 1e6) / calls
}

async function roundBatched(fn) {
  let calls = 0
  const start = process.hrtime.bigint()
  do {
    await Promise.all(Array.from({ length: BATCH }, fn))
    calls += BATCH
  } while (seconds(start) < TIME)
  return (seconds(start) * 1e6) / calls
}

const rows = []
for (const [name, c] of Object.entries(contenders)) {
  if (c.sync) rows.push({ name, mode: 'sync', run: () => roundSync(c.sync) })
  else {
    rows.push({ name, mode: 'async, 1 in flight', run: () => roundSequential(c.async) })
    rows.push({ name, mode: `async, ${BATCH} in flight`, run: () => roundBatched(c.async) })
  }
}
for (const row of rows) await row.run() // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const row of rows) {
    const us = await row.run()
    row.best = Math.min(row.best ?? Infinity, us)
  }
}

const w = 24
console.log(`oatk ${oatk.version} (Node ${process.version}, ${availableParallelism()} CPUs): RS256, 2048-bit key, no cache; best of ${ROUNDS} rounds of ${TIME}s`)
console.log()
console.log(`${'validate per call'.padEnd(w)}${'mode'.padEnd(22)}${'µs/call'.padStart(10)}${'vs oatk'.padStart(10)}`)
const oatkSync = rows.find((r) => r.name === 'oatk validate()').best
const oatkAsync = Object.fromEntries(rows.filter((r) => r.name === 'oatk validateAsync()').map((r) => [r.mode, r.best]))
for (const row of rows) {
  const base = row.mode === 'sync' ? oatkSync : oatkAsync[row.mode]
  const ratio = row.name.startsWith('oatk') ? '' : `${(row.best / base).toFixed(2)}x`
  console.log(`${row.name.padEnd(w)}${row.mode.padEnd(22)}${row.best.toFixed(1).padStart(10)}${ratio.padStart(10)}`)
}
const peersSync = rows.filter((r) => !r.name.startsWith('oatk') && r.mode === 'sync')
const fastestPeer = Math.min(...rows.filter((r) => !r.name.startsWith('oatk')).map((r) => r.best))
const verdict = oatkSync < fastestPeer
console.log()
console.log(`target: oatk validate() faster than each peer: ${verdict ? 'met' : 'MISSED'} ` +
  `(${oatkSync.toFixed(1)} µs vs ${peersSync.map((r) => `${r.name.split(' ')[0]} ${r.best.toFixed(1)}`).join(', ')}, jose ${rows.find((r) => r.name === 'jose jwtVerify' && r.mode.includes(' 1 ')).best.toFixed(1)} µs)`)

// ---- requests/s through a protected Express route ------------------------------
if (HTTP_SECONDS > 0) {
  const child = spawn(process.execPath, [new URL('node-express-app.mjs', import.meta.url).pathname], {
    env: { ...process.env, OATK_BENCH_PUBLIC_PEM: publicPem },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const stop = () => { if (child.exitCode === null) child.kill('SIGTERM') }
  process.on('exit', stop)
  try {
    const url = await new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve)
      child.once('exit', (code) => reject(new Error(`the Express app exited with ${code}`)))
    })
    const routes = ['/open', '/oatk', '/jsonwebtoken', '/fast-jwt', '/jose']
    for (const path of routes) {
      const r = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } })
      if (r.status !== 200) throw new Error(`${path} answered ${r.status}`)
    }
    const results = {}
    for (const path of routes) {
      const result = await autocannon({
        url: url + path,
        connections: CONNECTIONS,
        duration: HTTP_SECONDS,
        headers: { authorization: `Bearer ${token}` },
      })
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors} errors`)
      results[path] = result
    }
    console.log()
    console.log(`Express 5, GET with a bearer token, ${CONNECTIONS} connections, ${HTTP_SECONDS}s each (autocannon, loopback; server in its own process)`)
    console.log(`${'route'.padEnd(w)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'oatk vs'.padStart(10)}`)
    for (const path of routes) {
      const r = results[path]
      const ratio = path === '/oatk' || path === '/open' ? '' : `${(results['/oatk'].requests.average / r.requests.average).toFixed(2)}x`
      console.log(`${path.padEnd(w)}${r.requests.average.toFixed(0).padStart(10)}${String(r.latency.p50).padStart(9)}${String(r.latency.p99).padStart(9)}${ratio.padStart(10)}`)
    }
  } finally {
    stop()
  }
}
