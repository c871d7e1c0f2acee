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

function route() {
  if (!ctx) return;
  let name = currentPage();
  // "#main" (the skip link) and other in-page anchors keep the page that shows.
  if (name === null && location.hash && location.hash !== '#') return;
  const page = PAGES[name];
  if (!page || (page.needs && !page.needs(ctx.me))) {
    name = 'request';
    history.replaceState(null, '', '#/request');
  }
  for (const a of nav.querySelectorAll('a[data-page]')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  stopPage();
  main.replaceChildren();
  document.title = `${PAGES[name].title} - jit`;
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
  ctx = { me, session, announce, focusHeading: false };
  document.getElementById('who-name').textContent =
    me.roles.length ? `${me.username} (${me.roles.join(', ')})` : me.username;
  document.getElementById('nav-audit').hidden = !isAuditReader(me);
  nav.hidden = false;
  who.hidden = false;
  route();
}

document.getElementById('sign-out').addEventListener('click', async () => {
  try {
    await api('POST', '/ui/auth/logout', {});
  } catch (e) {
    announce(`Signing out failed: ${e.message}`, 'error');
    return;
  }
  setCsrfToken(null);
  history.replaceState(null, '', '#/request');
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
