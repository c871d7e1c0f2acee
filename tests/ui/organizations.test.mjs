// The web UI with accounts from AWS Organizations (issue 16): `jit serve --dev --config FILE`
// whose accounts come from the organization of the embedded emulator's default seed (root
// r-jit0; OUs ou-jit0-sandbox0 with sandbox, tagged env=dev, and ou-jit0-prod0000 with prod,
// tagged env=prod). A rule by tag and one by OU offer exactly their accounts in the request
// form, which names each account's OU, and a request through it is granted.
//
// Run: JIT_BINARY=/path/to/jit node --test   (from tests/ui, after scripts/setup.sh)

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  apiAs, card, describeWithConfig, newContext, screenshot, signInDev, waitForState,
} from './support.mjs';

const CONFIG = `
admins: {groups: [admins]}
accounts:
  - {organization: true}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111", max_duration: 8h}
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222", max_duration: 1h}
rules:
  - name: dev-readonly
    requesters: {groups: [engineers]}
    accounts: {tags: [env=dev]}
    permission_sets: [ReadOnly]
    max_duration: 8h
    approval: auto
  - name: prod-ou-admin
    requesters: {groups: [engineers]}
    accounts: {ous: [ou-jit0-prod0000]}
    permission_sets: [Admin]
    max_duration: 1h
    reason: required
    approval: {approvers: {groups: [approvers]}, required: 1}
`;

describeWithConfig('web UI with accounts from AWS Organizations', CONFIG, (env) => {
  test('rules by tag and by OU offer exactly their accounts, and one is granted', async () => {
    // The organization is read on the broker's own thread at start: wait for it.
    let catalog = null;
    for (let i = 0; i < 100; ++i) {
      catalog = await apiAs(env.jit.url, 'dev-alice', 'GET', '/v1/catalog');
      if (catalog.body.items.length === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(
      catalog.body.items.map((i) => [i.account.name, i.account.ou, i.permission_set.name]),
      [['sandbox', 'ou-jit0-sandbox0', 'ReadOnly'], ['prod', 'ou-jit0-prod0000', 'Admin']]);

    const c = await newContext(env.browser);
    env.contexts.push(c);
    const alice = await signInDev(c, env.jit.url, 'alice');
    const account = alice.getByLabel('Account');
    // The form fills the choices from the catalog after the page shows: wait for them.
    await account.locator('option', { hasText: 'prod (222222222222)' }).waitFor({ state: 'attached' });
    assert.deepEqual(await account.locator('option').allTextContents(),
                     ['sandbox (111111111111)', 'prod (222222222222)']);
    await account.selectOption({ label: 'prod (222222222222)' });
    assert.deepEqual(await alice.getByLabel('Permission set').locator('option')
      .allTextContents(), ['Admin']);
    await alice.locator('.rule-info', { hasText: 'prod-ou-admin' }).waitFor();
    await account.selectOption({ label: 'sandbox (111111111111)' });
    assert.deepEqual(await alice.getByLabel('Permission set').locator('option')
      .allTextContents(), ['ReadOnly']);
    await alice.getByLabel('Duration').fill('30m');
    await alice.getByRole('button', { name: 'Request access' }).click();
    await alice.getByRole('heading', { name: 'My requests' }).waitFor();
    const mine = await apiAs(env.jit.url, 'dev-alice', 'GET', '/v1/requests?mine=true&limit=1');
    const r = mine.body.items[0];
    assert.equal(r.account.name, 'sandbox');
    assert.equal(r.rule, 'dev-readonly');
    await waitForState(alice, r.id, 'active');
    await screenshot(alice, 'organizations-active');
    await card(alice, r.id).getByRole('button', { name: 'Revoke' }).click();
    await waitForState(alice, r.id, 'ended');
  });
});
