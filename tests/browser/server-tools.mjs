#!/usr/bin/env node
// The fake server's test tools in a real browser (issue 12): the token
// debugger decodes and validates a token, then explains why it expired once
// the server's clock moves; a key rotation through the admin API publishes
// two keys, and the app still signs in with tokens from the new key.
//
//   node tests/browser/server-tools.mjs --server URL --app URL --expect TEXT
//        [--shots DIR] [--first N] (screenshots numbered from N) [--user NAME]
//
// Exit code 0 when every step was seen; otherwise 1, with the browser console.
import { browse, parseArgs } from './session.mjs';

const opts = parseArgs(process.argv, {
  required: ['server', 'app', 'expect'],
  defaults: { user: 'xtof', first: '1' },
  usage: 'server-tools.mjs --server URL --app URL --expect TEXT [--shots DIR] [--first N] [--user NAME]',
});

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// The admin API, as a test would call it: JSON in, JSON out, loopback only.
async function admin(method, path, body) {
  const response = await fetch(opts.server + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// A service's token: client_credentials for the confidential client "svc".
async function serviceToken() {
  const response = await fetch(opts.server + '/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + btoa('svc:svc-secret') },
    body: 'grant_type=client_credentials',
  });
  if (!response.ok) throw new Error(`client_credentials: ${response.status} ${await response.text()}`);
  return (await response.json()).access_token;
}

const kidOf = (token) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url')).kid;
const publishedKids = async () => (await (await fetch(opts.server + '/oauth/certs')).json()).keys.map((k) => k.kid);

await browse({ shots: opts.shots, first: opts.first }, async ({ page, step, snap }) => {
  await admin('POST', '/admin/clients', { client_id: 'svc', client_secret: 'svc-secret', name: 'Billing service',
    grant_types: ['client_credentials'], scope: 'api' });
  await admin('POST', '/admin/claim-mappings', { client_id: 'svc', claims: { roles: ['invoices:read'], acting_for: '${client_id}' } });
  let token = await serviceToken();

  await step('the token debugger, linked from the sign-in page, decodes and validates a token', async () => {
    await page.goto(opts.server + '/');
    await page.click('#debugger-link');
    await page.fill('#token', token);
    await page.click('#decode');
    const verdict = await page.locator('#verdict').innerText();
    expect(verdict.startsWith('Valid'), `verdict: ${verdict}`);
    const claims = await page.locator('#claims').innerText();
    expect(claims.includes('"acting_for": "svc"') && claims.includes('invoices:read'), `claims: ${claims}`);
    expect((await page.locator('#time-exp').innerText()).includes('(in 5 min)'), 'exp as a readable time');
    await snap(page, 'debugger');
  });

  await step('the server clock moves an hour: the debugger says why the token no longer validates', async () => {
    await admin('POST', '/admin/clock', { advance: 3600 });
    await page.click('#decode');
    const verdict = await page.locator('#verdict').innerText();
    expect(verdict.includes('EXPIRED') && verdict.includes('token expired at'), `verdict: ${verdict}`);
    await snap(page, 'debugger-expired');
    await admin('POST', '/admin/clock', { reset: true });
  });

  let newKid;
  await step('rotate the keys through the admin API: the JWKS publishes both, new tokens use the new one', async () => {
    const before = await publishedKids();
    const rotated = await admin('POST', '/admin/keys/rotate', {});
    newKid = rotated.keys.find((k) => k.signing).kid;
    const after = await publishedKids();
    expect(after.length === 2 && after.includes(before[0]) && after.includes(newKid), `JWKS after rotation: ${after}`);
    const old = token;
    token = await serviceToken();
    expect(kidOf(token) === newKid && kidOf(old) === before[0], 'the new token is signed with the new key');
    await page.goto(opts.server + '/debugger');
    await page.fill('#token', token);
    await page.click('#decode');
    expect((await page.locator('#verdict').innerText()).startsWith('Valid'), 'the new token validates');
    const keys = await page.locator('#keys').innerText();
    expect(keys.includes(newKid) && keys.includes(before[0]) && keys.includes('until retired'), `keys card: ${keys}`);
    await page.locator('#keys').scrollIntoViewIfNeeded();
    await snap(page, 'keys-after-rotation');
  });

  await step(`after the rotation the app still signs in and shows "${opts.expect}"`, async () => {
    await page.goto(opts.app);
    await page.locator('#username').waitFor();
    await page.fill('#username', opts.user);
    await page.click('#login');
    await page.click('#allow');
    await page.getByText(opts.expect).first().waitFor();
    await snap(page, 'app-after-rotation');
  });

  await step('retire the old key: the JWKS publishes the new one only', async () => {
    await admin('POST', '/admin/keys/retire', {});
    const after = await publishedKids();
    expect(after.length === 1 && after[0] === newKid, `JWKS after retirement: ${after}`);
  });
});
