// Shared by the browser tests: the prerequisites, `jit serve` as a child process, Debian's
// Chromium through playwright-core, and the screenshots kept as test artifacts.
//
// Everything stays on loopback: jit and the OpenID provider listen on 127.0.0.1 port 0, and
// Chromium runs with its background networking off (this machine's network is closed).

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

const here = dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = process.env.JIT_CHROMIUM || '/usr/bin/chromium';

// What is missing to run these tests, or null. The test then fails saying so (never skips).
export function missingPrerequisite() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) return `node ${process.versions.node} is too old (20 or later): run scripts/setup.sh`;
  for (const pkg of ['playwright-core', 'oidc-provider']) {
    if (!existsSync(join(here, 'node_modules', pkg, 'package.json'))) {
      return `tests/ui/node_modules has no ${pkg}: run scripts/setup.sh`;
    }
  }
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing: run scripts/setup.sh`;
  if (!process.env.JIT_BINARY) return 'set JIT_BINARY to the jit executable (ctest does this)';
  return null;
}

// Where screenshots go: $JIT_UI_ARTIFACTS (ctest sets build/<preset>/tests/ui-artifacts).
export function artifactsDir() {
  const dir = process.env.JIT_UI_ARTIFACTS || join(tmpdir(), 'jit-ui-artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function screenshot(page, name) {
  const path = join(artifactsDir(), `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

// `jit serve --dev` on a free loopback port, in a fresh data folder. Resolves with
// {url, log(), stop()} once it prints its address.
export async function startJit(extraArgs = []) {
  const data = mkdtempSync(join(tmpdir(), 'jit-ui-'));
  const child = spawn(process.env.JIT_BINARY,
                      ['serve', '--dev', '--listen', '127.0.0.1:0', '--data', data, ...extraArgs],
                      { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`jit did not start:\n${out}\n${err}`)), 30000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`jit exited (${code}):\n${out}\n${err}`));
    });
  });
  return {
    url,
    banner: () => out,
    log: () => err,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(data, { recursive: true, force: true });
    },
  };
}

// The API with a bearer token, for checks beside the browser.
export async function apiAs(base, token, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

// Debian's Chromium, headless, with a fresh profile (playwright-core makes a new temporary
// --user-data-dir for every launch and removes it on close) and nothing that phones home.
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  const args = ['--disable-gpu', '--disable-quic', '--no-first-run',
                '--disable-background-networking', '--disable-component-update', '--disable-sync',
                '--disable-dev-shm-usage'];
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (asRoot) args.push('--no-sandbox');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args,
                           chromiumSandbox: !asRoot, timeout: 30000 });
}

// A browser context (its own cookies, like another person's browser) whose pages record every
// script error and console error, so that a test can assert there were none (a Content
// Security Policy violation shows up as a console error).
// `origin`: only its pages are watched (others, like an identity provider's, are not ours).
export async function newContext(browser, options = {}, origin = null) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, ...options });
  context.setDefaultTimeout(15000);
  context.problems = [];
  context.on('page', (page) => watch(context, page, origin));
  return context;
}

function watch(context, page, origin) {
  const ours = () => origin === null || page.url().startsWith(`${origin}/`);
  page.on('pageerror', (e) => {
    if (ours()) context.problems.push(`page error: ${e.message}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && ours()) {
      const text = m.text();
      // A refused API call logs "Failed to load resource: ... 4xx"; the tests cause those.
      if (!/Failed to load resource: the server responded with a status of 4\d\d/
        .test(text)) {
        context.problems.push(`console error: ${text}`);
      }
    }
  });
}

// Opens the UI and signs in as a dev user; resolves with the page on "Request access".
export async function signInDev(context, base, user) {
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.getByRole('button', { name: `Sign in as ${user}` }).click();
  // The first screen: the request form, or Approvals for someone who may only approve.
  await page.locator('main h1', { hasText: /^(Request access|Approvals)/ }).waitFor();
  return page;
}

export const REQUEST_ID = /req_[0-9A-HJKMNP-TV-Z]{26}/;

// Fills and sends the request form; resolves with the new request's id (from the status
// line), once My requests shows.
export async function requestAccess(page, { account, permissionSet, duration, reason, ticket }) {
  await page.goto(`${new URL(page.url()).origin}/#/request`);
  await page.getByLabel('Account').selectOption({ label: account });
  await page.getByLabel('Permission set').selectOption(permissionSet);
  await page.getByLabel('Duration').fill(duration);
  if (reason !== undefined) await page.getByLabel('Reason').fill(reason);
  if (ticket !== undefined) await page.getByLabel('Ticket').fill(ticket);
  await page.getByRole('button', { name: 'Request access' }).click();
  await page.getByRole('heading', { name: 'My requests' }).waitFor();
  const status = page.locator('#status');
  await status.filter({ hasText: REQUEST_ID }).waitFor();
  return REQUEST_ID.exec(await status.textContent())[0];
}

export function card(page, id) {
  return page.locator(`li[data-request-id="${id}"]`);
}

// Waits until the request's card shows `state`.
export async function waitForState(page, id, state, timeout = 20000) {
  await card(page, id).locator(`.badge[data-state="${state}"]`).waitFor({ timeout });
}

// A suite against `jit serve --dev --config FILE` with `config` (YAML text) and one Chromium.
// `body(env)` declares its tests: env.jit (startJit's) and env.browser are set before they run,
// and every context pushed on env.contexts is closed after them, the suite failing on any
// script error or CSP violation one saw. Without the prerequisites, one failing test says what
// is missing (never a skip).
export function describeWithConfig(title, config, body) {
  const missing = missingPrerequisite();
  if (missing) {
    test('browser test prerequisites are installed', () => assert.fail(missing));
    return;
  }
  describe(title, () => {
    const env = { jit: null, browser: null, contexts: [] };

    before(async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'jit-ui-config-')), 'jit.yaml');
      writeFileSync(file, config);
      env.jit = await startJit(['--config', file]);
      env.browser = await launchChromium();
    });

    after(async () => {
      const problems = env.contexts.flatMap((c) => c.problems);
      for (const c of env.contexts) await c.close();
      if (env.browser) await env.browser.close();
      if (env.jit) await env.jit.stop();
      assert.deepEqual(problems, [], 'no script errors and no CSP violations');
    });

    body(env);
  });
}
