#!/usr/bin/env node
// The seed's walkthrough in a real browser: open an app page protected by
// oatk.js, get redirected to the fake server, sign in as xtof, consent, come
// back, see the greeting fetched with the bearer token, then log out.
//
//   node tests/browser/walkthrough.mjs --app URL --expect TEXT [--shots DIR]
//        [--server URL] (also tour the server's own pages first, as the seed's screenshots do)
//
// Exit code 0 when every step was seen; otherwise 1, with the browser console.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browse, parseArgs } from './session.mjs';

const opts = parseArgs(process.argv, {
  required: ['app', 'expect'],
  defaults: { user: 'xtof' },
  usage: 'walkthrough.mjs --app URL --expect TEXT [--shots DIR] [--server URL] [--user NAME]',
});
await browse({ shots: opts.shots }, async ({ page, step, snap }) => {
  if (opts.server) {
    await step('server home shows the sign-in page', async () => {
      await page.goto(opts.server + '/');
      await page.locator('#username').waitFor();
      await snap(page, 'server-sign-in');
    });
    await step(`sign in at the server as ${opts.user}`, async () => {
      await page.fill('#username', opts.user);
      await page.click('#login');
      await page.locator('#create-client').waitFor();
      await snap(page, 'server-home');
    });
    await step('the client registration form, with the seed defaults', async () => {
      await page.click('#create-client');
      await page.locator('#client_id').waitFor();
      await snap(page, 'server-create-client');
    });
    await step('log out at the server', async () => {
      await page.goto(opts.server + '/oauth/logout');
      await page.locator('#username').waitFor();
    });
  }

  await step('the app redirects to the fake server to sign in', async () => {
    await page.goto(opts.app);
    await page.locator('#username').waitFor();
    if (!page.url().includes('/oauth/authorize')) throw new Error(`expected the authorization endpoint, at ${page.url()}`);
    await snap(page, 'app-sign-in');
  });
  await step(`sign in as ${opts.user}; the consent page names the client`, async () => {
    await page.fill('#username', opts.user);
    await page.click('#login');
    await page.locator('#allow').waitFor();
    await snap(page, 'consent');
  });
  await step(`back at the app, which shows "${opts.expect}"`, async () => {
    await page.click('#allow');
    await page.getByText(opts.expect).first().waitFor();
    const url = new URL(page.url());
    if (url.searchParams.has('code') || url.searchParams.has('state')) throw new Error(`code left in the address bar: ${page.url()}`);
    await snap(page, 'app-greeting');
  });
  await step('oatk.js reads provider URLs by core\'s rule (tests/vectors/provider-urls.json)', async () => {
    const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors', 'provider-urls.json');
    const { cases } = JSON.parse(readFileSync(file, 'utf8'));
    const got = await page.evaluate((urls) => urls.map((u) => window.oatk._internal.discovery_url(u)), cases.map((c) => c.url));
    cases.forEach((c, i) => {
      if (got[i] !== c.fetch) throw new Error(`provider ${JSON.stringify(c.url)}: oatk.js fetches ${got[i]}, core ${c.fetch}`);
    });
  });
  await step('oatk.js refuses an id_token without the nonce it sent (OIDC Core 3.1.3.7)', async () => {
    const outcomes = await page.evaluate(() => {
      const b64 = (o) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
      const idToken = (claims) => `${b64({ alg: 'RS256' })}.${b64(claims)}.sig`;
      const attempt = (claims) => {
        try { window.oatk._internal.check_nonce(idToken(claims), 'n-sent'); return 'accepted'; }
        catch (e) { return e.error || e.message; }
      };
      return [attempt({ sub: 'a', nonce: 'n-sent' }), attempt({ sub: 'a' }), attempt({ sub: 'a', nonce: 'other' })];
    });
    if (outcomes.join() !== 'accepted,invalid_nonce,invalid_nonce') throw new Error(`nonce checks: ${outcomes}`);
  });
  await step('logout returns to the sign-in page', async () => {
    await page.click('#logout');
    await page.locator('#username').waitFor();
    await snap(page, 'logged-out');
  });
});
