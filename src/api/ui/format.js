// Small helpers: building DOM nodes (never from HTML strings), durations and times.

// el('p', {class: 'x', onclick: fn}, 'text', child, ...). Attributes starting with "on" are
// listeners; false, null and undefined attributes and children are left out.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      node.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      node.className = v;
    } else if (k === 'text') {
      node.textContent = v;
    } else if (v === true) {
      node.setAttribute(k, '');
    } else {
      node.setAttribute(k, String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const UNITS = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];

// "1h30m" -> 5400 (seconds), like the broker reads durations; a bare number is seconds.
// Throws an Error with a message fit for a person on anything else.
export function parseDuration(text) {
  const s = String(text).trim();
  if (s === '') throw new Error('Enter a duration, like 30m or 1h.');
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+)\s*(d|h|m|s)\s*/gy;
  let total = 0;
  let last = -1;
  let pos = 0;
  let m;
  while ((m = re.exec(s)) !== null) {
    const index = UNITS.findIndex(([u]) => u === m[2]);
    if (index <= last) throw new Error('Write units from largest to smallest, once each (1h30m).');
    last = index;
    total += Number(m[1]) * UNITS[index][1];
    pos = re.lastIndex;
  }
  if (pos !== s.length) throw new Error(`"${s}" is not a duration; use forms like 90s, 15m or 1h30m.`);
  return total;
}

// 5400 -> "1h30m"; 0 -> "0s".
export function formatDuration(seconds) {
  let left = Math.max(0, Math.round(seconds));
  if (left === 0) return '0s';
  let out = '';
  for (const [u, n] of UNITS) {
    if (left >= n) {
      out += `${Math.floor(left / n)}${u}`;
      left %= n;
    }
  }
  return out;
}

// Time left as a person reads it: "42s", "9m 05s", "1h 02m".
export function formatTimeLeft(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (n) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h ${two(m)}m`;
  if (m > 0) return `${m}m ${two(sec)}s`;
  return `${sec}s`;
}

// An RFC 3339 time in the browser's locale and zone, or "—".
export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

export const STATE_LABELS = {
  pending: 'Waiting for approval',
  approved: 'Approved, granting',
  active: 'Active',
  revoking: 'Ending',
  ended: 'Ended',
  denied: 'Denied',
  cancelled: 'Cancelled',
  timed_out: 'Timed out',
  failed: 'Failed',
};

// A badge for a request state.
export function stateBadge(state) {
  return el('span', { class: `badge state-${state}`, 'data-state': state },
            STATE_LABELS[state] || state);
}

// "prod (222222222222)".
export function accountLabel(account) {
  if (!account) return '—';
  return account.name ? `${account.name} (${account.id})` : account.id;
}

// The account id that stands for Identity Center group memberships (model/request.h
// kGroupAccount): never 12 digits, so never a real account.
export const GROUP_ACCOUNT = 'group';

// The group a request grants membership in, {id, name}, or null for an account assignment.
// request.group says so; an answer without it (an older broker) is read from the group account.
export function groupOf(r) {
  if (r.group) return r.group;
  if (r.group === undefined && r.account && r.account.id === GROUP_ACCOUNT) {
    return { id: r.permission_set.arn || '', name: r.permission_set.name };
  }
  return null;
}

// What a request grants, as a person reads it: "Group sre" for a membership in an Identity
// Center group, "prod · Admin" for an account assignment.
export function targetLabel(r) {
  const g = groupOf(r);
  return g ? `Group ${g.name}` : `${r.account.name} · ${r.permission_set.name}`;
}

// The [term, value] facts that name a request's target: its group, or its account (and
// permission set when `withPermissionSet`).
export function targetFacts(r, withPermissionSet = false) {
  const g = groupOf(r);
  if (g) return [['Identity Center group', g.id ? `${g.name} (${g.id})` : g.name]];
  const out = [['Account', accountLabel(r.account)]];
  if (withPermissionSet) out.push(['Permission set', r.permission_set.name]);
  return out;
}

// A definition list from [term, value] pairs (values may be nodes); empty values are left out.
export function facts(pairs) {
  const dl = el('dl', { class: 'facts' });
  for (const [term, value] of pairs) {
    if (value === null || value === undefined || value === '') continue;
    dl.append(el('div', {}, el('dt', {}, term), el('dd', {}, value)));
  }
  return dl;
}

let fieldIds = 0;
// A labelled field: returns {wrap, input, error, setError(msg)}. `control` is the input,
// select or textarea; its label, hint and error are tied to it for assistive technology.
export function field(labelText, control, hintText) {
  const id = control.id || `f${++fieldIds}`;
  control.id = id;
  const hint = hintText ? el('p', { class: 'hint', id: `${id}-hint` }, hintText) : null;
  const error = el('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const described = [hint ? hint.id : null, error.id].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', described);
  const wrap = el('div', { class: 'field' }, el('label', { for: id }, labelText), hint, control,
                  error);
  return {
    wrap,
    input: control,
    hint,
    error,
    setError(message) {
      if (message) {
        error.textContent = message;
        error.hidden = false;
        control.setAttribute('aria-invalid', 'true');
      } else {
        error.textContent = '';
        error.hidden = true;
        control.removeAttribute('aria-invalid');
      }
    },
  };
}
