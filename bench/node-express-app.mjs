// The server side of bench/node-express.mjs: one Express 5 app in its own
// process, one route per way of protecting it, each configured the way its
// documentation shows for RS256 access tokens, all checking the same things
// (signature, exp, iss, aud):
//
//   /open            no protection (the baseline)
//   /noop            a middleware that only sets req.auth: Express's own cost of one
//   /oatk            oatk.authenticated() (bindings-node/express.js: the RSA
//                    check on oatk's worker threads, RouteGuard.checkAsync)
//   /oatk-sync       the same decision on the event loop (RouteGuard.check),
//                    to measure whether moving it off the event loop wins
//   /auth0           express-oauth2-jwt-bearer: auth({ issuer, jwksUri, audience })
//   /express-jwt     express-jwt + jwks-rsa's expressJwtSecret (its README's RS256 example)
//   /express-jwt-pem express-jwt with the public key PEM as the secret
//   /.well-known/jwks.json   the key set, for the two JWKS-based peers
//
// Environment: OATK_BENCH_JWKS (JSON), OATK_BENCH_PUBLIC_PEM, OATK_BENCH_ISSUER,
// OATK_BENCH_AUDIENCE. Prints its URL, serves until SIGTERM.
import { createRequire } from 'node:module'

const oatkRequire = createRequire(new URL('../bindings-node/package.json', import.meta.url))
const peerRequire = createRequire(new URL('./node/package.json', import.meta.url))
const { OAuthToolkit } = oatkRequire('oatk')
const express = peerRequire('express')
const { auth } = peerRequire('express-oauth2-jwt-bearer')
const { expressjwt } = peerRequire('express-jwt')
const jwksRsa = peerRequire('jwks-rsa')

const jwks = process.env.OATK_BENCH_JWKS
const publicPem = process.env.OATK_BENCH_PUBLIC_PEM
const issuer = process.env.OATK_BENCH_ISSUER
const audience = process.env.OATK_BENCH_AUDIENCE

const oatk = new OAuthToolkit().withJwks(jwks).withIssuer(issuer).withClientId(audience)

const app = express()
const ok = (req, res) => res.json({ hello: req.auth?.sub ?? 'world' })
app.get('/.well-known/jwks.json', (req, res) => res.type('application/json').send(jwks))
app.get('/open', ok)
// A middleware that does nothing: what any middleware costs in Express itself.
app.get('/noop', (req, res, next) => { req.auth = { sub: 'world' }; next() }, ok)
app.get('/oatk', oatk.authenticated(), ok)

// The same decision made on the event loop (RouteGuard.check, sync): what the
// middleware did before it moved the RSA check to worker threads.
const guard = oatk.guard({})
function oatkSync(req, res, next) {
  const decision = guard.check(req.headers.authorization)
  if (decision.allow) { req.auth = decision.claims; return next() }
  res.status(decision.status)
  if (decision.wwwAuthenticate) res.set('WWW-Authenticate', decision.wwwAuthenticate)
  res.type('text/plain').send(decision.body)
}
app.get('/oatk-sync', oatkSync, ok)

let url
const lazy = (make) => { let m; return (req, res, next) => (m ??= make())(req, res, next) }
app.get('/auth0', lazy(() => auth({ issuer, jwksUri: `${url}/.well-known/jwks.json`, audience, tokenSigningAlg: 'RS256' })), ok)
app.get('/express-jwt', lazy(() => expressjwt({
  secret: jwksRsa.expressJwtSecret({ cache: true, rateLimit: true, jwksRequestsPerMinute: 5, jwksUri: `${url}/.well-known/jwks.json` }),
  audience, issuer, algorithms: ['RS256'],
})), ok)
app.get('/express-jwt-pem', expressjwt({ secret: publicPem, audience, issuer, algorithms: ['RS256'] }), ok)
app.use((err, req, res, next) => res.status(err.status ?? 500).type('text/plain').send(err.message))

const server = app.listen(0, '127.0.0.1', () => {
  url = `http://127.0.0.1:${server.address().port}`
  console.log(url)
})
server.keepAliveTimeout = 60_000
process.on('SIGTERM', () => server.close(() => process.exit(0)))
