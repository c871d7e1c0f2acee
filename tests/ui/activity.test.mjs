// The Activity tab (issue 17 item 2, docs/AWS.md "Session activity"): `jit serve --dev`, whose
// embedded emulator answers STS AssumeRole and CloudTrail LookupEvents. alice's active grant
// shows the events of her session in that account, not bob's; an event name that looks like
// HTML is shown as text, and nothing runs.
//
// Run: JIT_BINARY=/path/to/jit node --test   (from tests/ui, after scripts/setup.sh)

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  card, launchChromium, missingPrerequisite, newContext, requestAccess, screenshot, signInDev,
  startJit, waitForState,
} from './support.mjs';

const missing = missingPrerequisite();
if (missing) {
  test('browser test prerequisites are installed', () => assert.fail(missing));
} else {
  describe('the Activity tab', () => {
    let jit = null;
    let browser = null;
    const contexts = [];
    before(async () => {
      jit = await startJit();
      browser = await launchChromium();
    });
    after(async () => {
      const problems = contexts.flatMap((c) => c.problems);
      for (const c of contexts) await c.close();
      if (browser) await browser.close();
      if (jit) await jit.stop();
      assert.deepEqual(problems, [], 'no script errors and no CSP violations');
    });

    test("shows the events of the grant's sessions, as text", async () => {
      const emulator = /Identity Center: emulator at (http:\/\/127\.0\.0\.1:\d+)/
        .exec(jit.banner())[1];
      const c = await newContext(browser);
      contexts.push(c);
      const alice = await signInDev(c, jit.url, 'alice');
      const id = await requestAccess(alice, {
        account: 'sandbox (111111111111)', permissionSet: 'ReadOnly', duration: '30m',
        reason: 'logs',
      });
      await waitForState(alice, id, 'active');
      const now = Date.now();
      const at = (ms) => new Date(ms).toISOString();
      const event = (user, name) => ({
        account_id: '111111111111', user_name: user, permission_set: 'ReadOnly',
        event_name: name, event_source: 's3.amazonaws.com', event_time: at(now - 200),
      });
      const added = await fetch(`${emulator}/_emulator/cloudtrail/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ events: [
          event('alice', 'ListBuckets'),
          event('alice', '<img src=x onerror=window.pwned=1>'),
          event('bob', 'DeleteBucket'),
        ] }),
      });
      assert.equal(added.status, 200);

      const mine = card(alice, id);
      await mine.getByRole('button', { name: 'Activity' }).click();
      const table = mine.locator('table.events');
      await table.waitFor();
      const names = await table.locator('tbody tr td:nth-child(3)').allTextContents();
      assert.deepEqual(names.sort(), ['<img src=x onerror=window.pwned=1>', 'ListBuckets']);
      assert.equal(await mine.locator('table.events img').count(), 0);
      assert.equal(await alice.evaluate(() => window.pwned), undefined);
      await mine.getByText('2 (0 write calls, 0 errors)').waitFor();
      await screenshot(alice, 'activity-tab');
    });
  });
}
