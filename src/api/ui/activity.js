// Session activity (docs/AWS.md "Session activity"): the Activity tab of a request's card. It
// reads GET /v1/requests/{id}/activity when opened: the CloudTrail events of the grant's AWS
// sessions, with the window and the summary. Every value is set as text (el), never as HTML.

import { api } from './api.js';
import { el, facts, formatTime } from './format.js';

// Whether a request can have activity: it was active in an account (not a group membership).
export function hasActivity(r) {
  return Boolean(r.activated_at) && !r.group;
}

// {tab, panel}: a button that shows and hides the panel, reading the activity the first time
// (and again each time while the window is still open).
export function activityTab(r) {
  const panel = el('div', { class: 'activity', id: `activity-${r.id}`, hidden: true });
  const tab = el('button', {
    type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': panel.id,
  }, 'Activity');
  let final = false;  // a closed window's answer never changes
  tab.addEventListener('click', async () => {
    const opening = panel.hidden;
    panel.hidden = !opening;
    tab.setAttribute('aria-expanded', String(opening));
    if (!opening || final) return;
    panel.replaceChildren(el('p', { class: 'loading' }, 'Reading CloudTrail…'));
    try {
      const a = await api('GET', `/v1/requests/${r.id}/activity`);
      final = Boolean(a.window && a.window.closed);
      panel.replaceChildren(...renderActivity(a));
    } catch (e) {
      panel.replaceChildren(el('p', { class: 'form-error', role: 'alert' },
                               `Cannot read the activity: ${e.message}`));
    }
  });
  return { tab, panel };
}

const ENDS_BY = {
  open: 'still open',
  session_duration: 'closed (the end plus the session duration)',
  session_cutoff: 'closed (sessions cut off)',
};

function renderActivity(a) {
  const w = a.window || {};
  const s = a.summary || {};
  const out = [
    el('h4', {}, 'Activity'),
    facts([
      ['Window', `${formatTime(w.start)} to ${formatTime(w.end)}, ` +
        (w.closed || w.ends_by === 'open'
          ? ENDS_BY[w.ends_by] || w.ends_by
          : 'ended; CloudTrail may still deliver events')],
      ['Events', `${s.events} (${s.write_calls} write calls, ${s.errors} errors)`],
      ['Services', (s.services || []).join(', ') || '—'],
      ['Read', `${formatTime(a.read_at)} from ${a.source === 'cache' ? 'jit\u2019s copy' : 'CloudTrail'}`],
      ['Note', a.truncated ? 'More events than jit keeps for one grant: the oldest are left out.'
                           : null],
    ]),
  ];
  const events = a.events || [];
  if (!events.length) {
    out.push(el('p', {}, 'No events in the window.'));
    return out;
  }
  const rows = events.map((e) => el('tr', {},
    el('td', {}, formatTime(e.time)),
    el('td', {}, e.event_source),
    el('td', {}, e.event_name),
    el('td', {}, e.read_only ? 'no' : 'yes'),
    el('td', {}, e.error_code || ''),
    el('td', {}, (e.resources || []).join(', '))));
  out.push(el('div', { class: 'table-wrap' },
    el('table', { class: 'events' },
      el('caption', { class: 'visually-hidden' }, 'CloudTrail events, newest first'),
      el('thead', {}, el('tr', {},
        ...['Time', 'Service', 'Event', 'Write', 'Error', 'Resources']
          .map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, ...rows))));
  return out;
}
