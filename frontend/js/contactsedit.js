// A facility's own phone numbers, kept by its staff (and admins): one field per type, one Save
// that replaces the whole set. mountContactsEditor(container, facilityId, ctx) draws it into
// `container`; ctx needs toast(msg). The staff screen mounts it; an admin screen can too.
import { t, esc } from './i18n.js';
import { api, session } from './api.js';
import { TYPES, byType } from './contacts.js';

// What each facility's editor shows, kept across redraws of the screen around it (the staff
// screen redraws after every save of figures): typed, unsaved numbers survive a redraw.
const kept = {};
const url = fid => `/api/v1/facilities/${encodeURIComponent(fid)}/contacts`;
const edited = s => TYPES.some(k => s.values[k] !== (s.stored[k] ? s.stored[k].phone : ''));

export async function mountContactsEditor(container, facilityId, ctx) {
  const who = (session.get() || {}).token;
  let s = kept[facilityId];
  if (s && s.who === who) draw(container, facilityId, ctx);
  if (s && s.who === who && edited(s)) return;  // her edits stand until she saves them
  try {
    const fresh = toState((await api(url(facilityId))).contacts, who);
    s = kept[facilityId];
    if (s && s.who === who && edited(s)) return;  // she started typing meanwhile
    kept[facilityId] = fresh;
    if (s && s.who === who && JSON.stringify(s.stored) === JSON.stringify(fresh.stored)) return;  // shown already
  } catch (e) {
    if (!kept[facilityId]) container.innerHTML = `<p class="error">${esc(e.offline ? t('offline_save') : t('error', { msg: e.message }))}</p>`;
    return;
  }
  if (container.isConnected) draw(container, facilityId, ctx);
}

function toState(contacts, who) {
  const stored = Object.fromEntries(byType(contacts).map(c => [c.type, c]));
  return { who, stored, values: Object.fromEntries(TYPES.map(k => [k, stored[k] ? stored[k].phone : ''])) };
}

function draw(box, fid, ctx) {
  const s = kept[fid];
  box.innerHTML = `<h2 id="contacts-h">${esc(t('contacts_title'))}</h2><p class="muted">${esc(t('contacts_intro'))}</p>
    <form class="contactsedit" novalidate>${TYPES.map(k => {
      const demo = s.stored[k] && s.stored[k].demo && s.values[k] === s.stored[k].phone;
      return `<label class="field" for="ct-${k}"><span>${esc(t('ct_' + k))}${demo ? ` <span class="demo">${esc(t('demo_number'))}</span>` : ''}</span>
      <input id="ct-${k}" name="${k}" type="tel" inputmode="tel" autocomplete="off" maxlength="32" value="${esc(s.values[k])}" aria-describedby="ct-err-${k}"></label>
      <p class="error" id="ct-err-${k}" role="alert"></p>${demo ? `<p class="muted ctnote">${esc(t('contacts_demo'))}</p>` : ''}`;
    }).join('')}
    <p class="error" id="ct-error" role="alert"></p>
    <button class="btn primary" type="submit" id="ct-save">${esc(t('contacts_save'))}</button></form>`;
  const form = box.querySelector('form');
  form.addEventListener('input', ev => { if (ev.target.name) s.values[ev.target.name] = ev.target.value; });
  form.addEventListener('submit', ev => { ev.preventDefault(); save(box, fid, ctx); });
}

async function save(box, fid, ctx) {
  const s = kept[fid], form = box.querySelector('form'), btn = form.querySelector('#ct-save');
  form.querySelectorAll('.error').forEach(el => { el.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach(el => el.removeAttribute('aria-invalid'));
  // A demo number left as it was stays marked demo; any number typed is a real one.
  const sent = TYPES.filter(k => s.values[k].trim()).map(k => {
    const phone = s.values[k].trim(), old = s.stored[k];
    return { type: k, phone, demo: !!(old && old.demo && old.phone === phone) };
  });
  btn.disabled = true;
  try {
    const answer = await api(url(fid), { method: 'PUT', body: { contacts: sent } });
    kept[fid] = toState(answer.contacts, s.who);
    if (box.isConnected) draw(box, fid, ctx);
    ctx.toast(t('contacts_saved'));
  } catch (e) {
    let placed = false;
    for (const [key, msg] of Object.entries(e.fields || {})) {
      const c = sent[Number(key.split('.')[1])];
      const err = c && form.querySelector(`#ct-err-${c.type}`);
      if (err) { err.textContent = msg; form.querySelector(`#ct-${c.type}`).setAttribute('aria-invalid', 'true'); placed = true; }
    }
    if (!placed) form.querySelector('#ct-error').textContent = e.offline ? t('offline_save') : t('error', { msg: e.message });
  } finally {
    btn.disabled = false;
  }
}
