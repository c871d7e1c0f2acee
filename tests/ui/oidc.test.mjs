// Browser sign-in through a real OpenID provider: the test starts oidc-provider on loopback
// http with a static confidential client, configures `jit serve` with auth.oidc for it, and
// a browser signs in through the authorization-code flow with PKCE (the provider is set to
// refuse any authorization request without it) and lands in the UI as that user. The same
// server's policy has a rule asking for a ticket and one usable only at other hours, to show
// the Ticket field and the broker's own refusal in the form.
//
// Run: JIT_BINARY=/path/to/jit node --test   (from tests/ui, after scripts/setup.sh)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  apiAs, card, launchChromium, missingPrerequisite, newContext, requestAccess, screenshot,
  startJit, waitForState,
} from './support.mjs';

const missing = missingPrerequisite();
if (missing) {
  test('browser test prerequisites are installed', () => assert.fail(missing));
} else {
  suite();
}

const CLIENT_ID = 'jit-ui';
const PERMISSION_SETS = `permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111", max_duration: 8h}
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222", max_duration: 1h}
  - {name: BreakGlass, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333", max_duration: 1h}
`;

// An hour-long window that does not hold now (UTC).
function otherHours() {
  const from = (new Date().getUTCHours() + 3) % 24;
  const two = (n) => String(n).padStart(2, '0');
  return { from: `${two(from)}:00`, to: from === 23 ? '24:00' : `${two(from + 1)}:00` };
}

function config({ issuer, jwksFile, secretFile, keyFile }) {
  const hours = otherHours();
  return `admins: {groups: [admins]}
auditors: {groups: [auditors]}
ui: {session_key_file: "${keyFile}", session_lifetime: 1h}
auth:
  oidc:
    issuer: "${issuer}"
    audience: ${CLIENT_ID}
    jwks_file: "${jwksFile}"
    client_secret_file: "${secretFile}"
    scopes: [openid, profile]
accounts:
  - {id: "111111111111", name: sandbox, tags: [dev]}
  - {id: "222222222222", name: prod, tags: [prod]}
${PERMISSION_SETS}rules:
  - name: readonly
    requesters: {groups: [engineers]}
    accounts: {all: true}
    permission_sets: [ReadOnly]
    max_duration: 8h
    min_duration: 5s
    approval: auto
  - name: sandbox-admin
    requesters: {groups: [engineers]}
    accounts: {names: [sandbox]}
    permission_sets: [Admin]
    max_duration: 1h
    min_duration: 5s
    reason: required
    ticket: "INC-[0-9]+"
    approval: auto
  - name: night-shift
    requesters: {groups: [engineers]}
    accounts: {names: [prod]}
    permission_sets: [BreakGlass]
    max_duration: 1h
    min_duration: 5s
    reason: required
    hours: {from: "${hours.from}", to: "${hours.to}"}
    approval: auto
`;
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function suite() {
  describe('OIDC sign-in in the browser', () => {
    let dir;
    let idpServer;
    let issuer;
    let jit;
    let browser;
    const contexts = [];
    const authorizationRequests = [];

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'jit-ui-oidc-'));
      // The provider's address first: jit is configured with it before the provider exists
      // (the provider needs jit's address for its client). Until then it answers 503.
      let handler = null;
      idpServer = createServer((req, res) => {
        if (req.url.startsWith('/auth?')) authorizationRequests.push(new URL(req.url, issuer));
        if (handler) return handler(req, res);
        res.statusCode = 503;
        res.end();
      });
      issuer = `http://127.0.0.1:${await listen(idpServer)}`;

      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const meta = { kid: 'test-key', alg: 'RS256', use: 'sig' };
      const jwksFile = join(dir, 'jwks.json');
      writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }),
                                                         ...meta }] }));
      const secret = randomBytes(24).toString('hex');
      const secretFile = join(dir, 'client-secret');
      writeFileSync(secretFile, `${secret}\n`);
      const keyFile = join(dir, 'session-key');
      writeFileSync(keyFile, randomBytes(32).toString('hex'));
      const configFile = join(dir, 'jit.yaml');
      writeFileSync(configFile, config({ issuer, jwksFile, secretFile, keyFile }));
      jit = await startJit(['--config', configFile]);

      const { default: Provider } = await import('oidc-provider');
      const groups = { alice: ['engineers'] };
      const provider = new Provider(issuer, {
        clients: [{
          client_id: CLIENT_ID,
          client_secret: secret,
          redirect_uris: [`${jit.url}/ui/auth/callback`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        }],
        jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), ...meta }] },
        findAccount: async (ctx, sub) => ({
          accountId: sub,
          claims: async () => ({ sub, preferred_username: sub, groups: groups[sub] || [] }),
        }),
        claims: { openid: ['sub'], profile: ['preferred_username', 'groups'] },
        // The username and groups go into the id_token itself (jit reads no userinfo).
        conformIdTokenClaims: false,
        // Refuse authorization requests without a code_challenge, confidential client or not.
        pkce: { required: () => true },
        cookies: { keys: [randomBytes(16).toString('hex')] },
        features: { devInteractions: { enabled: true } },
      });
      provider.on('server_error', (ctx, err) => console.log('# oidc-provider:', err));
      handler = provider.callback();
      browser = await launchChromium();
    });

    after(async () => {
      const problems = contexts.flatMap((c) => c.problems);
      for (const c of contexts) await c.close();
      if (browser) await browser.close();
      if (jit) await jit.stop();
      if (idpServer) {
        idpServer.closeAllConnections();
        await new Promise((resolve) => idpServer.close(resolve));
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
      assert.deepEqual(problems, [], 'no script errors and no CSP violations in the jit UI');
    });

    async function person() {
      const c = await newContext(browser, {}, jit.url);
      // The provider's built-in sign-in page links a web font; nothing leaves this machine.
      await c.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
      contexts.push(c);
      return c;
    }

    // Signs in at the provider as `login`; resolves with the jit page it returns to.
    async function signIn(login) {
      const page = await (await person()).newPage();
      await page.goto(`${jit.url}/`);
      await page.getByRole('link', { name: 'Sign in with your organization' }).click();
      await page.waitForURL(`${issuer}/**`);
      await page.locator('input[name="login"]').fill(login);
      await page.locator('input[name="password"]').fill('any password');
      await screenshot(page, 'oidc-provider-login');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      await page.getByRole('button', { name: 'Continue' }).click();  // consent
      await page.waitForURL(`${jit.url}/**`);
      await page.getByRole('heading', { name: 'Request access' }).waitFor();
      return page;
    }

    test('a browser signs in through the provider with PKCE and lands in the UI', async () => {
      const page = await signIn('alice');
      assert.equal(await page.locator('#who-name').textContent(), 'alice');
      await screenshot(page, 'oidc-signed-in');

      const auth = authorizationRequests.at(-1);
      assert.ok(auth, 'the browser went to the authorization endpoint');
      const q = auth.searchParams;
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('client_id'), CLIENT_ID);
      assert.equal(q.get('redirect_uri'), `${jit.url}/ui/auth/callback`);
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
      assert.ok(q.get('state').length >= 32 && q.get('nonce').length >= 32);
      assert.equal(q.get('scope'), 'openid profile');

      const session = await page.evaluate(async () => (await fetch('/ui/auth/session')).json());
      assert.equal(session.method, 'oidc');
      assert.deepEqual(session.user, { username: 'alice', groups: ['engineers'] });
      const me = await page.evaluate(async () => (await fetch('/v1/me')).json());
      assert.equal(me.username, 'alice');
      assert.deepEqual(me.groups, ['engineers']);
      const cookie = (await page.context().cookies()).find((c) => c.name === 'jit_session');
      assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Lax');
      assert.ok(!(await page.context().cookies()).some((c) => c.name === 'jit_login'),
                'the login state cookie is spent');

      // The id_token's user requests and gets access, like anyone else.
      const id = await requestAccess(page, {
        account: 'sandbox (111111111111)', permissionSet: 'ReadOnly', duration: '5m',
      });
      await waitForState(page, id, 'active');
      const fromApi = await apiAs(jit.url, 'dev-alice', 'GET', `/v1/requests/${id}`);
      assert.equal(fromApi.body.requester, 'alice');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to jit' }).waitFor();
      assert.equal(await page.evaluate(async () => (await fetch('/v1/me')).status), 401);
    });

    test('the Ticket field, and the broker refusing outside the rule\'s hours', async () => {
      const page = await signIn('alice');
      await page.getByLabel('Account').selectOption({ label: 'sandbox (111111111111)' });
      await page.getByLabel('Permission set').selectOption('Admin');
      const ticket = page.getByLabel('Ticket');
      await ticket.waitFor();
      await page.getByLabel('Duration').fill('15m');
      await page.getByLabel('Reason').fill('restart the service');
      await ticket.fill('nope');
      await page.getByRole('button', { name: 'Request access' }).click();
      await page.locator('.field-error', { hasText: 'The ticket must match INC-[0-9]+' }).waitFor();
      assert.equal(await ticket.getAttribute('aria-invalid'), 'true');
      await screenshot(page, 'request-ticket-error');
      await ticket.fill('INC-42');
      await page.getByRole('button', { name: 'Request access' }).click();
      await page.getByRole('heading', { name: 'My requests' }).waitFor();
      const id = /req_\w+/.exec(await page.locator('#status').textContent())[0];
      await waitForState(page, id, 'active');
      assert.match(await card(page, id).textContent(), /INC-42/);

      // The page cannot know the broker's clock rules; the broker's message shows in the form.
      await page.goto(`${jit.url}/#/request`);
      await page.getByLabel('Account').selectOption({ label: 'prod (222222222222)' });
      await page.getByLabel('Permission set').selectOption('BreakGlass');
      await page.locator('.rule-info', { hasText: 'Only usable daily' }).waitFor();
      assert.equal(await page.getByLabel('Ticket').isVisible(), false);
      await page.getByLabel('Duration').fill('10m');
      await page.getByLabel('Reason').fill('after hours');
      await page.getByRole('button', { name: 'Request access' }).click();
      const refusal = page.locator('.form-error[role="alert"]',
                                   { hasText: "rule 'night-shift' allows requests daily" });
      await refusal.waitFor();
      await screenshot(page, 'request-refused-by-broker');
    });
  });
}
