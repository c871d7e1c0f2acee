// My requests: the caller's requests, polled for their state, with the time left on active
// grants, the actions that fit each state (cancel, revoke, extend) and, once a grant has been
// active, its Activity tab (activity.js).

import { activityTab, hasActivity } from './activity.js';
import { api, serverNow } from './api.js';
import {
  el, facts, field, formatDuration, formatTime, formatTimeLeft, parseDuration, stateBadge,
  STATE_LABELS, targetFacts, targetLabel,
} from './format.js';

const POLL_MS = 2000;
const CURRENT = new Set(['pending', 'approved', 'active', 'revoking']);

export function mountMine(main, ctx) {
  main.append(el('h1', {}, 'My requests'));
  const current = el('ul', { class: 'cards', 'aria-label': 'Current requests' });
  const past = el('ul', { class: 'cards', 'aria-label': 'Past requests' });
  const empty = el('p', { hidden: true }, 'You have no requests yet. ',
                   el('a', { href: '#/request' }, 'Request access'), '.');
  const loadError = el('p', { class: 'form-error', role: 'alert', hidden: true });
  main.append(loadError, empty,
              el('h2', {}, 'Current'), current,
              el('h2', {}, 'Past'), past);
  const isAdmin = ctx.me.roles.includes('admin');
  // Admins may end anyone's grant early (an incident, someone leaving).
  const othersTitle = el('h2', { hidden: true }, "Others' active grants");
  const others = el('ul', { class: 'cards', 'aria-label': "Others' active grants" });
  const othersCards = new Map();
  if (isAdmin) main.append(othersTitle, others);
  const cards = new Map();  // id -> {node, signature, request, timeLeft}
  let stopped = false;
  let timer = null;
  let first = true;

  async function refresh() {
    if (stopped) return;
    if (!document.hidden) {
      try {
        const page = await api('GET', '/v1/requests?mine=true&limit=100');
        const active = isAdmin ? await api('GET', '/v1/requests?state=active&limit=200') : null;
        if (stopped) return;
        loadError.hidden = true;
        render(page.items);
        if (active) renderOthers(active.items.filter((r) => r.requester !== ctx.me.username));
      } catch (e) {
        if (stopped) return;
        loadError.textContent = `Cannot load your requests: ${e.message}`;
        loadError.hidden = false;
      }
    }
    timer = setTimeout(refresh, POLL_MS);
  }

  function render(items) {
    empty.hidden = items.length > 0;
    const seen = new Set();
    for (const r of items) {
      seen.add(r.id);
      const signature =
        JSON.stringify([r.state, r.expires_at, r.approvals.length, r.review_state, r.extension]);
      const old = cards.get(r.id);
      if (old && old.signature === signature) {
        old.request = r;
        continue;
      }
      if (old && !first && old.request.state !== r.state) {
        ctx.announce(`${targetLabel(r)} (${r.id}) is now ` +
                     `${(STATE_LABELS[r.state] || r.state).toLowerCase()}.`);
      }
      const card = buildCard(r, ctx, refreshSoon);
      // Keep typing where it is: only a changed request's card is rebuilt.
      if (old) old.node.replaceWith(card.node);
      cards.set(r.id, { ...card, signature, request: r });
    }
    for (const [id, c] of cards) {
      if (!seen.has(id)) { c.node.remove(); cards.delete(id); }
    }
    // Newest first, current ones above.
    for (const r of items) {
      const c = cards.get(r.id);
      (CURRENT.has(r.state) ? current : past).append(c.node);
    }
    tick();
    first = false;
  }

  function renderOthers(items) {
    const ids = new Set(items.map((r) => r.id));
    for (const [id, c] of othersCards) {
      if (!ids.has(id)) { c.node.remove(); othersCards.delete(id); }
    }
    for (const r of items) {
      if (othersCards.has(r.id)) continue;
      const c = buildAdminCard(r, ctx, refreshSoon);
      othersCards.set(r.id, c);
      others.append(c.node);
    }
    othersTitle.hidden = othersCards.size === 0;
  }

  function tick() {
    for (const c of cards.values()) c.tick();
    for (const c of othersCards.values()) c.tick();
  }

  function refreshSoon() {
    clearTimeout(timer);
    refresh();
  }

  const ticker = setInterval(tick, 1000);
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearInterval(ticker);
  };
}

function buildCard(r, ctx, refreshSoon) {
  const titleId = `req-${r.id}-title`;
  const timeLeft = el('span', { class: 'time-left' });
  const node = el('li', { class: `card state-${r.state}`, 'data-request-id': r.id,
                          'aria-labelledby': titleId });
  const heading = el('h3', { id: titleId },
                     targetLabel(r), ' ', stateBadge(r.state));
  const details = facts([
    ['Request', el('code', {}, r.id)],
    ...targetFacts(r),
    ['Duration', r.duration],
    ['Reason', r.reason],
    ['Ticket', r.ticket],
    ['Rule', r.rule + (r.break_glass ? ' (break-glass)' : '')],
    ['Asked with', r.batch && r.batch.length > 1
      ? `${r.batch.length - 1} more account${r.batch.length > 2 ? 's' : ''} in one request`
      : null],
    ['Approvals', r.approvals_required > 0
      ? `${r.approvals.length} of ${r.approvals_required}` +
        (r.approvals.length ? ` (${r.approvals.map((a) => a.approver).join(', ')})` : '')
      : null],
    ['Requested', formatTime(r.created_at)],
    ['Starts', r.start_at && !r.activated_at ? formatTime(r.start_at) : null],
    ['Active since', r.activated_at ? formatTime(r.activated_at) : null],
    ['Time left', r.state === 'active' && r.expires_at ? timeLeft : null],
    ['Expires', r.expires_at && CURRENT.has(r.state) ? formatTime(r.expires_at) : null],
    ['Ended', r.ended_at ? formatTime(r.ended_at) : null],
    ['Why it ended', r.end_reason],
    ['Decided by', r.decided_by],
    ['Failure', r.failure_reason],
    ['Review', r.review_state ? `${r.review_state}${r.reviewed_by ? ` (by ${r.reviewed_by})` : ''}`
                              : null],
  ]);
  node.append(heading, details);

  const actions = el('div', { class: 'actions' });
  const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
  const act = async (button, what, path, body, done) => {
    error.hidden = true;
    button.disabled = true;
    try {
      const updated = await api('POST', path, body);
      ctx.announce(done(updated), 'success');
      refreshSoon();
    } catch (e) {
      error.textContent = `${what} failed: ${e.message}`;
      error.hidden = false;
      button.disabled = false;
    }
  };
  if (r.state === 'pending') {
    const cancel = el('button', { type: 'button', class: 'secondary' }, 'Cancel');
    cancel.addEventListener('click', () => act(cancel, 'Cancel', `/v1/requests/${r.id}/cancel`, {},
      () => `Request ${r.id} cancelled.`));
    actions.append(cancel);
  }
  if (r.state === 'approved' || r.state === 'active') {
    const revoke = el('button', { type: 'button', class: 'danger' }, 'Revoke');
    revoke.addEventListener('click', () => act(revoke, 'Revoke', `/v1/requests/${r.id}/revoke`,
      { reason: 'ended early by the requester' }, () => `Access of ${r.id} is being removed.`));
    actions.append(revoke);
  }
  if (r.state === 'active') {
    const input = el('input', { type: 'text', name: 'extend', value: '15m', size: 6,
                                autocomplete: 'off', spellcheck: 'false' });
    const extendField = field('Extend by', input);
    extendField.wrap.classList.add('inline');
    const extend = el('button', { type: 'button', class: 'secondary' }, 'Extend');
    extend.addEventListener('click', () => {
      extendField.setError(null);
      let seconds;
      try {
        seconds = parseDuration(input.value);
        if (seconds < 1) throw new Error('Extend by at least 1s.');
      } catch (e) {
        extendField.setError(e.message);
        input.focus();
        return;
      }
      act(extend, 'Extend', `/v1/requests/${r.id}/extend`, { duration: seconds },
          (u) => (u.extension
            ? `The extension of ${r.id} by ${formatDuration(seconds)} waits for approval ` +
              `(${u.extension.approvals_required} needed).`
            : `${r.id} extended by ${formatDuration(seconds)}; it now ends ` +
              `${formatTime(u.expires_at)}.`));
    });
    if (r.extension) {
      // One extension waits at a time.
      extend.disabled = true;
      input.disabled = true;
      actions.append(el('p', { class: 'hint' },
        `Extension by ${r.extension.duration} waits for approval ` +
        `(${r.extension.approvals.length} of ${r.extension.approvals_required}).`));
    }
    actions.append(extendField.wrap, extend);
  }
  // What the grant's AWS sessions did (CloudTrail), once it has been active.
  const activity = hasActivity(r) ? activityTab(r) : null;
  if (activity) actions.append(activity.tab);
  if (actions.childElementCount) node.append(actions);
  node.append(error);
  if (activity) node.append(activity.panel);

  return {
    node,
    tick() {
      if (r.state !== 'active' || !r.expires_at) return;
      const left = Date.parse(r.expires_at) - serverNow();
      timeLeft.textContent = left > 0 ? formatTimeLeft(left) : 'ending now';
    },
  };
}

// An admin's view of someone else's active grant: who, what, until when, and Revoke.
function buildAdminCard(r, ctx, refreshSoon) {
  const titleId = `adm-${r.id}-title`;
  const timeLeft = el('span', { class: 'time-left' });
  const node = el('li', { class: 'card state-active', 'data-request-id': r.id,
                          'aria-labelledby': titleId });
  node.append(
    el('h3', { id: titleId }, `${r.requester}: ${targetLabel(r)}`, ' ',
       stateBadge(r.state)),
    facts([
      ['Request', el('code', {}, r.id)],
      ...targetFacts(r),
      ['Reason', r.reason],
      ['Rule', r.rule + (r.break_glass ? ' (break-glass)' : '')],
      ['Time left', timeLeft],
    ]));
  const reason = el('input', { type: 'text', name: 'revoke-reason', autocomplete: 'off' });
  const reasonField = field('Why end it now', reason, 'Optional; kept in the audit trail.');
  const revoke = el('button', { type: 'button', class: 'danger' }, 'Revoke');
  const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
  revoke.addEventListener('click', async () => {
    error.hidden = true;
    revoke.disabled = true;
    try {
      await api('POST', `/v1/requests/${r.id}/revoke`, { reason: reason.value.trim() });
      ctx.announce(`Access of ${r.requester} (${r.id}) is being removed.`, 'success');
      refreshSoon();
    } catch (e) {
      error.textContent = `Revoke failed: ${e.message}`;
      error.hidden = false;
      revoke.disabled = false;
    }
  });
  const activity = activityTab(r);
  node.append(reasonField.wrap, el('div', { class: 'actions' }, revoke, activity.tab), error,
              activity.panel);
  return {
    node,
    tick() {
      const left = Date.parse(r.expires_at) - serverNow();
      timeLeft.textContent = left > 0 ? formatTimeLeft(left) : 'ending now';
    },
  };
}
