'use strict'
// make test-dist: several JavaScript environments (this thread and worker
// threads) share the installed release addon's workers. This thread keeps 64
// validateAsync calls in flight for a few seconds while each worker thread
// awaits rounds of two; then every worker thread's rounds must go on. A
// release build once left a round's last result unsettled when another
// thread's calls filled the queue, and that thread waited forever (here:
// one worker thread for 3 s hit it in about half the runs, three for 4 s in
// every run).
// Exits non-zero, within WATCHDOG_MS, on a promise that never settles.
// OATK_MODULE loads oatk from elsewhere (a checkout's bindings-node/index.js,
// with NAPI_RS_NATIVE_LIBRARY_PATH naming the addon to try).
const assert = require('node:assert/strict')
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads')
const { OAuthToolkit, generateKey } = require(process.env.OATK_MODULE || 'oatk')

const FLOOD_MS = 4000
const THREADS = 3
const PROGRESS_MS = 5000
const WATCHDOG_MS = 30000

async function main() {
  const { privatePem } = generateKey()
  const oauth = new OAuthToolkit().withPrivatePem(privatePem)
  const token = oauth.mint({ username: 'xtof', exp: Math.floor(Date.now() / 1000) + 300 })
  const watchdog = setTimeout(() => {
    console.error(`threads: a validateAsync promise did not settle within ${WATCHDOG_MS} ms`)
    process.exit(1)
  }, WATCHDOG_MS)
  const rounds = Array(THREADS).fill(0)
  const workers = rounds.map((_, i) => {
    const worker = new Worker(__filename, { workerData: { privatePem, token } })
    worker.on('error', (error) => { console.error(error); process.exit(1) })
    worker.on('message', (n) => { rounds[i] = n })
    return worker
  })
  let calls = 0
  const end = Date.now() + FLOOD_MS
  while (Date.now() < end) {
    const results = await Promise.all(Array.from({ length: 64 }, () => oauth.validateAsync(token)))
    assert.ok(results.every((claims) => claims.username === 'xtof'))
    calls += 64
  }
  // A thread whose promise never settles makes no round again: give the
  // others up to PROGRESS_MS (a stalled machine), then name the stuck one.
  const after = [...rounds]
  const moved = () => rounds.every((n, i) => n > after[i])
  for (const start = Date.now(); !moved() && Date.now() - start < PROGRESS_MS;) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  rounds.forEach((n, i) => assert.ok(n > after[i], `worker thread ${i}'s rounds stopped at ${n} (none in ${PROGRESS_MS} ms)`))
  clearTimeout(watchdog)
  await Promise.all(workers.map((worker) => worker.terminate()))
  console.log(`${THREADS + 1} threads: ${calls} calls here, ${rounds.join(' / ')} rounds of two on the worker threads, all settled`)
}

async function rounds() {
  const { privatePem, token } = workerData
  const oauth = new OAuthToolkit().withPrivatePem(privatePem)
  for (let n = 1; ; n++) {
    await Promise.all([oauth.validateAsync(token), oauth.validateAsync(token)])
    parentPort.postMessage(n)
  }
}

;(isMainThread ? main() : rounds()).catch((error) => {
  console.error(error)
  process.exit(1)
})
