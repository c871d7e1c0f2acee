// Request: a form fed by GET /v1/catalog (what the caller may ask for, with each rule's limits).

import { api } from './api.js';
import {
  el, field, formatDuration, GROUP_ACCOUNT, parseDuration, STATE_LABELS,
} from './format.js';

// Which field an API error message is about, so that it shows next to that field (`group`: the
// form asks for an Identity Center group, whose picker is the permission set's).
function fieldOfMessage(message, group) {
  const m = message.toLowerCase();
  if (group && m.includes('group')) return 'permission_set';
  if (m.includes('ticket')) return 'ticket';
  if (m.includes('start_at') || m.includes('scheduled') || m.includes('starts at once')) {
    return 'start';
  }
  if (m.includes('reason')) return 'reason';
  if (m.includes('duration') || m.includes('longer than') || m.includes('shorter than')) {
    return 'duration';
  }
  if (m.includes('permission set') || m.includes('permission_set')) return 'permission_set';
  if (m.includes('account')) return 'account';
  return null;
}

function approvalText(entry) {
  if (entry.approval === 'auto') return 'Approved automatically.';
  if (entry.approval === 'break_glass') {
    return 'Break-glass: active at once, without approval; reviewed afterwards.';
  }
  const n = entry.approvals_required;
  return `Needs ${n} approval${n === 1 ? '' : 's'} before it starts.`;
}

export function mountRequest(main, ctx) {
  const title = el('h1', {}, 'Request access');
  main.append(title);
  const body = el('div', {}, el('p', { class: 'loading' }, 'Loading what you may request…'));
  main.append(body);
  let stopped = false;

  // The compact view writes each account, permission set and set of rule terms once (a user who
  // may request everything at 2,000 accounts would otherwise fetch 46 MB); the form gets the
  // items back with those shared.
  api('GET', '/v1/catalog?view=compact').then((catalog) => {
    if (stopped) return;
    body.replaceChildren();
    if (!catalog.items.length) {
      body.append(el('p', {}, 'No rule lets you request access. Ask an administrator of jit.'));
      if (ctx.me.may_approve) {
        body.append(el('p', {}, 'Requests that wait for your decision are in ',
                       el('a', { href: '#/approvals' }, 'Approvals'), '.'));
      }
      return;
    }
    const items = catalog.items.map(([a, p, t]) => ({
      ...catalog.terms[t], account: catalog.accounts[a], permission_set: catalog.permission_sets[p],
    }));
    body.append(buildForm(items, ctx));
  }).catch((e) => {
    if (stopped) return;
    body.replaceChildren(el('p', { class: 'form-error', role: 'alert' },
                            `Cannot load the catalog: ${e.message}`));
  });
  return () => { stopped = true; };
}

function buildForm(items, ctx) {
  // Each account once, in catalog order, with its entries: a catalog may hold 100,000 entries
  // over 2,000 accounts (docs/PERFORMANCE.md "Catalog and explain at scale"), so nothing here
  // walks all of them per account or per option.
  const byAccount = new Map();
  for (const item of items) {
    const list = byAccount.get(item.account.id);
    if (list) list.push(item); else byAccount.set(item.account.id, [item]);
  }
  // Identity Center groups (the group account's entries) are offered after the accounts, as one
  // choice of the account picker whose second picker lists the groups.
  const accounts = [...byAccount.values()].map((list) => list[0].account)
    .filter((a) => a.id !== GROUP_ACCOUNT);
  // The accounts that offer each permission set, for "Also in" (several accounts at once); a
  // group membership is for one group, never asked for in several accounts.
  const byPermissionSet = new Map();
  for (const item of items) {
    if (item.account.id === GROUP_ACCOUNT) continue;
    const list = byPermissionSet.get(item.permission_set.name);
    if (list) list.push(item.account); else byPermissionSet.set(item.permission_set.name, [item.account]);
  }
  const accountSelect = el('select', { name: 'account', required: true });
  for (const a of accounts) {
    accountSelect.append(el('option', { value: a.id }, `${a.name} (${a.id})`));
  }
  const offersGroups = byAccount.has(GROUP_ACCOUNT);
  if (offersGroups) {
    accountSelect.append(el('option', { value: GROUP_ACCOUNT }, 'Identity Center groups'));
  }
  // More accounts for the same permission set: one request, decided once, each account then
  // granted on its own (docs/POLICY.md "Several accounts in one request").
  const moreSelect = el('select', { name: 'more_accounts', multiple: true, size: 4 });
  const psSelect = el('select', { name: 'permission_set', required: true });
  const durationInput = el('input', {
    name: 'duration', type: 'text', required: true, autocomplete: 'off', spellcheck: 'false',
    inputmode: 'text', placeholder: 'e.g. 30m',
  });
  const reasonInput = el('textarea', { name: 'reason', rows: 3 });
  const ticketInput = el('input', { name: 'ticket', type: 'text', autocomplete: 'off' });
  // Local date and time (the browser's zone); empty: at once.
  const startInput = el('input', { name: 'start', type: 'datetime-local' });

  const fields = {
    account: field(offersGroups ? 'Account or group' : 'Account', accountSelect),
    permission_set: field('Permission set', psSelect),
    duration: field('Duration', durationInput, ' '),
    reason: field('Reason', reasonInput, ' '),
    ticket: field('Ticket', ticketInput, ' '),
    start: field('Start', startInput, ' '),
    more: field('Also in', moreSelect,
                'Optional: more accounts for the same permission set, asked for and decided ' +
                'together (Ctrl or Cmd picks several).'),
  };
  const ruleInfo = el('div', { class: 'rule-info', 'aria-live': 'polite' });
  const formError = el('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = el('button', { type: 'submit' }, 'Request access');
  const form = el('form', { class: 'request-form', novalidate: true },
    fields.account.wrap, fields.permission_set.wrap, fields.more.wrap, ruleInfo,
    fields.duration.wrap,
    fields.reason.wrap, fields.ticket.wrap, fields.start.wrap, formError,
    el('div', { class: 'actions' }, submit));

  // (A select's value is looked up among its options on every read: read it once.)
  const isGroup = () => accountSelect.value === GROUP_ACCOUNT;
  const entry = () => {
    const ps = psSelect.value;
    return (byAccount.get(accountSelect.value) || []).find((i) => i.permission_set.name === ps);
  };

  // The second picker's label says what it lists: a group's or an account's permission sets.
  const psLabel = fields.permission_set.wrap.querySelector('label');
  function fillPermissionSets() {
    psLabel.textContent = isGroup() ? 'Group' : 'Permission set';
    const previous = psSelect.value;
    psSelect.replaceChildren();
    for (const i of byAccount.get(accountSelect.value) || []) {
      psSelect.append(el('option', { value: i.permission_set.name }, i.permission_set.name));
    }
    if ([...psSelect.options].some((o) => o.value === previous)) psSelect.value = previous;
    showRule();
  }

  function fillMore() {
    const chosen = new Set([...moreSelect.selectedOptions].map((o) => o.value));
    moreSelect.replaceChildren();
    const primary = accountSelect.value;
    for (const a of isGroup() ? [] : byPermissionSet.get(psSelect.value) || []) {
      if (a.id === primary) continue;
      const label = `${a.name} (${a.id})${a.ou ? ` · ${a.ou}` : ''}`;
      moreSelect.append(el('option', { value: a.id, selected: chosen.has(a.id) }, label));
    }
    fields.more.wrap.hidden = moreSelect.options.length === 0;
  }

  function showRule() {
    fillMore();
    const e = entry();
    if (!e) return;
    const lines = [
      el('p', {}, el('strong', {}, 'Rule: '), e.rule, ' — ', approvalText(e)),
    ];
    if (isGroup()) {
      lines.push(el('p', {}, 'Membership in the Identity Center group ',
                    el('strong', {}, e.permission_set.name), ' for the time you ask.'));
    }
    if (e.hours) lines.push(el('p', {}, `Only usable ${e.hours}.`));
    ruleInfo.replaceChildren(...lines);
    fields.duration.hint.textContent =
      `From ${formatDuration(e.min_duration_seconds)} to ${e.max_duration}, like 30m or 1h30m.`;
    if (!durationInput.value) {
      durationInput.value = formatDuration(Math.min(e.max_duration_seconds, 3600));
    }
    const needsReason = e.reason_required || e.reason_min_length > 0;
    reasonInput.required = needsReason;
    fields.reason.hint.textContent = needsReason
      ? `Required${e.reason_min_length > 0 ? `, at least ${e.reason_min_length} characters` : ''}.`
      : 'Optional.';
    const needsTicket = Boolean(e.ticket_pattern || e.ticket_check);
    fields.ticket.wrap.hidden = !needsTicket;
    ticketInput.required = needsTicket;
    const jira = e.ticket_check === 'assigned' ? ' It must be an open Jira issue assigned to you.'
      : e.ticket_check === 'open' ? ' It must be an open Jira issue.' : '';
    fields.ticket.hint.textContent = !needsTicket ? ''
      : e.ticket_pattern ? `Required by this rule; it must match ${e.ticket_pattern}.${jira}`
        : `Required by this rule.${jira}`;
    const window = e.schedule_window_seconds || 0;
    fields.start.wrap.hidden = window === 0;
    if (window === 0) startInput.value = '';
    fields.start.hint.textContent =
      `Optional: leave empty to start once approved, or pick a time up to ` +
      `${formatDuration(window)} ahead (your local time).`;
  }

  function clearErrors() {
    for (const f of Object.values(fields)) f.setError(null);
    formError.hidden = true;
    formError.textContent = '';
  }

  // Checks what the page can check itself; the broker checks everything again.
  function validate(e) {
    const errors = {};
    let seconds = null;
    try {
      seconds = parseDuration(durationInput.value);
      if (seconds < e.min_duration_seconds) {
        errors.duration = `At least ${formatDuration(e.min_duration_seconds)} for this rule.`;
      } else if (seconds > e.max_duration_seconds) {
        errors.duration = `At most ${e.max_duration} for this rule.`;
      }
    } catch (err) {
      errors.duration = err.message;
    }
    const reason = reasonInput.value.trim();
    if ((e.reason_required || e.reason_min_length > 0) && !reason) {
      errors.reason = 'Say why you need this access.';
    } else if (e.reason_min_length > 0 && reason.length < e.reason_min_length) {
      errors.reason = `Write at least ${e.reason_min_length} characters.`;
    }
    if (e.ticket_check && !e.ticket_pattern && !ticketInput.value.trim()) {
      errors.ticket = 'This rule needs a Jira ticket.';
    }
    if (e.ticket_pattern) {
      const ticket = ticketInput.value.trim();
      if (!ticket) {
        errors.ticket = 'This rule needs a ticket.';
      } else {
        let re = null;
        try { re = new RegExp(`^(?:${e.ticket_pattern})$`); } catch { re = null; }
        if (re && !re.test(ticket)) errors.ticket = `The ticket must match ${e.ticket_pattern}.`;
      }
    }
    let startAt = null;
    if (startInput.value) {
      const when = new Date(startInput.value);  // datetime-local: the browser's local time
      if (Number.isNaN(when.getTime())) {
        errors.start = 'Pick a date and time.';
      } else if (when.getTime() < Date.now() - 60000) {
        errors.start = 'That time has passed.';
      } else if (when.getTime() - Date.now() > (e.schedule_window_seconds || 0) * 1000) {
        errors.start = `At most ${formatDuration(e.schedule_window_seconds)} ahead for this rule.`;
      } else {
        startAt = when.toISOString();
      }
    }
    return { errors, seconds, startAt };
  }

  accountSelect.addEventListener('change', fillPermissionSets);
  psSelect.addEventListener('change', showRule);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    const e = entry();
    if (!e) return;
    const { errors, seconds, startAt } = validate(e);
    const names = Object.keys(errors);
    if (names.length) {
      for (const n of names) fields[n].setError(errors[n]);
      fields[names[0]].input.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Requesting…';
    const body = isGroup()
      ? { group: e.permission_set.name, duration: seconds, reason: reasonInput.value.trim() }
      : {
        account: e.account.id,
        permission_set: e.permission_set.name,
        duration: seconds,
        reason: reasonInput.value.trim(),
      };
    const more = fields.more.wrap.hidden || isGroup() ? []
      : [...moreSelect.selectedOptions].map((o) => o.value);
    if (more.length) {
      delete body.account;
      body.accounts = [e.account.id, ...more];
    }
    if (e.ticket_pattern) body.ticket = ticketInput.value.trim();
    if (startAt) body.start_at = startAt;
    try {
      const created = await api('POST', '/v1/requests', body);
      const n = (created.batch || []).length;
      ctx.announce(`Request ${created.id} sent${n > 1 ? ` for ${n} accounts` : ''}: ` +
                   `${STATE_LABELS[created.state] || created.state}.`, 'success');
      location.hash = '#/mine';
    } catch (err) {
      const which = fieldOfMessage(err.message, isGroup());
      if (which) {
        fields[which].setError(err.message);
        fields[which].input.focus();
      } else {
        formError.textContent = err.message;
        formError.hidden = false;
      }
    } finally {
      submit.disabled = false;
      submit.textContent = 'Request access';
    }
  });

  fillPermissionSets();
  return form;
}
