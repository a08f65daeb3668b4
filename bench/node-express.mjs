#!/usr/bin/env node
// A protected Express 5 route under wrk (loopback), one app, one run: oatk's
// middleware (RSA check on worker threads), the same decision on the event loop,
// express-oauth2-jwt-bearer (Auth0), express-jwt with jwks-rsa and with a
// static key, and the route unprotected. Same RS256 token and key for all,
// each checking signature, exp, iss and aud.
//
// Rounds are interleaved (each route once per round) and the best round per
// route counts, so load from other processes disturbs the ratios least. The
// app's own CPU time per request (from /proc) is reported beside requests/s:
// it does not depend on how much of the machine the run got.
//
//   node bench/node-express.mjs [--seconds 3] [--rounds 3] [--connections 32] [--json out.json]
//   bash bench/node.sh   (builds the release addon first)
import { execFileSync, spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import { usage } from './usage.mjs'

usage(import.meta.url)

const oatkRequire = createRequire(new URL('../bindings-node/package.json', import.meta.url))
const { OAuthToolkit } = oatkRequire('oatk')

const args = process.argv.slice(2)
const option = (name, fallback) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback }
const SECONDS = Number(option('seconds', 3))
const ROUNDS = Number(option('rounds', 3))
const CONNECTIONS = Number(option('connections', 32))
const jsonOut = option('json', null)

const ISSUER = 'https://issuer.example/'
const AUDIENCE = 'https://api.example/'
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const signer = new OAuthToolkit().withPrivatePem(privateKey.export({ type: 'pkcs8', format: 'pem' }))
const now = Math.floor(Date.now() / 1000)
// Shaped like an Auth0 access token.
const token = signer.mint({
  iss: ISSUER, sub: 'auth0|5f7c8ec7c33c6c004bbafe82', aud: AUDIENCE, iat: now, exp: now + 3600,
  scope: 'read:messages write:messages', azp: 'c0ffee0c0ffee0c0ffee0c0ffee0c0ff',
})

const child = spawn(process.execPath, [new URL('node-express-app.mjs', import.meta.url).pathname], {
  env: {
    ...process.env,
    OATK_BENCH_JWKS: signer.jwks,
    OATK_BENCH_PUBLIC_PEM: publicKey.export({ type: 'spki', format: 'pem' }),
    OATK_BENCH_ISSUER: ISSUER,
    OATK_BENCH_AUDIENCE: AUDIENCE,
  },
  stdio: ['ignore', 'pipe', 'inherit'],
})
const stop = () => { if (child.exitCode === null) child.kill('SIGTERM') }
process.on('exit', stop)

const ROUTES = [
  ['/open', 'no protection (baseline)'],
  ['/noop', 'a middleware that does nothing'],
  ['/oatk', 'oatk.authenticated()'],
  ['/oatk-sync', 'oatk, RSA check on the event loop'],
  ['/auth0', 'express-oauth2-jwt-bearer (jwksUri)'],
  ['/express-jwt', 'express-jwt + jwks-rsa'],
  ['/express-jwt-pem', 'express-jwt + static PEM'],
]
const PEERS = ['/auth0', '/express-jwt', '/express-jwt-pem']

/** utime + stime of the app process, in µs. */
function appCpuUs() {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100 // clock ticks are 1/100 s on Linux
}

function wrk(url) {
  const out = execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '-H', `Authorization: Bearer ${token}`, url],
    { encoding: 'utf8', timeout: (SECONDS + 30) * 1000 })
  if (/Non-2xx/.test(out) || /Socket errors/.test(out)) throw new Error(`errors under load at ${url}:\n${out}`)
  return { rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]), requests: Number(out.match(/(\d+) requests in/)[1]) }
}

try {
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`the Express app exited with ${code}`)))
  })
  // Every route lets the token through, and refuses a request without one.
  for (const [path] of ROUTES) {
    const good = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } })
    if (good.status !== 200) throw new Error(`${path} answered ${good.status} to a valid token: ${await good.text()}`)
    const bad = await fetch(url + path, { headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` } })
    if (path !== '/open' && path !== '/noop' && bad.status !== 401) throw new Error(`${path} answered ${bad.status} to a forged token`)
  }
  const best = {}
  for (const [path] of ROUTES) wrk(url + path) // warm-up (JIT, JWKS caches)
  for (let r = 0; r < ROUNDS; r++) {
    for (const [path] of ROUTES) {
      const cpu0 = appCpuUs()
      const { rps, requests } = wrk(url + path)
      const cpu = (appCpuUs() - cpu0) / requests
      const b = (best[path] ??= { rps: 0, cpu: Infinity })
      b.rps = Math.max(b.rps, rps)
      b.cpu = Math.min(b.cpu, cpu)
    }
  }

  const open = best['/open'].rps
  const oatk = best['/oatk'].rps
  // The routes that check nothing (no middleware, a no-op one): on this noisy
  // machine either may come out ahead in a run.
  const checksNothing = Math.max(open, best['/noop'].rps)
  const fastestPeer = PEERS.reduce((a, p) => (best[p].rps > best[a].rps ? p : a), PEERS[0])
  console.log(`Express 5, GET with an RS256 bearer token: wrk -t1 -c${CONNECTIONS}, ${SECONDS}s per route, best of ${ROUNDS} ` +
    `interleaved rounds (loopback; app in its own process; ${availableParallelism()} CPUs, load ${loadavg()[0].toFixed(1)})`)
  console.log()
  console.log(`${'route'.padEnd(38)}${'req/s'.padStart(9)}${'÷ open'.padStart(9)}${'oatk ÷'.padStart(9)}${'app CPU µs/req'.padStart(16)}`)
  for (const [path, label] of ROUTES) {
    const b = best[path]
    const vs = PEERS.includes(path) || path === '/oatk-sync' ? `${(oatk / b.rps).toFixed(2)}x` : ''
    console.log(`${`${path}  ${label}`.padEnd(38)}${b.rps.toFixed(0).padStart(9)}${(b.rps / open).toFixed(2).padStart(9)}` +
      `${vs.padStart(9)}${b.cpu.toFixed(1).padStart(16)}`)
  }
  const offload = oatk / best['/oatk-sync'].rps
  console.log()
  console.log(`oatk ÷ fastest peer (${fastestPeer}): ${(oatk / best[fastestPeer].rps).toFixed(2)}x (target >= 2x); ` +
    `(the limit here, a route that checks nothing ÷ that peer: ${(checksNothing / best[fastestPeer].rps).toFixed(2)}x); ` +
    `oatk ÷ open: ${(oatk / open).toFixed(2)} (target >= 0.80), ÷ a no-op middleware: ${(oatk / best['/noop'].rps).toFixed(2)}; ` +
    `RSA check on workers ÷ on the event loop: ${offload.toFixed(2)}x`)

  if (jsonOut) {
    writeFileSync(jsonOut, JSON.stringify({
      bench: 'node-express', load: loadavg()[0], best,
      results: [
        { id: 'express.vs_peer', what: `Express: oatk middleware req/s ÷ fastest peer (${fastestPeer})`, value: oatk / best[fastestPeer].rps,
          unit: 'x', target: '>= 2', met: oatk / best[fastestPeer].rps >= 2,
          // No guard serves more than a route that checks nothing: the most any guard could get here.
          limit: checksNothing / best[fastestPeer].rps, limitWhy: `the faster of /open and /noop ÷ ${fastestPeer}` },
        { id: 'express.vs_open', what: 'Express: oatk middleware req/s ÷ unprotected route', value: oatk / open,
          unit: 'x', target: '>= 0.80', met: oatk / open >= 0.8 },
        { id: 'express.vs_noop', what: 'Express: oatk middleware req/s ÷ a middleware that does nothing', value: oatk / best['/noop'].rps,
          unit: 'x', target: 'info', met: null },
        { id: 'express.offload', what: 'Express: RSA check on worker threads ÷ on the event loop (req/s)', value: offload,
          unit: 'x', target: 'the faster one ships', met: null },
      ],
    }, null, 2))
  }
} finally {
  stop()
}
