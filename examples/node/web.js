// The seed's examples/web.py with Express: `/` for any authenticated user,
// `/api/hello` for xtof only, `/api/token` minting a token from the query.
//
//   node web.js [--port 5002]      (reads private_key.pem and certs.json from the current folder)
//
//   curl -s "http://localhost:5002/api/token?username=xtof"
//   curl http://localhost:5002/ -H "Authorization: Bearer $TOKEN"          -> <p>Hello, World!</p>
//   curl http://localhost:5002/api/hello -H "Authorization: Bearer $TOKEN" -> {"hello":"world"}
'use strict'

const express = require('express')
const { OAuthToolkit } = require('oatk')

function createApi(oatk) {
  const app = express()

  // flask_cors with origins "*": the browser app on another port calls this API.
  app.use((req, res, next) => {
    res.set('Access-Control-Allow-Origin', '*')
    if (req.method !== 'OPTIONS') return next()
    res.set('Access-Control-Allow-Headers', 'Authorization, Content-Type')
    res.set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS')
    res.sendStatus(204)
  })

  app.get('/', oatk.authenticated(), (req, res) => {
    res.send('<p>Hello, World!</p>')
  })

  app.get('/api/hello', oatk.authenticatedWithClaims({ username: 'xtof' }), (req, res) => {
    res.json({ hello: 'world' })
  })

  app.get('/api/token', (req, res) => {
    // As request.args.items() in Flask: the first value of each parameter;
    // comma-separated values become lists.
    const params = new URL(req.originalUrl, 'http://localhost').searchParams
    const claims = {}
    for (const claim of new Set(params.keys())) {
      const value = params.get(claim)
      claims[claim] = value.includes(',') ? value.split(',') : value
    }
    res.type('text/plain').send(oatk.claims(claims).token)
  })

  return app
}

module.exports = { createApi }

if (require.main === module) {
  const portFlag = process.argv.indexOf('--port')
  const port = portFlag > 0 ? Number(process.argv[portFlag + 1]) : Number(process.env.PORT || 5002)
  const oatk = new OAuthToolkit().withPrivate('private_key.pem').withJwks('certs.json')
  const server = createApi(oatk).listen(port, '127.0.0.1', () => {
    console.log(`http://localhost:${server.address().port}`)
  })
}
