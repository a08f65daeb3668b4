'use strict'
// Express glue (works with Express 4 and 5, and any connect-style stack):
// the route decision is the core's guard::check, the predicate rule is the
// core's guard::predicate; this file only reads the Authorization header,
// calls JavaScript predicates, and writes the response. Statuses, bodies and
// WWW-Authenticate values all come from core.

const binding = require('./native.js')

const { OAuthToolkit, predicateDenial } = binding

function sendDenial(res, decision) {
  res.statusCode = decision.status
  if (decision.wwwAuthenticate) res.setHeader('WWW-Authenticate', decision.wwwAuthenticate)
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.end(decision.body)
}

// What a predicate made of the token, in core's words. It gets the claim's
// value only, and is not called when the claim is absent.
async function outcome(claims, name, check) {
  if (!Object.hasOwn(claims, name)) return 'absent'
  try {
    return (await check(claims[name])) ? 'accepted' : 'refused'
  } catch (err) {
    // Fail closed (core answers 403), and tell the developer why.
    process.emitWarning(`the check for claim ${name} threw; refusing the request`, {
      type: 'OatkWarning',
      code: 'OATK_PREDICATE_THREW',
      detail: err instanceof Error ? err.stack : String(err),
    })
    return 'raised'
  }
}

// Predicate claims (functions) run after the value claims passed in core.
async function predicatesDenial(claims, predicates) {
  for (const [name, check] of predicates) {
    const denial = predicateDenial(name, await outcome(claims, name, check))
    if (denial) return denial
  }
  return null
}

function protect(toolkit, required) {
  if (required === null || typeof required !== 'object' || Array.isArray(required)) {
    throw new TypeError('authenticatedWithClaims(required): required must be an object of claim names to values or functions')
  }
  const values = {}
  const predicates = []
  for (const [name, want] of Object.entries(required)) {
    if (typeof want === 'function') predicates.push([name, want])
    else values[name] = want
  }
  const guard = toolkit.guard(values)

  // What the decision leads to: the denial sent, or the request passed on
  // with the claims on req.auth (after the predicates, if any).
  function decided(req, res, next, decision) {
    if (!decision.allow) return sendDenial(res, decision)
    if (predicates.length === 0) {
      req.auth = decision.claims
      return next()
    }
    predicatesDenial(decision.claims, predicates).then(
      (denial) => {
        if (denial) return sendDenial(res, denial)
        req.auth = decision.claims
        next()
      },
      (err) => next(err),
    )
  }

  // What needs no signature check (no token, a malformed header, a token the
  // withCache() cache verified) is decided here (checkCached); a signature
  // check runs on oatk's worker threads (checkAsync): the RSA check, most of
  // a validation, leaves the event loop, which was measured to serve more
  // requests per second (bindings-node/README.md, Performance).
  return function oatkAuthenticated(req, res, next) {
    const authorization = req.headers.authorization
    let decision
    let pending
    try {
      decision = guard.checkCached(authorization)
      if (decision === null) pending = guard.checkAsync(authorization)
    } catch (err) {
      return next(err) // a setup failure (no key configured...), not the client's fault
    }
    if (decision !== null) return decided(req, res, next, decision)
    pending.then(
      (decision) => decided(req, res, next, decision),
      (err) => next(err), // a setup failure (no key configured...), not the client's fault
    )
  }
}

/** Middleware: any valid token. The claims are put on `req.auth`. */
OAuthToolkit.prototype.authenticated = function authenticated() {
  return protect(this, {})
}

/**
 * Middleware: a valid token whose claims satisfy `required`: a value must be
 * equal, a list must all be contained, a function gets the claim's value
 * only and must return true (or a Promise of true); it is not called when
 * the claim is absent, and a throw (or a rejected Promise) refuses, as false does.
 */
OAuthToolkit.prototype.authenticatedWithClaims = function authenticatedWithClaims(required) {
  return protect(this, required)
}

/** An Express handler serving the browser client: `app.get('/oatk.js', serveBrowserScript())`. */
function serveBrowserScript() {
  const script = binding.browserScript()
  const length = String(Buffer.byteLength(script))
  return function oatkBrowserScript(req, res) {
    res.statusCode = 200
    res.setHeader('Content-Type', 'text/javascript; charset=utf-8')
    res.setHeader('Content-Length', length)
    res.setHeader('Cache-Control', 'no-cache')
    res.end(req.method === 'HEAD' ? undefined : script)
  }
}

OAuthToolkit.prototype.browserScript = function browserScript() {
  return binding.browserScript()
}
OAuthToolkit.prototype.serveBrowserScript = function () {
  return serveBrowserScript()
}

module.exports = { serveBrowserScript, sendDenial }
