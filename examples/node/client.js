// The seed's client app with Express: one page that signs the user in at the
// fake OAuth server with oatk.js (served by this app from the oatk package),
// then calls the protected API (web.js) with the access token.
//
//   node client.js [--port 5001] [--provider http://localhost:5000] [--api http://localhost:5002]
//
// The fake server must know this app as client "test" with this page as a
// redirect URI: ../oatk.toml registers http://localhost:5001.
'use strict'

const { readFileSync } = require('node:fs')
const { join } = require('node:path')
const express = require('express')
const { serveBrowserScript } = require('oatk')

function createClientApp({ provider = 'http://localhost:5000', api = 'http://localhost:5002', clientId = 'test' } = {}) {
  const page = readFileSync(join(__dirname, 'public', 'index.html'), 'utf8')
    .replaceAll('{{OATK_PROVIDER}}', provider.replace(/\/$/, ''))
    .replaceAll('{{OATK_API}}', api.replace(/\/$/, ''))
    .replaceAll('{{OATK_CLIENT_ID}}', clientId)
  const app = express()
  app.get('/oatk.js', serveBrowserScript())
  app.get('/', (req, res) => res.type('html').send(page))
  return app
}

module.exports = { createClientApp }

if (require.main === module) {
  const flag = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`)
    return i > 0 ? process.argv[i + 1] : fallback
  }
  const port = Number(flag('port', process.env.PORT || 5001))
  const app = createClientApp({ provider: flag('provider', undefined), api: flag('api', undefined) })
  const server = app.listen(port, '127.0.0.1', () => console.log(`http://localhost:${server.address().port}`))
}
