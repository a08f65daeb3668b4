'use strict'
// make test-dist: an Express app protected by the installed oatk npm packages
// (no Rust on the machine), hit over HTTP on loopback. Exits non-zero on any
// unexpected answer.
const assert = require('node:assert/strict')
const express = require('express')
const { OAuthToolkit, generateKey } = require('oatk')

async function main() {
  const key = generateKey()
  const oatk = new OAuthToolkit().withPrivatePem(key.privatePem)
  const app = express()
  app.get('/api/hello', oatk.authenticatedWithClaims({ username: 'xtof' }), (req, res) =>
    res.json({ hello: 'world', you: req.auth.username }),
  )
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const url = `http://127.0.0.1:${server.address().port}/api/hello`
  const get = (token) => fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {})
  try {
    let response = await get(null)
    assert.equal(response.status, 401)
    assert.equal(response.headers.get('www-authenticate'), 'Bearer')

    response = await get(oatk.claims({ username: 'xtof' }).token)
    assert.equal(response.status, 200)
    assert.deepEqual(await response.json(), { hello: 'world', you: 'xtof' })

    response = await get(oatk.claims({ username: 'notxtof' }).token)
    assert.equal(response.status, 403)

    const other = new OAuthToolkit().withPrivatePem(generateKey().privatePem)
    response = await get(other.claims({ username: 'xtof' }).token)
    assert.equal(response.status, 401)
    assert.match(response.headers.get('www-authenticate'), /error="invalid_token"/)
    console.log('Express + oatk from the npm tarballs: 401 without a token, 200, 403, 401 for a foreign key')
  } finally {
    server.close()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
