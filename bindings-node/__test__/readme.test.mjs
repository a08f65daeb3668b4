// Every ```js snippet of README.md runs, in order, in one temporary folder
// (so the quick start's keys serve the later snippets), as an app would run
// it: `require('oatk')` and `require('express')` from its node_modules. A
// snippet that starts a server is checked over HTTP (any listen() goes to a
// free port on 127.0.0.1) and then stopped.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, test } from 'node:test'

import { packageDir, tempDir } from './helpers.mjs'

const readme = readFileSync(join(packageDir, 'README.md'), 'utf8')
const snippets = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])

const PRELOAD = `
const http = require('node:http')
const listen = http.Server.prototype.listen
http.Server.prototype.listen = function (...args) {
  const callback = typeof args[args.length - 1] === 'function' ? args.pop() : undefined
  this.once('listening', () => process.stderr.write('README-LISTENING ' + this.address().port + '\\n'))
  return listen.call(this, 0, '127.0.0.1', callback)
}
`

function run(dir, file) {
  const child = spawn(process.execPath, ['--require', join(dir, 'preload.cjs'), file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${file} timed out:\n${output}`)) }, 60_000)
    createInterface({ input: child.stderr }).on('line', async (line) => {
      const listening = line.match(/^README-LISTENING (\d+)$/)
      if (!listening) return void (output += `${line}\n`)
      try {
        const response = await fetch(`http://127.0.0.1:${listening[1]}/`)
        resolve({ listened: true, status: response.status, body: await response.text(), output })
      } catch (e) {
        reject(e)
      } finally {
        clearTimeout(timer)
        child.kill('SIGTERM')
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ listened: false, code, output })
    })
  })
}

describe('README.md snippets', () => {
  test('there are snippets to run', () => {
    assert.ok(snippets.length >= 4, `found ${snippets.length}`)
  })

  test('each runs', async (t) => {
    const dir = tempDir(t, 'oatk-readme-')
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(packageDir, join(dir, 'node_modules', 'oatk'))
    symlinkSync(join(packageDir, 'node_modules', 'express5'), join(dir, 'node_modules', 'express'))
    writeFileSync(join(dir, 'preload.cjs'), PRELOAD)
    for (const [i, code] of snippets.entries()) {
      const file = `snippet-${i + 1}.cjs`
      writeFileSync(join(dir, file), code)
      const result = await run(dir, file)
      if (result.listened) {
        // a server snippet: its protected `/` answers like the seed's
        assert.deepEqual([result.status, result.body], [401, 'Missing Authorization'], `snippet ${i + 1}`)
      } else {
        assert.equal(result.code, 0, `README snippet ${i + 1} failed:\n${code}\n${result.output}`)
      }
    }
  })
})
