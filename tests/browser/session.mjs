// What every browser walkthrough shares: its command line, Chromium launched
// with the flags this machine needs, a page whose console is kept for the
// failure report, steps that log their time, numbered screenshots, and the
// exit code (0 when every step was seen; otherwise 1, with the console).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const STEP_TIMEOUT = 15_000;

/** `--name value` pairs over `defaults`; the usage line and exit 2 when a `required` one is missing. */
export function parseArgs(argv, { required, defaults = {}, usage }) {
  const out = { ...defaults };
  for (let i = 2; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  if (required.some((name) => !out[name])) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return out;
}

/**
 * Run `body({ page, step, snap })` in a fresh headless Chromium, then exit.
 * `snap(page, name)` saves `NN-name.png` into `shots` (numbered from `first`)
 * when `shots` is set.
 */
export async function browse({ shots, first = 1 }, body) {
  const consoleLines = [];
  let shot = Number(first) - 1;
  const snap = async (page, name) => {
    if (!shots) return;
    mkdirSync(shots, { recursive: true });
    shot += 1;
    await page.screenshot({ path: join(shots, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  };
  const step = async (name, fn) => {
    const started = Date.now();
    await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  };
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  let failed = false;
  try {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
    await body({ page, step, snap });
  } catch (e) {
    failed = true;
    console.error(`FAIL ${e.message.split('\n')[0]}`);
    console.error('browser console:\n  ' + consoleLines.join('\n  '));
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
