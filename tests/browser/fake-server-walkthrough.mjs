#!/usr/bin/env node
// Issue 3's browser test: the fake server (the oatk CLI), a page on another
// port loading /static/oatk.js, the walkthrough, then the server's test
// tools (server-tools.mjs: debugger, clock, key rotation), screenshots into docs/.
//   node tests/browser/fake-server-walkthrough.mjs OATK_BIN [SHOTS_DIR]
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

const here = dirname(fileURLToPath(import.meta.url));
const [oatkBin, shots] = process.argv.slice(2);
const children = [];
const stopAll = () => children.forEach((c) => { try { c.kill('SIGTERM'); } catch {} });
process.on('exit', stopAll);

function startFakeServer() {
  const child = spawn(oatkBin, ['server', 'run', '--port', '0', '--memory', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`oatk server exited with ${code}`)));
  });
}

function startApp(serverUrl) {
  const html = readFileSync(join(here, 'pages', 'index.html'), 'utf8').replaceAll('{{OATK_SERVER}}', serverUrl);
  const app = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  return new Promise((resolve) => app.listen(0, '127.0.0.1', () => resolve(app)));
}

const server = await startFakeServer();
const app = await startApp(server);
const appUrl = `http://localhost:${app.address().port}/`;
// Register the seed's `test` client for this page's address, at run time, through the admin API.
const registered = await fetch(`${server}/admin/clients`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ client_id: 'test', name: 'My App', redirect_uris: [appUrl], public: true, scope: 'openid profile',
                         permission_groups: ['Group1', 'Group2', 'Group3'] }),
});
if (!registered.ok) throw new Error(`registering the client failed: ${registered.status} ${await registered.text()}`);

const run = (script, extra) => {
  const child = spawn(process.execPath, [join(here, script), '--app', appUrl, '--expect', 'Hello, xtof!',
    '--server', server, ...(shots ? ['--shots', shots] : []), ...extra], { stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
};
let code = await run('walkthrough.mjs', []);
// Then the server's test tools (issue 12): debugger, clock, key rotation;
// their screenshots follow the walkthrough's seven.
if (code === 0) code = await run('server-tools.mjs', ['--first', '8']);
app.close();
stopAll();
process.exit(code);
