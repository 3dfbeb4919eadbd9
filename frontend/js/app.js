// Shell: login, navigation by role, language switch, service worker.
import { t, lang, setLang, esc, clock } from './i18n.js';
import { session, login, ApiError } from './api.js';
import { syncBell } from './bell.js';
import './outbox.js';  // records waiting for a connection go at app start, and when back online

const view = document.getElementById('view');
const VIEWS = {
  midwife: { label: 'nav_midwife', load: () => import('./midwife.js') },
  mine: { label: 'nav_mine', load: () => import('./mine.js') },
  staff: { label: 'nav_staff', load: () => import('./staff.js') },
  analyst: { label: 'nav_analyst', load: () => import('./analyst.js') },
  admin: { label: 'nav_admin', load: () => import('./admin.js') },
};
const ALLOWED = {
  midwife: ['midwife', 'mine'],
  facility_staff: ['staff', 'midwife', 'mine'],
  analyst: ['analyst', 'midwife'],
  admin: ['midwife', 'staff', 'analyst', 'admin'],
};
let current = null;  // {name, mod}
let signedOutNotice = false;  // the service ended the session: the login screen says so

// A short message; with {label, run}, one button in it (e.g. "Ongedaan maken").
export function toast(msg, ms = 4000, action = null) {
  const el = document.getElementById('toast');
  el.textContent = msg;
  if (action) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'btn small';
    b.textContent = action.label;
    b.addEventListener('click', () => { el.hidden = true; action.run(); });
    el.append(' ', b);
    // It belongs to the screen it was offered on: gone with it (unless replaced already).
    window.addEventListener('hashchange', () => { if (b.isConnected) el.hidden = true; }, { once: true });
  }
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, ms);
}
export function announce(msg) {
  const el = document.getElementById('announce');
  const p = document.createElement('p');
  p.textContent = msg;
  el.append(p);
  while (el.childElementCount > 5) el.firstElementChild.remove();
}

function chrome() {
  const s = session.get();
  document.documentElement.lang = lang;
  document.title = t('brand');
  document.getElementById('brand').textContent = t('brand');
  document.querySelector('.skip').textContent = t('skip');
  document.getElementById('rule1').textContent = t('rule1');
  document.getElementById('rule2').textContent = t('rule2');
  document.getElementById('rules').setAttribute('aria-label', t('rules'));
  const lb = document.getElementById('lang');
  lb.textContent = t('other_lang');
  lb.setAttribute('aria-label', t('other_lang_label'));
  const acc = document.getElementById('account');
  acc.hidden = !s;
  document.getElementById('account-label').textContent = t('pw_short');
  if (s) acc.setAttribute('aria-label', t('pw_open', { user: s.username }));
  const out = document.getElementById('logout');
  out.hidden = !s;
  out.textContent = t('logout_short');
  out.setAttribute('aria-label', t('logout'));
  syncBell({ toast, announce });  // signed in: the bell listens for her alerts; signed out: gone
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('screens'));
  const names = s ? (ALLOWED[s.role] || ['midwife']) : [];
  const here = route();
  nav.innerHTML = names.length > 1 ? names.map(n =>
    `<a href="#/${n}" class="tab"${n === here ? ' aria-current="page"' : ''}>${esc(t(VIEWS[n].label))}</a>`).join('') : '';
}

function route() {
  const s = session.get();
  if (!s) return 'login';
  const names = ALLOWED[s.role] || ['midwife'];
  const want = location.hash.replace(/^#\/?/, '').split('?')[0];
  return names.includes(want) ? want : names[0];
}

// A lockout says so, and until when (local time): "wrong password" would be a lie then.
const LOCKED = { account_address: 'login_locked', address: 'login_locked_address', account: 'login_locked_account' };
function loginProblem(ex) {
  if (!(ex instanceof ApiError)) return t('login_failed');
  if (ex.offline) return t('login_offline');
  const d = ex.data;
  if (ex.status === 429 && d && d.locked_until) {
    return t(LOCKED[d.scope] || 'login_locked', { time: clock(d.locked_until) });
  }
  return t('login_failed');
}

function renderLogin() {
  view.innerHTML = `<form class="login pad" id="login-form" novalidate>
    <h1>${esc(t('login_title'))}</h1>
    <p class="muted">${esc(t('login_intro'))}</p>
    ${signedOutNotice ? `<p class="warn" id="signed-out" role="status">${esc(t('signed_out'))}</p>` : ''}
    <label for="u">${esc(t('username'))}</label>
    <input id="u" name="username" autocomplete="username" autocapitalize="none" required>
    <label for="p">${esc(t('password'))}</label>
    <input id="p" name="password" type="password" autocomplete="current-password" required>
    <p class="error" id="login-error" role="alert"></p>
    <button class="btn primary big" type="submit">${esc(t('login'))}</button>
  </form>`;
  const form = document.getElementById('login-form');
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const err = document.getElementById('login-error');
    err.textContent = '';
    try {
      await login(form.username.value.trim(), form.password.value);
      signedOutNotice = false;
      location.hash = '';
      show();
    } catch (ex) {
      err.textContent = loginProblem(ex);
    }
  });
}

// After a screen change, focus goes to the new screen (not left on a removed button), so a
// keyboard or screen-reader user continues from the top of what is now shown.
// Only the latest call wins: a screen chosen while the previous one's code is still arriving
// (a slow phone network) is the one shown; the late one is never mounted over it.
let showing = 0;
async function show(first = false) {
  const name = route(), turn = ++showing;
  chrome();
  if (current && current.mod.unmount) current.mod.unmount();
  current = null;
  if (name === 'login') { renderLogin(); if (!first) view.focus({ preventScroll: true }); return; }
  view.innerHTML = `<p class="muted pad">${esc(t('loading'))}</p>`;
  const mod = await VIEWS[name].load();
  if (turn !== showing) return;
  current = { name, mod };
  await mod.mount(view, { session: session.get(), toast, announce });
  if (turn !== showing) return;
  if (!first && !view.contains(document.activeElement)) view.focus({ preventScroll: true });
}

document.getElementById('lang').addEventListener('click', () => {
  setLang(lang === 'nl' ? 'en' : 'nl');
  if (current && current.mod.relabel) { chrome(); current.mod.relabel(); } else show();
});
// Her own password: a sheet over the screen, which stays live underneath (the stream follows the
// new token, see live.js).
document.getElementById('account').addEventListener('click', () => {
  import('./password.js').then(m => m.openPassword({ toast, announce }));
});
document.getElementById('logout').addEventListener('click', () => {
  session.clear();
  // A shared phone keeps nothing of the previous user: cached pictures and own refusals go too.
  for (const k of Object.keys(localStorage)) if (k.startsWith('cap.c.')) localStorage.removeItem(k);
  if (window.caches) caches.keys().then(ks => ks.forEach(k => caches.delete(k)));
  location.hash = '';
  show();
});
// The service refused the session (expired, revoked, the account deactivated): say so at login.
window.addEventListener('cap:logout', () => {
  signedOutNotice = true;
  document.querySelectorAll('dialog[open]').forEach(d => d.close());  // not left over the login
  show();
});
window.addEventListener('hashchange', () => show());

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch(() => { /* not fatal */ });
}
show(true);
