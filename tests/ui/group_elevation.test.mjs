// The web UI with group elevation (issue 16): a rule that grants temporary membership in an
// Identity Center group (`identity_center_groups`) beside one that grants an account assignment.
// The form offers the groups as what they are (never as an account called "group"), a group
// request is asked for, approved in the browser and ended, and every page names it "Group sre".
// Carol is a standing member of sre in the embedded emulator's default seed: her request is
// active at once with grant.standing in its history, and her membership outlives it.
//
// Run: JIT_BINARY=/path/to/jit node --test   (from tests/ui, after scripts/setup.sh)

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  apiAs, card, describeWithConfig, newContext, REQUEST_ID, screenshot, signInDev,
  waitForState,
} from './support.mjs';

const SRE = '5e000000-0000-4000-8000-000000000013';

const CONFIG = `
admins: {groups: [admins]}
accounts:
  - {id: "111111111111", name: sandbox}
  - {id: "222222222222", name: prod}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111", max_duration: 8h}
identity_center_groups:
  - {name: sre, id: "${SRE}", max_duration: 1h}
rules:
  - name: readonly
    requesters: {groups: [engineers]}
    accounts: {all: true}
    permission_sets: [ReadOnly]
    max_duration: 8h
    approval: auto
  - name: sre-on-call
    requesters: {groups: [engineers]}
    identity_center_groups: [sre]
    max_duration: 1h
    reason: required
    approval: {approvers: {groups: [approvers]}, required: 1}
  - name: sre-approvers
    requesters: {groups: [approvers]}
    identity_center_groups: [sre]
    max_duration: 1h
    approval: auto
`;

// The request as the API shows it to `token`, once it is in `state`.
async function apiRequestInState(base, token, id, state, timeout = 20000) {
  const until = Date.now() + timeout;
  for (;;) {
    const r = await apiAs(base, token, 'GET', `/v1/requests/${id}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    if (r.body.state === state) return r.body;
    if (Date.now() > until) assert.fail(`${id} is ${r.body.state}, not ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const actions = (r) => r.history.map((e) => e.action);

describeWithConfig('web UI with group elevation', CONFIG, (env) => {
  test('a group is asked for in the form, approved in the browser, active and ended',
       async () => {
    const catalog = await apiAs(env.jit.url, 'dev-alice', 'GET', '/v1/catalog');
    assert.deepEqual(
      catalog.body.items.map((i) => [i.account.id, i.permission_set.name, i.rule]),
      [['111111111111', 'ReadOnly', 'readonly'], ['222222222222', 'ReadOnly', 'readonly'],
       ['group', 'sre', 'sre-on-call']]);
    assert.equal(catalog.body.items[2].permission_set.arn, SRE);

    const aliceContext = await newContext(env.browser);
    env.contexts.push(aliceContext);
    const alice = await signInDev(aliceContext, env.jit.url, 'alice');
    const account = alice.getByLabel('Account or group');
    assert.deepEqual(await account.locator('option').allTextContents(),
                     ['sandbox (111111111111)', 'prod (222222222222)',
                      'Identity Center groups']);
    // An account: its permission sets, and the other accounts for "Also in".
    const also = alice.getByLabel('Also in');
    assert.ok(await also.isVisible(), '"Also in" shows for an account');
    assert.deepEqual(await also.locator('option').allTextContents(), ['prod (222222222222)']);

    // The groups: the second picker is labelled Group and lists them; no "Also in".
    await account.selectOption({ label: 'Identity Center groups' });
    const group = alice.getByLabel('Group', { exact: true });
    assert.deepEqual(await group.locator('option').allTextContents(), ['sre']);
    assert.equal(await alice.getByLabel('Permission set').count(), 0);
    assert.equal(await also.isVisible(), false, '"Also in" is hidden for a group');
    const info = alice.locator('.rule-info');
    await info.filter({ hasText: 'sre-on-call' }).waitFor();
    assert.match(await info.textContent(), /Membership in the Identity Center group sre/);
    assert.match(await info.textContent(), /Needs 1 approval/);
    await screenshot(alice, 'group-form');

    await alice.getByLabel('Duration').fill('30m');
    await alice.getByLabel('Reason').fill('incident 42: <b>pager</b>');
    await alice.getByRole('button', { name: 'Request access' }).click();
    await alice.getByRole('heading', { name: 'My requests' }).waitFor();
    const status = alice.locator('#status');
    await status.filter({ hasText: REQUEST_ID }).waitFor();
    const id = REQUEST_ID.exec(await status.textContent())[0];

    // The API: a membership of sre, named by request.group.
    const asked = await apiRequestInState(env.jit.url, 'dev-alice', id, 'pending');
    assert.deepEqual(asked.group, { id: SRE, name: 'sre' });
    assert.equal(asked.account.id, 'group');
    assert.equal(asked.rule, 'sre-on-call');
    assert.equal(asked.duration, '30m');

    // My requests names the group, not an account called "group".
    await waitForState(alice, id, 'pending');
    const mine = card(alice, id);
    const heading = await mine.locator('h3').textContent();
    assert.match(heading, /^Group sre/);
    assert.doesNotMatch(heading, /group ·|group \//);
    const facts = await mine.locator('dl').textContent();
    assert.match(facts, new RegExp(`Identity Center groupsre \\(${SRE}\\)`));
    assert.doesNotMatch(facts, /Account/);
    // The reason is text, never markup.
    assert.equal(await mine.locator('b').count(), 0);
    assert.match(facts, /incident 42: <b>pager<\/b>/);

    // Bob approves it on his Approvals page, which names the group too.
    const bobContext = await newContext(env.browser);
    env.contexts.push(bobContext);
    const bob = await signInDev(bobContext, env.jit.url, 'bob');
    await bob.getByRole('link', { name: 'Approvals' }).click();
    const decision = card(bob, id);
    await decision.waitFor();
    assert.match(await decision.locator('h3').textContent(), /^alice: Group sre/);
    const shown = await decision.locator('dl').textContent();
    assert.match(shown, /Identity Center groupsre/);
    assert.doesNotMatch(shown, /Permission set|Account/);
    await screenshot(bob, 'group-approval');
    await decision.getByRole('button', { name: 'Approve' }).click();
    await decision.waitFor({ state: 'detached' });

    await waitForState(alice, id, 'active');
    const active = await apiRequestInState(env.jit.url, 'dev-alice', id, 'active');
    assert.deepEqual(active.group, { id: SRE, name: 'sre' });
    assert.deepEqual(active.approvals.map((a) => a.approver), ['bob']);
    await screenshot(alice, 'group-active');

    await card(alice, id).getByRole('button', { name: 'Revoke' }).click();
    await waitForState(alice, id, 'ended');
    const ended = await apiRequestInState(env.jit.url, 'dev-alice', id, 'ended');
    assert.ok(!actions(ended).includes('grant.standing'), actions(ended).join(', '));
  });

  test("a standing member's request is active at once and keeps her membership", async () => {
    const carolContext = await newContext(env.browser);
    env.contexts.push(carolContext);
    const carol = await signInDev(carolContext, env.jit.url, 'carol');
    // Carol may ask for the group only (no account rule names her).
    const account = carol.getByLabel('Account or group');
    assert.deepEqual(await account.locator('option').allTextContents(),
                     ['Identity Center groups']);
    assert.deepEqual(await carol.getByLabel('Group', { exact: true }).locator('option')
      .allTextContents(), ['sre']);
    await carol.locator('.rule-info', { hasText: 'sre-approvers' }).waitFor();
    await carol.getByLabel('Duration').fill('30m');
    await carol.getByRole('button', { name: 'Request access' }).click();
    await carol.getByRole('heading', { name: 'My requests' }).waitFor();
    const status = carol.locator('#status');
    await status.filter({ hasText: REQUEST_ID }).waitFor();
    const id = REQUEST_ID.exec(await status.textContent())[0];

    await waitForState(carol, id, 'active');
    assert.match(await card(carol, id).locator('h3').textContent(), /^Group sre/);
    const active = await apiRequestInState(env.jit.url, 'dev-carol', id, 'active');
    assert.deepEqual(active.group, { id: SRE, name: 'sre' });
    assert.ok(actions(active).includes('grant.standing'), actions(active).join(', '));

    await card(carol, id).getByRole('button', { name: 'Revoke' }).click();
    await waitForState(carol, id, 'ended');
    await apiRequestInState(env.jit.url, 'dev-carol', id, 'ended');

    // Her membership was not removed: a new request finds it standing again.
    const again = await apiAs(env.jit.url, 'dev-carol', 'POST', '/v1/requests',
                              { group: 'sre', duration: '30m', reason: 'again' });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    const second = await apiRequestInState(env.jit.url, 'dev-carol', again.body.id, 'active');
    assert.ok(actions(second).includes('grant.standing'), actions(second).join(', '));
    const revoked = await apiAs(env.jit.url, 'dev-carol', 'POST',
                                `/v1/requests/${again.body.id}/revoke`, { reason: 'done' });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    await apiRequestInState(env.jit.url, 'dev-carol', again.body.id, 'ended');
    await waitForState(carol, again.body.id, 'ended');

    // The service levels on the Audit page (carol is an admin) count the group requests under
    // "Identity Center groups" and "Group sre".
    await carol.getByRole('link', { name: 'Audit' }).click();
    const accounts = carol.locator('svg[data-chart="accounts"]');
    await accounts.waitFor();
    const accountsText = await accounts.getAttribute('aria-label');
    assert.match(accountsText, /Identity Center groups 3/);
    assert.doesNotMatch(accountsText, /group \(group\)/);
    const sets = carol.locator('svg[data-chart="permission-sets"]');
    assert.match(await sets.getAttribute('aria-label'), /Group sre 3/);
  });
});
