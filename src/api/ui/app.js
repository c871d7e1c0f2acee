// The shell of the web UI: who is signed in, the navigation, and which page is showing.
// Pages are modules with mount(main, ctx) that return a function stopping their timers.

import { api, ApiError, setCsrfToken, setServerTime, setSignedOutHandler } from './api.js';
import { el } from './format.js';
import { mountSignIn } from './signin.js';
import { mountRequest } from './request.js';
import { mountMine } from './mine.js';
import { mountApprovals } from './approvals.js';
import { mountAudit } from './audit.js';

const PAGES = {
  request: { title: 'Request access', mount: mountRequest },
  mine: { title: 'My requests', mount: mountMine },
  approvals: { title: 'Approvals', mount: mountApprovals },
  audit: { title: 'Audit', mount: mountAudit, needs: (me) => isAuditReader(me) },
};

const main = document.getElementById('main');
const statusRegion = document.getElementById('status');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let stopPage = () => {};
let ctx = null;
let statusTimer = null;
// How many requests wait for the signed-in approver's decision (null: not an approver, or not
// known yet), shown on the Approvals link and in the browser tab's title.
let waiting = null;
let waitingTimer = null;
const WAITING_POLL_MS = 15000;

function isAuditReader(me) {
  return me && (me.roles.includes('admin') || me.roles.includes('auditor'));
}

// Says something in the status line (read out by screen readers). Errors stay until the next
// message; others fade after a while.
function announce(message, kind = 'info') {
  clearTimeout(statusTimer);
  statusRegion.textContent = '';
  statusRegion.className = `status ${kind}`;
  if (!message) return;
  statusRegion.append(el('span', {}, message));
  if (kind !== 'error') {
    statusTimer = setTimeout(() => { statusRegion.textContent = ''; }, 8000);
  }
}

function currentPage() {
  const m = /^#\/([a-z]+)/.exec(location.hash);
  return m ? m[1] : null;
}

// The first screen: the request form, unless the person may approve and has nothing to request
// (an approver-only person would otherwise meet "No rule lets you request access").
function defaultPage(me) {
  return me.may_approve && !me.may_request ? 'approvals' : 'request';
}

function pageTitle(name) {
  const count = waiting ? `(${waiting}) ` : '';
  return `${count}${PAGES[name].title} - jit`;
}

// Shows `n` requests waiting (from the Approvals page's refresh or the shell's own poll).
function setWaiting(n) {
  waiting = n;
  const badge = document.getElementById('nav-approvals-count');
  badge.textContent = n ? ` (${n})` : '';
  const link = badge.parentElement;
  if (n) link.setAttribute('aria-label', `Approvals, ${n} waiting for you`);
  else link.removeAttribute('aria-label');
  const name = currentPage();
  if (ctx && PAGES[name]) document.title = pageTitle(name);
}

async function pollWaiting() {
  clearTimeout(waitingTimer);
  if (!ctx || !ctx.me.may_approve) return;
  const me = ctx.me;
  if (!document.hidden) {
    try {
      const list = await api('GET', '/v1/requests?awaiting=me&limit=200');
      if (ctx && ctx.me === me) setWaiting(list.items.length);
    } catch { /* the count stays as it was; the next poll tries again */ }
  }
  if (ctx && ctx.me === me) waitingTimer = setTimeout(pollWaiting, WAITING_POLL_MS);
}

function route() {
  if (!ctx) return;
  let name = currentPage();
  // "#main" (the skip link) and other in-page anchors keep the page that shows.
  if (name === null && location.hash && location.hash !== '#' && location.hash !== '#/') return;
  const page = PAGES[name];
  if (!page || (page.needs && !page.needs(ctx.me))) {
    name = defaultPage(ctx.me);
    history.replaceState(null, '', `#/${name}`);
  }
  for (const a of nav.querySelectorAll('a[data-page]')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  stopPage();
  main.replaceChildren();
  document.title = pageTitle(name);
  stopPage = PAGES[name].mount(main, ctx) || (() => {});
  const heading = main.querySelector('h1');
  if (heading && ctx.focusHeading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
  ctx.focusHeading = true;
}

function showSignIn(session, message) {
  stopPage();
  stopPage = () => {};
  ctx = null;
  clearTimeout(waitingTimer);
  setWaiting(null);
  nav.hidden = true;
  who.hidden = true;
  main.replaceChildren();
  document.title = 'Sign in - jit';
  mountSignIn(main, { session, message, signedIn: () => boot() });
}

async function boot() {
  let session;
  try {
    session = await api('GET', '/ui/auth/session');
  } catch (e) {
    main.replaceChildren(el('p', { class: 'form-error', role: 'alert' }, e.message));
    return;
  }
  if (session.now) setServerTime(session.now);
  if (!session.signed_in) {
    setCsrfToken(null);
    showSignIn(session, null);
    return;
  }
  setCsrfToken(session.csrf_token);
  let me;
  try {
    me = await api('GET', '/v1/me');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    main.replaceChildren(el('p', { class: 'form-error', role: 'alert' }, e.message));
    return;
  }
  ctx = { me, session, announce, focusHeading: false, setWaiting };
  document.getElementById('who-name').textContent =
    me.roles.length ? `${me.username} (${me.roles.join(', ')})` : me.username;
  document.getElementById('nav-audit').hidden = !isAuditReader(me);
  nav.hidden = false;
  who.hidden = false;
  setWaiting(null);
  route();
  pollWaiting();
}

document.getElementById('sign-out').addEventListener('click', async () => {
  try {
    await api('POST', '/ui/auth/logout', {});
  } catch (e) {
    announce(`Signing out failed: ${e.message}`, 'error');
    return;
  }
  setCsrfToken(null);
  history.replaceState(null, '', '#/');
  boot();
  announce('Signed out.');
});

setSignedOutHandler(async () => {
  // The session ended (expired, or signed out elsewhere): back to the sign-in.
  let session = { sign_in: { dev_users: [], oidc: false } };
  try { session = await api('GET', '/ui/auth/session'); } catch { /* keep the default */ }
  showSignIn(session, 'Your session has ended; sign in again.');
});

window.addEventListener('hashchange', route);
boot();
