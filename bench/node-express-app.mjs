// The server side of bench/node-validate.mjs: one Express 5 app (its own
// process, so the load generator does not share its thread), a route per
// validator. Reads the RSA public key PEM from OATK_BENCH_PUBLIC_PEM,
// prints its URL, serves until killed.
import { createPublicKey } from 'node:crypto'
import { createRequire } from 'node:module'

const require = createRequire(new URL('../bindings-node/package.json', import.meta.url))
const express = require('express5')
const { OAuthToolkit } = require('oatk')
const jsonwebtoken = require('jsonwebtoken')
const { createVerifier } = require('fast-jwt')
const jose = require('jose')

const pem = process.env.OATK_BENCH_PUBLIC_PEM
const keyObject = createPublicKey(pem)
const oatk = new OAuthToolkit().withPublicPem(pem)
const fastVerify = createVerifier({ key: pem, algorithms: ['RS256'], cache: false })

// The peers get the same minimal glue the oatk middleware has: header, verify, req.auth or 401.
function bearer(req) {
  const header = req.headers.authorization
  return header && header.startsWith('Bearer ') ? header.slice(7) : null
}
function syncMiddleware(verify) {
  return (req, res, next) => {
    try {
      req.auth = verify(bearer(req))
    } catch {
      return res.status(401).send('invalid token')
    }
    next()
  }
}

const app = express()
const ok = (req, res) => res.json({ hello: 'world' })
app.get('/open', ok)
app.get('/oatk', oatk.authenticated(), ok)
app.get('/jsonwebtoken', syncMiddleware((t) => jsonwebtoken.verify(t, keyObject, { algorithms: ['RS256'] })), ok)
app.get('/fast-jwt', syncMiddleware(fastVerify), ok)
app.get('/jose', (req, res, next) => {
  jose.jwtVerify(bearer(req) ?? '', keyObject, { algorithms: ['RS256'] }).then(
    ({ payload }) => { req.auth = payload; next() },
    () => res.status(401).send('invalid token'))
}, ok)

const server = app.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
