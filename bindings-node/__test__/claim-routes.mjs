// Run by toolkit.test.mjs in a process of its own: a fresh set of per-shape
// constructors, and a JSON.parse the addon has not taken yet. The claims of
// each token go through every route of bindings-node/src/claims.rs (packed on
// a worker, a constructor per shape, copies of a kept object for cache hits,
// JSON.parse, N-API property by property), and each result must be what
// JSON.parse of the payload builds, names in the same order. A spy on
// JSON.parse tells the constructor routes (no call) from the fallback.
// Prints {"fast": N, "parsed": N, "napi": N}: how many tokens took each way.
import assert from 'node:assert/strict'
import { generateKeyPairSync, sign } from 'node:crypto'
import { createRequire } from 'node:module'

const parse = JSON.parse
let calls = 0
// Installed before the addon first converts claims: it keeps this function.
JSON.parse = function spy(text, reviver) {
  calls++
  return parse(text, reviver)
}

const { OAuthToolkit } = createRequire(import.meta.url)('oatk')
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' })
const oauth = new OAuthToolkit().withPrivatePem(pem)
const cached = new OAuthToolkit().withPrivatePem(pem).withCache(64)
const guard = oauth.guard({})
const kid = parse(oauth.jwks).keys[0].kid

// A token for exactly this payload text (mint would pass the claims through
// JavaScript numbers first).
const b64 = (text) => Buffer.from(text).toString('base64url')
function token(payload) {
  const input = `${b64(JSON.stringify({ alg: 'ES256', kid, typ: 'JWT' }))}.${b64(payload)}`
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
  return `${input}.${signature.toString('base64url')}`
}

const routes = [
  ['validate', (t) => oauth.validate(t)],
  ['validateAsync (packed on a worker)', (t) => oauth.validateAsync(t)],
  ['decode', (t) => oauth.decode(t)],
  ['RouteGuard.checkAsync (packed on a worker)', async (t) => (await guard.checkAsync(`Bearer ${t}`)).claims],
  ['withCache: verified and kept', (t) => cached.validate(t)],
  ['withCache: a hit', (t) => cached.validate(t)],
  ['withCache: a hit, async', (t) => cached.validateAsync(t)],
]

const exp = Math.floor(Date.now() / 1000) + 600
const list = (n, entry) => Array.from({ length: n }, (_, i) => entry(i)).join(',')
// Flat claims (scalar values, at most 32) get a constructor for each of the
// first 32 shapes (sets of names) a process sees; the rest go JSON.parse.
const MAX_SHAPES = 32
const plain = [
  `{"iss":"https://issuer.example","sub":"ünï 😀","ü":"name not ASCII","":"empty name","e":"",` +
    `"b":1,"a":2,"exp":${exp},"big":4294967296,"neg":-5,"max":9007199254740991,` +
    `"min":-9007199254740991,"one":1.0,"zero":-0.0,"f":-0.5,"huge":1e300,"ok":true,` +
    `"no":false,"none":null,"10":"index-like","esc":"tab\\tquote\\"\\u00e9"}`,
  `{${list(31, (i) => `"c${i}":"v${i}"`)},"exp":${exp}}`, // 32 claims: every constructor argument
  `{"nested":{"a":[1,{"b":null}]},"list":["x",2.5],"exp":${exp}}`,
  `{${list(40, (i) => `"c${i}":${i}`)},"exp":${exp}}`, // more claims than a constructor takes
  ...Array.from({ length: 40 }, (_, i) => `{"claim${i}":${i},"sub":"x","exp":${exp}}`), // more shapes than are kept
]

const shapes = new Set()
const tally = { fast: 0, parsed: 0, napi: 0 }
for (const payload of plain) {
  const expected = parse(payload)
  const values = Object.values(expected)
  const flat = values.length <= 32 && values.every((v) => v === null || typeof v !== 'object')
  if (flat && shapes.size < MAX_SHAPES) shapes.add(Object.keys(expected).join('\0'))
  const fast = flat && shapes.has(Object.keys(expected).join('\0'))
  const t = token(payload)
  calls = 0
  for (const [route, convert] of routes) {
    const got = await convert(t)
    assert.deepStrictEqual(got, expected, `${route}: ${payload}`)
    assert.deepStrictEqual(Object.keys(got), Object.keys(expected), `${route}, the order: ${payload}`)
  }
  assert.equal(calls, fast ? 0 : routes.length, `JSON.parse calls for ${payload}`)
  tally[fast ? 'fast' : 'parsed']++
}

// What JSON.parse cannot build as napi-rs does goes N-API's way on every
// route: an integer beyond 2^53 (a BigInt), a claim named __proto__.
const describe = (o) => ({
  own: Object.entries(o).map(([k, v]) => [k, typeof v, String(v)]),
  prototype: Object.getPrototypeOf(o) === Object.prototype ? 'Object.prototype' : JSON.stringify(Object.getPrototypeOf(o)),
})
for (const payload of [
  `{"big":9007199254740993,"sub":"x","exp":${exp}}`,
  `{"__proto__":{"admin":true},"sub":"x","exp":${exp}}`,
]) {
  const t = token(payload)
  calls = 0
  const first = describe(await routes[0][1](t))
  for (const [route, convert] of routes) assert.deepStrictEqual(describe(await convert(t)), first, `${route}: ${payload}`)
  assert.equal(calls, 0, `JSON.parse calls for ${payload}`)
  tally.napi++
}
assert.equal((await oauth.validateAsync(token(`{"big":9007199254740993}`))).big, 9007199254740993n)

console.log(JSON.stringify(tally))
