// The web UI in a real browser (Debian's Chromium driven by playwright-core) against
// `jit serve --dev`: people sign in as the dev users, each in a browser context of their own,
// and do what the UI is for. Screenshots go to $JIT_UI_ARTIFACTS.
//
// Run: JIT_BINARY=/path/to/jit node --test   (from tests/ui, after scripts/setup.sh)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

import {
  apiAs, artifactsDir, card, launchChromium, missingPrerequisite, newContext, requestAccess,
  screenshot, signInDev, startJit, waitForState,
} from './support.mjs';

const missing = missingPrerequisite();
if (missing) {
  test('browser test prerequisites are installed', () => assert.fail(missing));
} else {
  suite();
}

function suite() {
  describe('web UI in dev mode', () => {
    let jit;
    let browser;
    const contexts = [];

    before(async () => {
      jit = await startJit();
      browser = await launchChromium();
      console.log(`# screenshots: ${artifactsDir()}`);
    });

    after(async () => {
      const problems = contexts.flatMap((c) => c.problems);
      for (const c of contexts) await c.close();
      if (browser) await browser.close();
      if (jit) await jit.stop();
      assert.deepEqual(problems, [], 'no script errors and no CSP violations');
    });

    async function person(options) {
      const c = await newContext(browser, options);
      contexts.push(c);
      return c;
    }

    test('the page and its files carry a strict Content-Security-Policy', async () => {
      for (const path of ['/', '/ui/app.js', '/ui/app.css']) {
        const res = await fetch(jit.url + path);
        assert.equal(res.status, 200, path);
        const csp = res.headers.get('content-security-policy');
        assert.match(csp, /default-src 'self'/);
        assert.match(csp, /frame-ancestors 'none'/);
        assert.doesNotMatch(csp, /unsafe/);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
        assert.ok(res.headers.get('etag'));
      }
      assert.match((await fetch(`${jit.url}/ui/app.js`)).headers.get('content-type'),
                   /^text\/javascript/);
      assert.match(jit.banner(), new RegExp(`web UI: ${jit.url}/`));
    });

    test('alice asks for prod Admin, bob approves, alice sees it active and then ended',
         async () => {
      const alice = await signInDev(await person(), jit.url, 'alice');
      const cookies = await alice.context().cookies();
      const session = cookies.find((c) => c.name === 'jit_session');
      assert.ok(session, 'a session cookie');
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Lax');
      assert.equal(session.secure, false, 'loopback http: not Secure');
      assert.equal(await alice.evaluate(() => document.cookie), '', 'scripts cannot read it');

      const id = await requestAccess(alice, {
        account: 'prod (222222222222)', permissionSet: 'Admin', duration: '10s',
        reason: 'rotate the keys',
      });
      await waitForState(alice, id, 'pending');
      await screenshot(alice, 'alice-requested');

      const bob = await signInDev(await person(), jit.url, 'bob');
      await bob.getByRole('link', { name: 'Approvals' }).click();
      const decision = card(bob, id);
      await decision.waitFor();
      const text = await decision.textContent();
      for (const want of ['alice', 'prod (222222222222)', 'Admin', '10s', 'rotate the keys',
                          'prod-admin', '0 of 1']) {
        assert.ok(text.includes(want), `the approval card shows ${want}: ${text}`);
      }
      await decision.getByLabel('Comment').fill('go ahead');
      await screenshot(bob, 'bob-approvals');
      await decision.getByRole('button', { name: 'Approve' }).click();
      await bob.locator('#status', { hasText: `Approved ${id}` }).waitFor();
      await decision.waitFor({ state: 'detached' });

      await waitForState(alice, id, 'active');
      const left = await card(alice, id).locator('.time-left').textContent();
      const seconds = Number(/^(\d+)s$/.exec(left)?.[1]);
      assert.ok(seconds > 0 && seconds <= 10, `time left ${left}`);
      assert.match(await card(alice, id).textContent(), /bob/);
      await screenshot(alice, 'alice-active');
      // The grant ends by itself after its 10 seconds.
      await waitForState(alice, id, 'ended', 30000);
      await alice.locator('[aria-label="Past requests"]').locator(`[data-request-id="${id}"]`)
        .waitFor();
      await screenshot(alice, 'alice-ended');
      const fromApi = await apiAs(jit.url, 'dev-alice', 'GET', `/v1/requests/${id}`);
      assert.equal(fromApi.body.state, 'ended');
      assert.deepEqual(fromApi.body.approvals.map((a) => [a.approver, a.comment]),
                       [['bob', 'go ahead']]);
    });

    test('request, approve, active, then revoke: by alice herself and by carol, an admin',
         async () => {
      const alice = await signInDev(await person(), jit.url, 'alice');
      const bob = await signInDev(await person(), jit.url, 'bob');
      const ids = [
        await requestAccess(alice, {
          account: 'prod (222222222222)', permissionSet: 'Admin', duration: '30m',
          reason: 'deploy the hotfix',
        }),
        // Another target: a second prod Admin while the first is open would be refused as a
        // duplicate (docs/POLICY.md "Limits"). ReadOnly is approved at once.
        await requestAccess(alice, {
          account: 'sandbox (111111111111)', permissionSet: 'ReadOnly', duration: '30m',
          reason: 'look at the logs',
        }),
      ];
      await bob.goto(`${jit.url}/#/approvals`);
      await card(bob, ids[0]).getByRole('button', { name: 'Approve' }).click();
      await card(bob, ids[0]).waitFor({ state: 'detached' });
      await alice.goto(`${jit.url}/#/mine`);
      for (const id of ids) await waitForState(alice, id, 'active');

      // Alice ends the first one herself.
      await card(alice, ids[0]).getByRole('button', { name: 'Revoke' }).click();
      await waitForState(alice, ids[0], 'ended');
      assert.match(await card(alice, ids[0]).textContent(), /Why it ended/);
      await screenshot(alice, 'alice-revoked');

      // Carol, an admin, ends the other one from her own browser.
      const carol = await signInDev(await person(), jit.url, 'carol');
      await carol.getByRole('link', { name: 'My requests' }).click();
      const grant = card(carol, ids[1]);
      await grant.getByLabel('Why end it now').fill('incident over');
      await screenshot(carol, 'carol-active-grants');
      await grant.getByRole('button', { name: 'Revoke' }).click();
      await carol.locator('#status', { hasText: `Access of alice (${ids[1]})` }).waitFor();
      await waitForState(alice, ids[1], 'ended');
      const fromApi = await apiAs(jit.url, 'dev-alice', 'GET', `/v1/requests/${ids[1]}`);
      assert.ok(fromApi.body.history.some((e) => e.actor === 'carol' &&
                                                  e.action === 'request.revoked'),
                JSON.stringify(fromApi.body.history));
    });

    test('extend and cancel from My requests', async () => {
      const alice = await signInDev(await person(), jit.url, 'alice');
      const id = await requestAccess(alice, {
        account: 'sandbox (111111111111)', permissionSet: 'ReadOnly', duration: '20m',
      });
      await waitForState(alice, id, 'active');
      const before = (await apiAs(jit.url, 'dev-alice', 'GET', `/v1/requests/${id}`)).body;
      await card(alice, id).getByLabel('Extend by').fill('10m');
      await card(alice, id).getByRole('button', { name: 'Extend' }).click();
      await alice.locator('#status', { hasText: `${id} extended by 10m` }).waitFor();
      const later = (await apiAs(jit.url, 'dev-alice', 'GET', `/v1/requests/${id}`)).body;
      assert.equal(Date.parse(later.expires_at) - Date.parse(before.expires_at), 600000);
      // The page rebuilds the card once it has read the new expiry; typing into the old one
      // would be lost with it (a slow sanitizer build showed that race).
      await card(alice, id).locator('dd', { hasText: /^30m$/ }).waitFor();
      // An extension past the rule's limit shows the broker's own message.
      await card(alice, id).getByLabel('Extend by').fill('9h');
      await card(alice, id).getByRole('button', { name: 'Extend' }).click();
      await card(alice, id).locator('.form-error', { hasText: 'Extend failed' }).waitFor();

      const pending = await requestAccess(alice, {
        account: 'prod (222222222222)', permissionSet: 'Admin', duration: '5m', reason: 'oops',
      });
      await card(alice, pending).getByRole('button', { name: 'Cancel' }).click();
      await waitForState(alice, pending, 'cancelled');
    });

    test('an extension of an approved grant waits for an approver', async () => {
      const alice = await signInDev(await person(), jit.url, 'alice');
      const id = await requestAccess(alice, {
        account: 'prod (222222222222)', permissionSet: 'Admin', duration: '20m',
        reason: 'long migration',
      });
      await waitForState(alice, id, 'pending');
      await apiAs(jit.url, 'dev-bob', 'POST', `/v1/requests/${id}/approve`, {});
      await waitForState(alice, id, 'active');
      const before = (await apiAs(jit.url, 'dev-alice', 'GET', `/v1/requests/${id}`)).body;
      await card(alice, id).getByLabel('Extend by').fill('10m');
      await card(alice, id).getByRole('button', { name: 'Extend' }).click();
      await alice.locator('#status', { hasText: `The extension of ${id} by 10m waits` }).waitFor();
      await card(alice, id).getByText('Extension by 10m waits for approval (0 of 1)').waitFor();

      const bob = await signInDev(await person(), jit.url, 'bob');
      await bob.getByRole('link', { name: 'Approvals' }).click();
      const decision = card(bob, id);
      await decision.getByText('extension by 10m').waitFor();
      await screenshot(bob, 'bob-extension');
      await decision.getByRole('button', { name: 'Approve' }).click();
      await bob.locator('#status', { hasText: `Approved the extension of ${id}` }).waitFor();
      const later = (await apiAs(jit.url, 'dev-alice', 'GET', `/v1/requests/${id}`)).body;
      assert.equal(later.extension, null);
      assert.equal(Date.parse(later.expires_at) - Date.parse(before.expires_at), 600000);
      await apiAs(jit.url, 'dev-alice', 'POST', `/v1/requests/${id}/revoke`, {});
    });

    test('a request can be scheduled to start later', async () => {
      const alice = await signInDev(await person(), jit.url, 'alice');
      await alice.getByLabel('Account').selectOption({ label: 'sandbox (111111111111)' });
      await alice.getByLabel('Permission set').selectOption('ReadOnly');
      await alice.getByLabel('Duration').fill('30m');
      // Two hours from now, in the browser's local time, as a datetime-local value.
      const start = await alice.evaluate(() => {
        const d = new Date(Date.now() + 2 * 3600 * 1000);
        d.setSeconds(0, 0);
        const pad = (n) => String(n).padStart(2, '0');
        return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
               `${pad(d.getHours())}:${pad(d.getMinutes())}`;
      });
      await alice.getByLabel('Start').fill(start);
      await alice.getByRole('button', { name: 'Request access' }).click();
      await alice.getByRole('heading', { name: 'My requests' }).waitFor();
      const mine = await apiAs(jit.url, 'dev-alice', 'GET', '/v1/requests?mine=true&limit=1');
      const r = mine.body.items[0];
      assert.equal(r.state, 'approved');
      assert.ok(Math.abs(Date.parse(r.start_at) - Date.now() - 2 * 3600 * 1000) < 120000,
                `start_at ${r.start_at}`);
      await card(alice, r.id).getByText('Starts').waitFor();
      await card(alice, r.id).getByRole('button', { name: 'Revoke' }).click();
      await waitForState(alice, r.id, 'ended');
    });

    test('one request for two accounts: asked once, each account active on its own',
         async () => {
      // Earlier tests may leave alice's ReadOnly grants open: a second would be a duplicate.
      const open = await apiAs(jit.url, 'dev-alice', 'GET', '/v1/requests?mine=true&limit=500');
      for (const r of open.body.items) {
        if (r.state === 'active' || r.state === 'approved') {
          await apiAs(jit.url, 'dev-alice', 'POST', `/v1/requests/${r.id}/revoke`, {});
        } else if (r.state === 'pending') {
          await apiAs(jit.url, 'dev-alice', 'POST', `/v1/requests/${r.id}/cancel`, {});
        }
      }
      const alice = await signInDev(await person(), jit.url, 'alice');
      await alice.getByLabel('Account').selectOption({ label: 'sandbox (111111111111)' });
      await alice.getByLabel('Permission set').selectOption('ReadOnly');
      // "Also in" offers the other accounts of that permission set, not the one chosen above.
      const more = alice.getByLabel('Also in');
      assert.deepEqual(await more.locator('option').allTextContents(), ['prod (222222222222)']);
      await more.selectOption({ label: 'prod (222222222222)' });
      await alice.getByLabel('Duration').fill('30m');
      await alice.getByRole('button', { name: 'Request access' }).click();
      await alice.getByRole('heading', { name: 'My requests' }).waitFor();
      const mine = await apiAs(jit.url, 'dev-alice', 'GET', '/v1/requests?mine=true&limit=2');
      // Filed in one transaction, often in one millisecond: the list's order between them is
      // the ids' random part, so find the first by the batch it names.
      const first = mine.body.items.find((r) => r.batch.length && r.batch[0] === r.id);
      const second = mine.body.items.find((r) => r !== first);
      assert.ok(first, JSON.stringify(mine.body.items));
      assert.deepEqual(first.batch, [first.id, second.id]);
      assert.deepEqual([first.account.name, second.account.name], ['sandbox', 'prod']);
      await waitForState(alice, first.id, 'active');
      await waitForState(alice, second.id, 'active');
      await card(alice, first.id).getByText('1 more account in one request').waitFor();
      const view = await apiAs(jit.url, 'dev-alice', 'GET', `/v1/requests/${first.id}`);
      assert.deepEqual(view.body.targets.map((t) => [t.account.name, t.state]),
                       [['sandbox', 'active'], ['prod', 'active']]);
      await screenshot(alice, 'request-two-accounts');
      // Each account is revoked on its own.
      await card(alice, second.id).getByRole('button', { name: 'Revoke' }).click();
      await waitForState(alice, second.id, 'ended');
      assert.equal((await apiAs(jit.url, 'dev-alice', 'GET', `/v1/requests/${first.id}`))
        .body.state, 'active');
      await card(alice, first.id).getByRole('button', { name: 'Revoke' }).click();
      await waitForState(alice, first.id, 'ended');
    });

    test('the request form says what is wrong next to the field', async () => {
      const before = await apiAs(jit.url, 'dev-alice', 'GET', '/v1/requests?mine=true&limit=500');
      const alice = await signInDev(await person(), jit.url, 'alice');
      await alice.getByLabel('Account').selectOption({ label: 'prod (222222222222)' });
      await alice.getByLabel('Permission set').selectOption('Admin');
      await alice.locator('.rule-info', { hasText: 'Needs 1 approval' }).waitFor();
      await alice.getByLabel('Duration').fill('2h');
      await alice.getByLabel('Reason').fill('');
      await alice.getByRole('button', { name: 'Request access' }).click();
      const duration = alice.getByLabel('Duration');
      assert.equal(await duration.getAttribute('aria-invalid'), 'true');
      const errorId = (await duration.getAttribute('aria-describedby')).split(' ').pop();
      assert.equal(await alice.locator(`#${errorId}`).textContent(), 'At most 1h for this rule.');
      assert.equal(await alice.getByLabel('Reason').getAttribute('aria-invalid'), 'true');
      assert.equal(await alice.evaluate(() => document.activeElement.name), 'duration',
                   'focus goes to the first wrong field');
      await alice.getByLabel('Duration').fill('soon');
      await alice.getByRole('button', { name: 'Request access' }).click();
      await alice.locator('.field-error', { hasText: 'is not a duration' }).waitFor();
      await screenshot(alice, 'request-errors');
      // Nothing was sent.
      const mine = await apiAs(jit.url, 'dev-alice', 'GET', '/v1/requests?mine=true&limit=500');
      assert.equal(mine.body.items.length, before.body.items.length);
      // Someone the policy lets request nothing is told so, and where their decisions wait.
      const bob = await signInDev(await person(), jit.url, 'bob');
      await bob.getByRole('link', { name: 'Request', exact: true }).click();
      await bob.getByText('No rule lets you request access').waitFor();
      await bob.locator('main').getByRole('link', { name: 'Approvals' }).click();
      await bob.getByRole('heading', { name: 'Approvals' }).waitFor();
    });

    test('the audit page is for admins and auditors, with filters and the verification',
         async () => {
      const alice = await signInDev(await person(), jit.url, 'alice');
      assert.equal(await alice.getByRole('link', { name: 'Audit' }).count(), 0);
      await alice.goto(`${jit.url}/#/audit`);
      await alice.getByRole('heading', { name: 'Request access' }).waitFor();

      const carol = await signInDev(await person(), jit.url, 'carol');
      await carol.getByRole('link', { name: 'Audit' }).click();
      await carol.getByRole('heading', { name: 'Audit', exact: true }).waitFor();
      const verdict = carol.locator('.verify-result');
      await verdict.filter({ hasNotText: 'Verifying' }).waitFor();
      // Dev mode signs checkpoints with a key in its data folder: the chain verifies.
      assert.match(await verdict.textContent(), /The audit chain verifies\./);
      assert.match(await verdict.textContent(), /last_seq/);
      await carol.locator('table.events tbody tr').first().waitFor();
      const all = await carol.locator('table.events tbody tr').count();
      assert.ok(all > 5, `events: ${all}`);
      await carol.getByLabel('Action').selectOption('request.approved');
      const rows = carol.locator('table.events tbody tr');
      const approved = await rows.count();
      assert.ok(approved >= 1 && approved < all, `approved: ${approved} of ${all}`);
      for (const action of await rows.locator('td:nth-child(4)').allTextContents()) {
        assert.equal(action, 'request.approved');
      }
      await carol.getByLabel('Actor').fill('bob');
      const bobs = await rows.locator('td:nth-child(3)').allTextContents();
      assert.ok(bobs.length >= 1 && bobs.length <= approved, `bob's approvals: ${bobs.length}`);
      assert.deepEqual([...new Set(bobs)], ['bob']);
      await carol.getByLabel('Actor').fill('nobody');
      assert.equal(await rows.count(), 0);
      await carol.locator('.count', { hasText: 'Showing 0 of' }).waitFor();
      await carol.getByLabel('Actor').fill('');
      await carol.getByLabel('Action').selectOption('');
      await screenshot(carol, 'carol-audit');
    });

    test('the audit page shows the service levels report with bar charts', async () => {
      // A request of alice's own, so that the report has someone to show whatever ran before.
      const made = await apiAs(jit.url, 'dev-alice', 'POST', '/v1/requests', {
        account: 'sandbox', permission_set: 'ReadOnly', duration: '5m', reason: 'the report',
      });
      assert.ok(made.status === 201 || made.status === 409, `submitted: ${made.status}`);
      assert.equal((await apiAs(jit.url, 'dev-alice', 'GET', '/v1/reports/summary')).status, 403);
      const bad = await apiAs(jit.url, 'dev-carol', 'GET', '/v1/reports/summary?since=soon');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'bad_request');

      const carol = await signInDev(await person(), jit.url, 'carol');
      // The figures shown are those of the page's own call (grants move on meanwhile).
      const answered = carol.waitForResponse((r) => r.url().includes('/v1/reports/summary?since=30d'));
      await carol.goto(`${jit.url}/#/audit`);
      const response = await answered;
      assert.equal(response.status(), 200);
      const summary = { body: await response.json() };
      const report = carol.locator('#report');
      await report.getByRole('heading', { name: 'Service levels' }).waitFor();
      const figures = report.locator('[data-report="figures"]');
      await figures.waitFor();
      const { total, open } = summary.body.requests;
      assert.match(await figures.textContent(), new RegExp(`Requests${total} \\(${open} open\\)`));
      assert.match(await figures.textContent(), /Revoke lag/);
      // One bar per state, as long as its count says.
      const states = report.locator('svg[data-chart="states"] rect.bar');
      assert.equal(await states.count(), 9);
      for (const [state, n] of Object.entries(summary.body.requests.by_state)) {
        const bar = report.locator(`svg[data-chart="states"] rect[data-label="${state}"]`);
        assert.equal(await bar.getAttribute('data-value'), String(n), state);
        assert.equal(Number(await bar.getAttribute('width')) > 0, n > 0, state);
      }
      const people = summary.body.top.requesters;
      assert.ok(people.some((p) => p.name === 'alice'), 'alice is among the requesters');
      assert.equal(await report.locator('svg[data-chart="requesters"] rect.bar').count(),
                   people.length);
      assert.match(await report.locator('svg[data-chart="requesters"]').getAttribute('aria-label'),
                   new RegExp(`^Busiest requesters: ${people[0].name} ${people[0].requests}`));
      // Another window asks again.
      const asked = carol.waitForResponse((r) => r.url().includes('/v1/reports/summary?since=7d'));
      await carol.getByLabel('Requests created in').selectOption('7d');
      assert.equal((await asked).status(), 200);
      await figures.waitFor();
      await screenshot(carol, 'carol-report');
    });

    test('an approver with nothing to request lands on Approvals, the count in the tab title',
         async () => {
      const awaiting = async () => (await apiAs(jit.url, 'dev-bob', 'GET',
                                                '/v1/requests?awaiting=me&limit=200')).body.items;
      const before = (await awaiting()).length;
      const submitted = await apiAs(jit.url, 'dev-alice', 'POST', '/v1/requests', {
        account: 'prod', permission_set: 'Admin', duration: '10m', reason: 'count me in',
      });
      assert.equal(submitted.status, 201);
      const n = before + 1;
      assert.equal((await awaiting()).length, n);
      assert.ok((await awaiting()).some((r) => r.id === submitted.body.id));

      const bob = await signInDev(await person(), jit.url, 'bob');
      await bob.getByRole('heading', { name: 'Approvals' }).waitFor();
      assert.match(bob.url(), /#\/approvals$/);
      await card(bob, submitted.body.id).waitFor();
      await bob.locator('main h1', { hasText: `(${n} waiting for you)` }).waitFor();
      await bob.waitForFunction((t) => document.title === t, `(${n}) Approvals - jit`);
      assert.equal(await bob.locator('#nav-approvals-count').textContent(), ` (${n})`);
      await screenshot(bob, 'bob-first-screen');
      // The count follows bob to another page.
      await bob.getByRole('link', { name: 'My requests' }).click();
      await bob.waitForFunction((t) => document.title === t, `(${n}) My requests - jit`);

      // alice may request: the form stays her first screen, and she approves nothing.
      const alice = await signInDev(await person(), jit.url, 'alice');
      await alice.getByRole('heading', { name: 'Request access' }).waitFor();
      assert.equal(await alice.title(), 'Request access - jit');
      assert.equal(await alice.locator('#nav-approvals-count').textContent(), '');

      // A request that stops waiting leaves the count.
      const cancelled = await apiAs(jit.url, 'dev-alice', 'POST',
                                    `/v1/requests/${submitted.body.id}/cancel`, {});
      assert.equal(cancelled.status, 200);
      await bob.getByRole('link', { name: 'Approvals' }).click();
      const after = n - 1 ? `(${n - 1}) Approvals - jit` : 'Approvals - jit';
      await bob.waitForFunction((t) => document.title === t, after);
    });

    test('keyboard only: sign in, move between pages, see where the focus is', async () => {
      const page = await (await person()).newPage();
      await page.goto(`${jit.url}/`);
      await page.getByRole('button', { name: 'Sign in as alice' }).waitFor();
      assert.equal(await page.evaluate(() => document.activeElement.textContent),
                   'Sign in as alice', 'the first choice has the focus');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Sign in as bob');
      await page.keyboard.press('Enter');
      // bob may approve and has nothing to request: his first screen is Approvals.
      await page.getByRole('heading', { name: 'Approvals' }).waitFor();
      let found = false;
      for (let i = 0; i < 12 && !found; i++) {
        await page.keyboard.press('Tab');
        found = await page.evaluate(() => document.activeElement.textContent === 'My requests');
      }
      assert.ok(found, 'the My requests link is reached with Tab');
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.notEqual(outline, 'none', 'the focused link shows a focus ring');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'My requests' }).waitFor();
      assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1',
                   'a new page moves the focus to its heading');
      assert.equal(await page.locator('#status').getAttribute('aria-live'), 'polite');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to jit' }).waitFor();
      assert.equal((await page.context().cookies()).filter((c) => c.name === 'jit_session').length,
                   0, 'signing out drops the cookie');
    });

    test('readable on a phone', async () => {
      const phone = await person({ viewport: { width: 390, height: 844 }, isMobile: true,
                                   hasTouch: true, deviceScaleFactor: 2 });
      const page = await signInDev(phone, jit.url, 'alice');
      const fits = () => page.evaluate(() =>
        document.documentElement.scrollWidth <= window.innerWidth);
      assert.ok(await fits(), 'the request form needs no sideways scrolling');
      await screenshot(page, 'phone-request');
      await page.getByRole('link', { name: 'My requests' }).click();
      await page.locator('li[data-request-id]').first().waitFor();
      assert.ok(await fits(), 'My requests needs no sideways scrolling');
      await screenshot(page, 'phone-mine');
    });

    test('another site cannot make changes with the session cookie', async () => {
      const alice = await signInDev(await person(), jit.url, 'alice');
      const before = await apiAs(jit.url, 'dev-alice', 'GET', '/v1/requests?mine=true&limit=500');
      // Another origin on this machine (cookies ignore ports: the browser sends alice's along).
      const target = `${jit.url}/v1/requests`;
      const evil = createServer((req, res) => {
        res.setHeader('Content-Type', 'text/html');
        res.end(`<!doctype html><form id="f" method="POST" action="${target}" enctype="text/plain">
          <input name='{"account":"sandbox","permission_set":"ReadOnly","duration":"1h","x":"'
                 value='"}'></form><script>document.getElementById("f").submit()</script>`);
      });
      await new Promise((resolve) => evil.listen(0, '127.0.0.1', resolve));
      try {
        const answer = alice.waitForResponse((r) => r.url() === target);
        await alice.goto(`http://127.0.0.1:${evil.address().port}/`);
        const res = await answer;
        assert.equal(res.status(), 403);
        assert.match(await res.text(), /csrf_failed/);
      } finally {
        evil.close();
      }
      const later = await apiAs(jit.url, 'dev-alice', 'GET', '/v1/requests?mine=true&limit=500');
      assert.equal(later.body.items.length, before.body.items.length, 'nothing was submitted');
    });
  });
}
