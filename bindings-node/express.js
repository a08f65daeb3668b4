'use strict'
// Express glue (works with Express 4 and 5, and any connect-style stack):
// the route decision is the core's guard::check; this file only reads the
// Authorization header, runs JavaScript predicate claims, and writes the
// response. Statuses, bodies and WWW-Authenticate values all come from core.

const binding = require('./binding.js')

const { OAuthToolkit, denyMissingClaim, denyRejectedClaim } = binding

function sendDenial(res, decision) {
  res.statusCode = decision.status
  if (decision.wwwAuthenticate) res.setHeader('WWW-Authenticate', decision.wwwAuthenticate)
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.end(decision.body)
}

// Predicate claims (functions) run after the value claims passed in core:
// a missing claim or a falsy result is a 403 with core's message.
async function predicateDenial(claims, predicates) {
  for (const [name, check] of predicates) {
    if (!Object.prototype.hasOwnProperty.call(claims, name)) return denyMissingClaim(name)
    if (!(await check(claims[name], claims))) return denyRejectedClaim(name)
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

  return function oatkAuthenticated(req, res, next) {
    let decision
    try {
      decision = guard.check(req.headers.authorization)
    } catch (err) {
      return next(err) // a setup failure (no key configured...), not the client's fault
    }
    if (!decision.allow) return sendDenial(res, decision)
    if (predicates.length === 0) {
      req.auth = decision.claims
      return next()
    }
    predicateDenial(decision.claims, predicates).then(
      (denial) => {
        if (denial) return sendDenial(res, denial)
        req.auth = decision.claims
        next()
      },
      (err) => next(err),
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
 * (and all claims) and must return true (or a Promise of true).
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
