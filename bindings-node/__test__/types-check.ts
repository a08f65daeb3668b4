// Compiled by types.test.mjs with `tsc --noEmit --strict`: the typings cover
// the whole API and fit Express 5's own types. Never run.
import express from 'express'
import {
  OAuthToolkit,
  OatkError,
  type OatkErrorCode,
  type Claims,
  type FakeServer,
  type GuardDecision,
  type GeneratedKey,
  ERROR_CODES,
  generateKey,
  predicateDenial,
  startFakeServer,
  serveBrowserScript,
  browserScript,
  version,
  runCli,
} from 'oatk'
import { fakeIdp, FakeIdp, DEFAULT_CLIENT_ID, type FakeIdpOptions } from 'oatk/testing'

async function main(): Promise<void> {
  const toolkit: OAuthToolkit = new OAuthToolkit()
    .withPrivate('private_key.pem')
    .withPrivatePem('-----BEGIN PRIVATE KEY-----')
    .withPublic('public_key.pem')
    .withPublicPem('-----BEGIN PUBLIC KEY-----')
    .withJwks('certs.json')
    .withJwks({ keys: [] })
    .withClientId('test')
    .withIssuer('http://localhost:5000')
    .withAlgorithm('PS256')
    .withValidation({ leeway: 5, requireExp: true, now: 1_700_000_000 })
    .withLeeway(5)
    .withRequireExp(true)
    .withNow(1_700_000_000)
    .withNow(null)
    .withCache(1024)
    .fromFile('token.txt')
    .withToken('a.b.c')
    .claims({ hello: 'world', groups: ['a'] })
  const same: OAuthToolkit = await toolkit.usingProvider('http://localhost:5000')
  const token: string | null = toolkit.token
  const jwks: string = toolkit.jwks
  const minted: string = toolkit.mint({ sub: 'x' })
  const claims: Claims = toolkit.validate(minted)
  const later: Record<string, any> = await toolkit.validateAsync(minted)
  const required: Claims = toolkit.validateWithClaims(minted, { username: 'xtof' })
  const key: GeneratedKey = generateKey('ES256')
  const pems: string[] = [key.privatePem, generateKey().publicPem]
  const codes: readonly OatkErrorCode[] = ERROR_CODES
  const denial: GuardDecision | null = predicateDenial('name', 'raised')
  const decoded: Record<string, any> = toolkit.decode()
  const header: Record<string, any> = toolkit.header(minted)
  const v: string = toolkit.version
  const decision: GuardDecision = toolkit.guard({ username: 'xtof' }).check('Bearer x')
  const status: number | undefined = decision.status

  try {
    toolkit.validate('x')
  } catch (e) {
    if (e instanceof OatkError) {
      const code: OatkErrorCode = e.code
      const name: 'OatkError' = e.name
      void code, name
    }
  }

  const app = express()
  app.get('/', toolkit.authenticated(), (req, res) => {
    const auth: Record<string, any> | undefined = req.auth
    res.json(auth)
  })
  app.get('/api/hello', toolkit.authenticatedWithClaims({
    username: 'xtof',
    groups: ['admin'],
    name: (value: string) => value.endsWith('VG'),
    email: async (value: string) => value.endsWith('@example.test'),
  }), (_req, res) => { res.json({ hello: 'world' }) })
  app.get('/oatk.js', serveBrowserScript())
  app.get('/oatk2.js', toolkit.serveBrowserScript())

  const server: FakeServer = await startFakeServer({ port: 0, memory: true, quiet: true, config: 'oatk.toml', toolkit })
  const issued = server.issueToken('xtof', { name: 'Christophe VG' }, 'test', 'openid')
  server.upsertUser('jane', { email: 'jane@example.test' })
  server.upsertClient({ client_id: 'spa', redirect_uris: ['http://localhost:1234/'], public: true })
  const urls: string[] = [server.url, server.issuer, server.discoveryUrl, server.jwks]
  await server.stop()

  const script: string = browserScript() + toolkit.browserScript()
  const exit: number = runCli(['version'])
  void same, token, jwks, claims, later, required, pems, codes, denial, decoded, header, v, status, issued, urls, script, exit, version
}

void main

// oatk/testing: the kit, as a test uses it.
async function kit(): Promise<void> {
  const options: FakeIdpOptions = { clientId: DEFAULT_CLIENT_ID, quiet: true }
  const idp: FakeIdp = await fakeIdp(options)
  const token: string = idp.token({ sub: 'xtof', scope: 'read', groups: ['admin'] }, { tenant: 'acme' })
  const claims: Record<string, any> = idp.toolkit.validate(token)
  const other: OAuthToolkit = await idp.validator({ clientId: 'billing', tenant: 'acme' })
  const now: number = idp.advance(3600)
  idp.freeze(now)
  idp.resetClock()
  const kid: string = idp.rotateKeys({ tenant: 'acme', retireAfter: 60 })
  const retired: number = idp.retireOldKeys()
  const { url, issuer, discoveryUrl, jwksUri, keys } = idp.issuerInfo('acme')
  const firstKid: string | undefined = keys[0]?.kid
  const retireAt: number | undefined = keys[0]?.retireAt
  const response: any = idp.issue({ clientId: 'svc', scope: 'api', claims: { roles: ['reader'] } })
  const app = express()
  app.get('/notes', idp.toolkit.authenticated(), (_req, res) => { res.json({}) })
  const strings: string[] = [idp.url, idp.issuer, idp.discoveryUrl, idp.clientId, idp.server.url, url, issuer, discoveryUrl, jwksUri]
  const dispose: Promise<void> = idp[Symbol.asyncDispose]()
  await idp.close()
  void claims, other, kid, retired, firstKid, retireAt, response, strings, dispose
}

void kit
