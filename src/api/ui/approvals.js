// Approvals: pending requests the caller may decide (approve or deny, with a comment), active
// grants whose extension waits for approval, and break-glass grants whose post-incident review
// is open.

import { api, serverNow } from './api.js';
import {
  el, facts, field, formatTime, formatTimeLeft, stateBadge, targetFacts, targetLabel,
} from './format.js';

const POLL_MS = 3000;

export function mountApprovals(main, ctx) {
  const me = ctx.me;
  const seesAll = me.roles.includes('admin') || me.roles.includes('auditor');
  // The heading carries how many requests wait for this person's decision (as the tab's title
  // does): those whose approvers name them, which for an admin is fewer than the list below.
  const count = el('span', { class: 'count' });
  main.append(el('h1', {}, 'Approvals', count));
  if (seesAll) {
    main.append(el('p', { class: 'hint' },
      'As an admin or auditor you see every pending request; jit refuses decisions on rules ' +
      'that do not name you as an approver.'));
  }
  const list = el('ul', { class: 'cards', 'aria-label': 'Requests waiting for a decision' });
  const empty = el('p', { hidden: true }, 'Nothing is waiting for your decision.');
  const loadError = el('p', { class: 'form-error', role: 'alert', hidden: true });
  const reviewsTitle = el('h2', { hidden: true }, 'Break-glass reviews');
  const reviews = el('ul', { class: 'cards', 'aria-label': 'Break-glass grants to review' });
  main.append(loadError, empty, list, reviewsTitle, reviews);

  const cards = new Map();
  const reviewCards = new Map();
  let stopped = false;
  let timer = null;

  async function refresh() {
    if (stopped) return;
    if (!document.hidden) {
      try {
        const [pending, active, open, awaiting] = await Promise.all([
          api('GET', '/v1/requests?state=pending&limit=200'),
          api('GET', '/v1/requests?state=active&limit=200'),
          api('GET', '/v1/requests?review=open&limit=200'),
          me.may_approve ? api('GET', '/v1/requests?awaiting=me&limit=200') : { items: [] },
        ]);
        if (stopped) return;
        const n = awaiting.items.length;
        count.textContent = n ? ` (${n} waiting for you)` : '';
        if (me.may_approve) ctx.setWaiting(n);
        loadError.hidden = true;
        const mine = (r) => r.requester === me.username;
        const decided = (r) => approvalsOf(r).some((a) => a.approver === me.username);
        const waiting = pending.items.concat(active.items.filter((r) => r.extension));
        sync(list, cards, waiting.filter((r) => !mine(r) && !decided(r)), buildDecision);
        empty.hidden = list.childElementCount > 0;
        sync(reviews, reviewCards, open.items.filter((r) => !mine(r)), buildReview);
        reviewsTitle.hidden = reviews.childElementCount === 0;
      } catch (e) {
        if (stopped) return;
        loadError.textContent = `Cannot load the requests: ${e.message}`;
        loadError.hidden = false;
      }
    }
    timer = setTimeout(refresh, POLL_MS);
  }

  // Adds cards for new requests and removes those gone; a card being typed in stays as it is.
  function sync(container, map, items, build) {
    const ids = new Set(items.map((r) => r.id));
    for (const [id, c] of map) {
      if (!ids.has(id)) { c.node.remove(); map.delete(id); }
    }
    for (const r of items) {
      const signature = JSON.stringify([r.state, r.approvals, r.approval_deadline, r.extension]);
      const old = map.get(r.id);
      if (old && (old.signature === signature || old.node.contains(document.activeElement) ||
                  old.node.querySelector('textarea').value)) {
        continue;
      }
      const c = build(r, ctx, refreshSoon);
      c.signature = signature;
      c.tick();
      map.set(r.id, c);
      if (old) old.node.replaceWith(c.node);
      else container.append(c.node);
    }
  }

  function refreshSoon() {
    clearTimeout(timer);
    refresh();
  }

  const ticker = setInterval(() => {
    for (const c of cards.values()) c.tick();
  }, 1000);
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearInterval(ticker);
  };
}

function requestFacts(r, extra = []) {
  return facts([
    ['Asked by', r.requester],
    ...targetFacts(r, /*withPermissionSet=*/true),
    ['For', r.duration],
    ['Reason', r.reason],
    ['Ticket', r.ticket],
    ['Rule', r.rule + (r.break_glass ? ' (break-glass)' : '')],
    ...extra,
    ['Requested', formatTime(r.created_at)],
  ]);
}

// What waits for a decision: the request itself while pending, or its extension while active.
function approvalsOf(r) { return r.extension ? r.extension.approvals : r.approvals; }
function requiredOf(r) { return r.extension ? r.extension.approvals_required : r.approvals_required; }
function deadlineOf(r) { return r.extension ? r.extension.deadline : r.approval_deadline; }

function buildDecision(r, ctx, refreshSoon) {
  const titleId = `dec-${r.id}-title`;
  const deadline = el('span', { class: 'time-left' });
  const node = el('li', { class: 'card', 'data-request-id': r.id, 'aria-labelledby': titleId });
  const given = approvalsOf(r);
  const approvals = `${given.length} of ${requiredOf(r)}` +
    (given.length ? ` (${given.map((a) => a.approver).join(', ')})` : '');
  node.append(
    el('h3', { id: titleId }, `${r.requester}: ${targetLabel(r)}`,
       r.extension ? ` — extension by ${r.extension.duration}` : '', ' ', stateBadge(r.state)),
    requestFacts(r, [
      ['Extension asked', r.extension ? `${r.extension.duration} more (ends ` +
        `${formatTime(r.expires_at)} without it)` : null],
      ['Approvals so far', approvals],
      ['Time to decide', deadlineOf(r) ? deadline : null],
      ['Request', el('code', {}, r.id)],
    ]));
  const comment = el('textarea', { name: 'comment', rows: 2 });
  const commentField = field('Comment', comment, 'Optional when approving; required to deny.');
  const approve = el('button', { type: 'button' }, 'Approve');
  const deny = el('button', { type: 'button', class: 'danger' }, 'Deny');
  const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
  const decide = async (button, action) => {
    error.hidden = true;
    commentField.setError(null);
    const text = comment.value.trim();
    if (action === 'deny' && !text) {
      commentField.setError('Say why you deny it; the requester will read this.');
      comment.focus();
      return;
    }
    approve.disabled = true;
    deny.disabled = true;
    try {
      const body = action === 'approve' ? { comment: text } : { reason: text };
      const updated = await api('POST', `/v1/requests/${r.id}/${action}`, body);
      const what = r.extension ? `the extension of ${r.id}` : r.id;
      ctx.announce(action === 'approve'
        ? (r.extension ? `Approved ${what} of ${r.requester}.`
          : `Approved ${what} of ${r.requester} (${updated.approvals.length} of ` +
            `${updated.approvals_required}).`)
        : `Denied ${what} of ${r.requester}.`, 'success');
      node.remove();
      refreshSoon();
    } catch (e) {
      error.textContent = `${action === 'approve' ? 'Approve' : 'Deny'} failed: ${e.message}`;
      error.hidden = false;
      approve.disabled = false;
      deny.disabled = false;
    }
  };
  approve.addEventListener('click', () => decide(approve, 'approve'));
  deny.addEventListener('click', () => decide(deny, 'deny'));
  node.append(commentField.wrap, el('div', { class: 'actions' }, approve, deny), error);
  return {
    node,
    tick() {
      if (!deadlineOf(r)) return;
      const left = Date.parse(deadlineOf(r)) - serverNow();
      deadline.textContent = left > 0 ? formatTimeLeft(left) : 'timing out now';
    },
  };
}

function buildReview(r, ctx, refreshSoon) {
  const titleId = `rev-${r.id}-title`;
  const node = el('li', { class: 'card', 'data-request-id': r.id, 'aria-labelledby': titleId });
  node.append(el('h3', { id: titleId },
                 `${r.requester}: ${targetLabel(r)}`, ' ',
                 stateBadge(r.state)),
              requestFacts(r, [['Request', el('code', {}, r.id)]]));
  const comment = el('textarea', { name: 'review-comment', rows: 2 });
  const commentField = field('Review comment', comment, 'What you checked about this use.');
  const close = el('button', { type: 'button' }, 'Close review');
  const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
  close.addEventListener('click', async () => {
    error.hidden = true;
    close.disabled = true;
    try {
      await api('POST', `/v1/requests/${r.id}/review`, { comment: comment.value.trim() });
      ctx.announce(`Review of ${r.id} closed.`, 'success');
      node.remove();
      refreshSoon();
    } catch (e) {
      error.textContent = `Closing the review failed: ${e.message}`;
      error.hidden = false;
      close.disabled = false;
    }
  });
  node.append(commentField.wrap, el('div', { class: 'actions' }, close), error);
  return { node, tick() {} };
}
