// The sign-in page: the identity provider (OIDC) and, in dev mode, the built-in users.

import { api } from './api.js';
import { el } from './format.js';

export function mountSignIn(main, { session, message, signedIn }) {
  const options = session.sign_in || { dev_users: [], oidc: false };
  const error = el('p', { class: 'form-error', role: 'alert', hidden: !message }, message || '');
  const section = el('section', { class: 'signin', 'aria-labelledby': 'signin-title' },
    el('h1', { id: 'signin-title' }, 'Sign in to jit'),
    el('p', {}, 'Ask for access to an AWS account for a while; approve what others ask for.'),
    error);

  if (options.oidc) {
    section.append(el('p', {}, el('a', { class: 'button', href: '/ui/auth/login' },
                                  'Sign in with your organization')));
  }
  if (options.dev_users && options.dev_users.length) {
    const list = el('ul', { class: 'dev-users' });
    for (const u of options.dev_users) {
      const button = el('button', { type: 'button', 'data-user': u.username },
                        `Sign in as ${u.username}`);
      button.addEventListener('click', async () => {
        button.disabled = true;
        try {
          await api('POST', '/ui/auth/dev', { username: u.username });
          signedIn();
        } catch (e) {
          error.textContent = e.message;
          error.hidden = false;
          button.disabled = false;
        }
      });
      list.append(el('li', {}, button, ' ',
                     el('span', { class: 'hint' }, `groups: ${u.groups.join(', ') || 'none'}`)));
    }
    section.append(el('h2', {}, 'Dev mode'),
                   el('p', {}, 'This is jit serve --dev: choose a built-in user.'), list);
  }
  if (!options.oidc && !(options.dev_users && options.dev_users.length)) {
    section.append(el('p', {},
      'This server has no browser sign-in configured (auth.oidc). The jit command line works ' +
      'with an API token.'));
  }
  main.append(section);
  const first = section.querySelector('a.button, button');
  if (first) first.focus();
  return () => {};
}
