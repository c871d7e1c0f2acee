// Audit (admins and auditors): the service levels (report.js, GET /v1/reports/summary), the
// hash-chained audit trail with filters, and what the broker says about the chain's integrity
// (GET /v1/audit/verify).

import { api } from './api.js';
import { el, facts, field, formatTime } from './format.js';
import { mountReport } from './report.js';

const PAGE = 1000;
const MAX_PAGES_AT_ONCE = 10;

export function mountAudit(main, ctx) {
  main.append(el('h1', {}, 'Audit'));
  mountReport(main);

  // --- verification ---
  const verifyResult = el('div', { class: 'verify-result', 'aria-live': 'polite' });
  const verifyButton = el('button', { type: 'button', class: 'secondary' }, 'Verify again');
  main.append(el('section', { class: 'card', 'aria-labelledby': 'verify-title' },
    el('h2', { id: 'verify-title' }, 'Chain verification'), verifyResult,
    el('div', { class: 'actions' }, verifyButton)));

  async function verify() {
    verifyButton.disabled = true;
    verifyResult.replaceChildren(el('p', { class: 'loading' }, 'Verifying…'));
    try {
      const result = await api('GET', '/v1/audit/verify');
      verifyResult.replaceChildren(...describeVerification(result));
    } catch (e) {
      const text = e.status === 501
        ? `Verification is not available on this server yet (HTTP 501: ${e.message}).`
        : `Verification failed to run: ${e.message}`;
      verifyResult.replaceChildren(el('p', { class: e.status === 501 ? 'notice' : 'form-error' },
                                      text));
    } finally {
      verifyButton.disabled = false;
    }
  }
  verifyButton.addEventListener('click', verify);

  // --- events and filters ---
  const actor = el('input', { type: 'search', name: 'actor', autocomplete: 'off' });
  const action = el('select', { name: 'action' }, el('option', { value: '' }, 'Any'));
  const requestId = el('input', { type: 'search', name: 'request', autocomplete: 'off' });
  const severity = el('select', { name: 'severity' }, el('option', { value: '' }, 'Any'));
  const text = el('input', { type: 'search', name: 'text', autocomplete: 'off' });
  const filters = el('form', { class: 'filters', role: 'search', 'aria-label': 'Filter events' },
    field('Actor', actor).wrap, field('Action', action).wrap, field('Request', requestId).wrap,
    field('Severity', severity).wrap, field('Text in details', text).wrap);
  filters.addEventListener('submit', (e) => e.preventDefault());
  const count = el('p', { class: 'count', role: 'status', 'aria-live': 'polite' });
  const tbody = el('tbody');
  const table = el('table', { class: 'events' },
    el('caption', { class: 'visually-hidden' }, 'Audit events, newest first'),
    el('thead', {}, el('tr', {}, ...['#', 'Time', 'Actor', 'Action', 'Request', 'Severity',
                                     'Details'].map((h) => el('th', { scope: 'col' }, h)))),
    tbody);
  const more = el('button', { type: 'button', class: 'secondary', hidden: true },
                  'Load more events');
  const loadError = el('p', { class: 'form-error', role: 'alert', hidden: true });
  main.append(el('section', { 'aria-labelledby': 'events-title' },
    el('h2', { id: 'events-title' }, 'Events'), filters, count, loadError,
    el('div', { class: 'table-wrap', tabindex: '0', 'aria-label': 'Audit events' }, table),
    el('div', { class: 'actions' }, more)));

  const events = [];
  let after = 0;
  let stopped = false;

  async function load() {
    more.hidden = true;
    loadError.hidden = true;
    try {
      for (let i = 0; i < MAX_PAGES_AT_ONCE; i++) {
        const page = await api('GET', `/v1/audit?after=${after}&limit=${PAGE}`);
        if (stopped) return;
        events.push(...page.items);
        if (page.next_after !== null) after = page.next_after;
        if (page.items.length < PAGE) break;
        if (i === MAX_PAGES_AT_ONCE - 1) more.hidden = false;
      }
    } catch (e) {
      if (stopped) return;
      loadError.textContent = `Cannot load the audit trail: ${e.message}`;
      loadError.hidden = false;
    }
    fillChoices(action, events.map((e) => e.action));
    fillChoices(severity, events.map((e) => e.severity));
    show();
  }

  function fillChoices(select, values) {
    const chosen = select.value;
    const have = new Set([...select.options].map((o) => o.value));
    for (const v of [...new Set(values)].sort()) {
      if (!have.has(v)) select.append(el('option', { value: v }, v));
    }
    select.value = chosen;
  }

  function show() {
    const a = actor.value.trim().toLowerCase();
    const r = requestId.value.trim().toLowerCase();
    const t = text.value.trim().toLowerCase();
    const shown = events.filter((e) =>
      (!a || e.actor.toLowerCase().includes(a)) &&
      (!action.value || e.action === action.value) &&
      (!r || (e.request_id || '').toLowerCase().includes(r)) &&
      (!severity.value || e.severity === severity.value) &&
      (!t || JSON.stringify(e.details).toLowerCase().includes(t)));
    shown.reverse();
    tbody.replaceChildren(...shown.slice(0, 2000).map((e) => el('tr', { 'data-seq': e.seq },
      el('td', {}, String(e.seq)),
      el('td', {}, formatTime(e.at)),
      el('td', {}, e.actor),
      el('td', {}, e.action),
      el('td', {}, e.request_id ? el('code', {}, e.request_id) : ''),
      el('td', {}, el('span', { class: `badge severity-${e.severity}` }, e.severity)),
      el('td', { class: 'details' }, detailsText(e.details)))));
    count.textContent = `Showing ${Math.min(shown.length, 2000)} of ${events.length} events` +
      (shown.length > 2000 ? ' (narrow the filters to see the rest)' : '') + '.';
  }

  for (const input of [actor, requestId, text]) input.addEventListener('input', show);
  for (const select of [action, severity]) select.addEventListener('change', show);
  more.addEventListener('click', load);

  verify();
  load();
  return () => { stopped = true; };
}

function detailsText(details) {
  if (details === null || details === undefined) return '';
  if (typeof details !== 'object') return String(details);
  return Object.entries(details)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join('; ');
}

// Whatever shape the verification answer has: a verdict when it gives one, and its fields.
function describeVerification(result) {
  const out = [];
  const verdict = result && (result.ok ?? result.valid ?? result.verified);
  if (verdict === true) {
    out.push(el('p', { class: 'verdict ok' }, 'The audit chain verifies.'));
  } else if (verdict === false) {
    out.push(el('p', { class: 'verdict bad', role: 'alert' }, 'The audit chain does NOT verify.'));
  }
  if (result && typeof result === 'object') {
    out.push(facts(Object.entries(result).map(([k, v]) =>
      [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)])));
  }
  return out;
}
