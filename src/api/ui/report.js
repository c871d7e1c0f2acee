// Service levels on the Audit page (admins and auditors): GET /v1/reports/summary as figures
// and small bar charts, drawn as inline SVG (no style attributes: the page's CSP allows none).
// docs/OPERATIONS.md "Reports" says what each figure means.

import { api } from './api.js';
import { el, facts, formatDuration, GROUP_ACCOUNT } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const WINDOWS = [['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['90d', 'Last 90 days'],
                 ['366d', 'Last year']];
const STATES = ['pending', 'approved', 'active', 'revoking', 'ended', 'denied', 'cancelled',
                'timed_out', 'failed'];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// A horizontal bar chart of [label, value] rows, with its title and a text equivalent.
function barChart(title, rows, id) {
  const LABEL = 180, BAR = 200, ROW = 22, VALUE = 60;
  const max = Math.max(1, ...rows.map(([, v]) => v));
  const height = Math.max(1, rows.length) * ROW;
  const chart = svg('svg', {
    viewBox: `0 0 ${LABEL + BAR + VALUE} ${height}`, width: LABEL + BAR + VALUE, height,
    role: 'img', 'aria-label': `${title}: ` +
      (rows.length ? rows.map(([l, v]) => `${l} ${v}`).join(', ') : 'none'),
    class: 'bar-chart', 'data-chart': id,
  });
  if (!rows.length) chart.append(svg('text', { x: 0, y: 15, class: 'bar-label' }, 'None'));
  rows.forEach(([label, value], i) => {
    const y = i * ROW;
    const shown = label.length > 26 ? `${label.slice(0, 25)}…` : label;
    const text = svg('text', { x: 0, y: y + 15, class: 'bar-label' }, shown);
    text.append(svg('title', {}, label));
    chart.append(text,
      svg('rect', { x: LABEL, y: y + 4, height: ROW - 8, rx: 2, class: 'bar',
                    width: Math.max(value > 0 ? 2 : 0, Math.round((value / max) * BAR)),
                    'data-label': label, 'data-value': value }),
      svg('text', { x: LABEL + BAR + 6, y: y + 15, class: 'bar-value' }, String(value)));
  });
  return el('figure', { class: 'chart' }, el('figcaption', {}, title), chart);
}

// Group memberships count under the group account (format.js GROUP_ACCOUNT), and each group as
// a permission set whose arn is the group's identity store id (never an ARN).
function accountBar(e) {
  return [e.id === GROUP_ACCOUNT ? 'Identity Center groups' : `${e.name} (${e.id})`, e.requests];
}
function permissionSetBar(e) {
  return [e.arn && !e.arn.startsWith('arn:') ? `Group ${e.name}` : e.name, e.requests];
}

function seconds(v) {
  if (v === null || v === undefined) return '–';
  return v < 60 ? `${v.toFixed(v < 10 ? 3 : 1)} s` : formatDuration(v);
}

function percent(v) { return v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)} %`; }

export function mountReport(main) {
  const choice = el('select', { name: 'since', id: 'report-since' },
    ...WINDOWS.map(([v, label]) => el('option', { value: v, selected: v === '30d' }, label)));
  const body = el('div', { class: 'report-body', 'aria-live': 'polite' });
  main.append(el('section', { class: 'card report', id: 'report', 'aria-labelledby': 'report-title' },
    el('h2', { id: 'report-title' }, 'Service levels'),
    el('label', { for: 'report-since' }, 'Requests created in ', choice), body));

  let current = 0;
  async function load() {
    const mine = ++current;
    body.replaceChildren(el('p', { class: 'loading' }, 'Loading…'));
    try {
      const s = await api('GET', `/v1/reports/summary?since=${encodeURIComponent(choice.value)}`);
      if (mine === current) body.replaceChildren(...describe(s));
    } catch (e) {
      if (mine === current) {
        body.replaceChildren(el('p', { class: 'form-error', role: 'alert' },
                                `Cannot load the service levels: ${e.message}`));
      }
    }
  }
  choice.addEventListener('change', load);
  load();
}

function describe(s) {
  const lag = s.revoke_lag, d = s.decisions;
  const figures = facts([
    ['Requests', `${s.requests.total} (${s.requests.open} open)`],
    ['Time to approve', `p50 ${seconds(s.time_to_approve.p50_seconds)}, ` +
      `p95 ${seconds(s.time_to_approve.p95_seconds)} (${s.time_to_approve.count} approvals)`],
    ['Approval to active', `p50 ${seconds(s.approval_to_active.p50_seconds)}, ` +
      `p95 ${seconds(s.approval_to_active.p95_seconds)} (${s.approval_to_active.count} grants)`],
    ['Revoke lag', `p50 ${seconds(lag.p50_seconds)}, p99 ${seconds(lag.p99_seconds)}, ` +
      `max ${seconds(lag.max_seconds)} (${lag.count} expiries)`],
    [`Ended later than ${seconds(lag.objective_seconds)}`, String(lag.ended_late)],
    ['Overdue now', String(lag.overdue_now)],
    ['Break-glass uses', `${s.break_glass.uses} (${s.break_glass.open_reviews} reviews open)`],
    ['Denial rate', `${percent(d.denial_rate)} of ${d.decided} decided`],
    ['Time-out rate', percent(d.timeout_rate)],
  ]);
  figures.setAttribute('data-report', 'figures');
  return [
    figures,
    el('div', { class: 'charts' },
      barChart('Requests by state', STATES.map((st) => [st, s.requests.by_state[st] ?? 0]),
               'states'),
      barChart('Busiest requesters', s.top.requesters.map((e) => [e.name, e.requests]),
               'requesters'),
      barChart('Busiest accounts', s.top.accounts.map(accountBar), 'accounts'),
      barChart('Busiest permission sets', s.top.permission_sets.map(permissionSetBar),
               'permission-sets')),
  ];
}
