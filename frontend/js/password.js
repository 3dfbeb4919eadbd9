// Her own password: current, new, the new one again; the service's answer beside the field it names.
// On success the new token is stored (api.js) and the live streams follow it (live.js).
import { t, esc, clock } from './i18n.js';
import { session, changePassword } from './api.js';

const FIELDS = [  // [name, input id, label, autocomplete]
  ['current_password', 'pw-cur', 'pw_current', 'current-password'],
  ['new_password', 'pw-new', 'pw_new', 'new-password'],
  ['repeat', 'pw-rep', 'pw_repeat', 'new-password'],
];

function field([name, id, label, auto]) {
  const hint = name === 'new_password' ? `<p class="muted" id="${id}-hint">${esc(t('pw_rule'))}</p>` : '';
  const described = name === 'new_password' ? `${id}-hint ${id}-err` : `${id}-err`;
  return `<label for="${id}">${esc(t(label))}</label>
    <input id="${id}" name="${name}" type="password" autocomplete="${auto}" autocapitalize="none" spellcheck="false"
      required aria-describedby="${described}">${hint}
    <p class="error" id="${id}-err"></p>`;
}

// What the service said, as [field, text]; unknown 422s keep the service's own words.
function problem(e) {
  if (e.offline) return [null, t('pw_offline')];
  if (e.status === 429) {
    const d = e.data || {};
    const until = d.locked_until || new Date(Date.now() + (d.retry_after || 0) * 1000).toISOString();
    return ['current_password', t('pw_locked', { time: clock(until) })];
  }
  if (e.status === 422 && 'current_password' in e.fields) return ['current_password', t('pw_wrong')];
  if (e.status === 422 && 'new_password' in e.fields) return ['new_password', t('pw_length')];
  return [null, t('error', { msg: e.message })];
}

export function openPassword(ctx) {
  const s = session.get();
  if (!s) return;
  document.getElementById('password')?.remove();
  const dlg = document.createElement('dialog');
  dlg.id = 'password';
  dlg.className = 'sheet';
  dlg.setAttribute('aria-labelledby', 'pw-title');
  dlg.innerHTML = `<form class="login pad" id="pw-form" novalidate>
    <h2 id="pw-title">${esc(t('pw_title'))}</h2>
    <p class="muted">${esc(t('pw_intro', { user: s.username }))}</p>
    <input name="username" autocomplete="username" value="${esc(s.username)}" aria-label="${esc(t('username'))}" hidden readonly>
    ${FIELDS.map(field).join('')}
    <p class="error" id="pw-error" role="alert"></p>
    <div class="row">
      <button type="button" class="btn" id="pw-cancel">${esc(t('cancel'))}</button>
      <button type="submit" class="btn primary big" id="pw-save">${esc(t('pw_save'))}</button>
    </div>
  </form>`;
  document.body.append(dlg);
  const form = dlg.querySelector('form');
  const input = name => form.elements[name];
  const show = (name, msg) => {
    const el = input(name);
    el.setAttribute('aria-invalid', 'true');
    dlg.querySelector(`#${el.id}-err`).textContent = msg;
    el.focus();
  };
  dlg.querySelector('#pw-cancel').addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => dlg.remove());
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    form.querySelectorAll('.error').forEach(el => { el.textContent = ''; });
    form.querySelectorAll('[aria-invalid]').forEach(el => el.removeAttribute('aria-invalid'));
    const cur = input('current_password').value;
    const next = input('new_password').value;
    if (!cur) return show('current_password', t('pw_need_current'));
    if (next !== input('repeat').value) return show('repeat', t('pw_mismatch'));
    const save = dlg.querySelector('#pw-save');
    save.disabled = true;
    try {
      await changePassword(cur, next);
    } catch (e) {
      save.disabled = false;
      if (!session.get()) return;  // the service ended the session: the login screen says so
      const [name, msg] = problem(e);
      if (name) show(name, msg);
      else dlg.querySelector('#pw-error').textContent = msg;
      return;
    }
    dlg.innerHTML = `<div class="login pad">
      <h2 id="pw-title">${esc(t('pw_title'))}</h2>
      <p class="ok" id="pw-done">${esc(t('pw_done'))}</p>
      <button type="button" class="btn primary big" id="pw-close">${esc(t('close'))}</button>
    </div>`;
    dlg.querySelector('#pw-close').addEventListener('click', () => dlg.close());
    dlg.querySelector('#pw-close').focus();
    ctx.announce(t('pw_done'));
  });
  dlg.showModal();
  input('current_password').focus();
}
