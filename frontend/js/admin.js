// The administrator's screen: accounts, facilities, API keys and the audit trail, one section at a
// time (phone first). Every change goes through the public API; its answer, or the field the
// service names, is shown beside the form. A new or rotated API key is shown once, with a copy button.
import { t, esc, clock, ago } from './i18n.js';
import { api } from './api.js';
import { clearErrors, showFieldErrors } from './fielderrors.js';
import { mountContactsEditor } from './contactsedit.js';
import { mountWardMap } from './wardmap.js';

const SECTIONS = ['users', 'facilities', 'keys', 'audit', 'dead'];
const ROLES = ['midwife', 'facility_staff', 'analyst', 'admin'];
const CATS = ['delivery_room', 'maternity_bed', 'obstetric_high_care', 'neonatal_high_care', 'nicu'];
const ACTIONS = ['user.', 'facility.', 'api_key.', 'login.', 'stop.', 'capacity.', 'refusal.', 'audit.'];
let st = null;

export async function mount(root, ctx) {
  const me = st = { root, ctx, section: sessionStorage.getItem('cap.admin') || 'users', regions: [], facilities: [],
    users: [], keys: [], audit: [], filter: '', open: null, shownKey: null, auditQuery: {} };
  if (!SECTIONS.includes(st.section)) st.section = 'users';
  try {
    [st.regions, st.facilities] = await Promise.all([
      api('/api/v1/regions'), api('/api/v1/facilities?include_inactive=true')]);
  } catch (e) { /* shown per section below */ }
  if (st !== me) return;  // left (or shown anew) while the lists were on their way
  frame();
  await load();
}

export function unmount() { st = null; }
export function relabel() { frame(); render(); }

function frame() {
  st.root.innerHTML = `<div class="admin pad">
    <h1>${esc(t('admin_title'))}</h1>
    <div class="seg" role="tablist" aria-label="${esc(t('admin_sections'))}">
      ${SECTIONS.map(s => `<button type="button" role="tab" class="segbtn" id="tab-${s}" data-section="${s}"
        aria-selected="${s === st.section}" aria-controls="adm-body">${esc(t('adm_' + s))}</button>`).join('')}
    </div>
    <div id="adm-body" role="tabpanel" aria-labelledby="tab-${st.section}"></div>
  </div>`;
  st.root.querySelector('.seg').addEventListener('click', e => {
    const b = e.target.closest('[data-section]');
    if (!b || b.dataset.section === st.section) return;
    st.section = b.dataset.section;
    sessionStorage.setItem('cap.admin', st.section);
    st.open = null; st.shownKey = null;
    frame();
    load();
  });
}

async function load() {
  const section = st.section;
  if (section === 'dead') return renderDead();
  try {
    if (section === 'users') st.users = await api('/api/v1/users');
    else if (section === 'facilities') st.facilities = await api('/api/v1/facilities?include_inactive=true');
    else if (section === 'keys') st.keys = await api('/api/v1/keys');
    else if (section === 'audit') st.audit = await api('/api/v1/audit?' + auditParams());
  } catch (e) {
    if (st && st.section === section) body().innerHTML = `<p class="error" role="alert">${esc(problem(e))}</p>`;
    return;
  }
  if (st && st.section === section) render();
}

// The section's box; once the screen was left (another screen, signed out) while a request was
// pending, a detached box, so the late answer is drawn nowhere instead of throwing.
function body() { return st.root.querySelector('#adm-body') || document.createElement('div'); }
function problem(e) { return e.offline ? t('offline_save') : t('error', { msg: e.message }); }
function facilityName(id) { const f = st.facilities.find(x => x.id === id); return f ? f.name : id; }
function regionName(id) { const r = st.regions.find(x => x.id === id); return r ? r.name : id; }
function facilityOptions(selected, blank) {
  const opts = st.facilities.filter(f => f.active).map(f =>
    `<option value="${esc(f.id)}"${f.id === selected ? ' selected' : ''}>${esc(f.name)}</option>`).join('');
  return (blank ? `<option value="">${esc(blank)}</option>` : '') + opts;
}
function regionOptions(selected, blank) {
  return (blank ? `<option value="">${esc(blank)}</option>` : '') + st.regions.map(r =>
    `<option value="${esc(r.id)}"${r.id === selected ? ' selected' : ''}>${esc(r.name)}</option>`).join('');
}
function field(id, label, control, loc) {
  return `<label class="field" for="${id}"><span>${esc(label)}</span>${control}
    <span class="error" data-err="${loc || id}" id="${id}-err"></span></label>`;
}

function render() {
  if (!st) return;
  if (st.section === 'users') renderUsers();
  else if (st.section === 'facilities') renderFacilities();
  else if (st.section === 'keys') renderKeys();
  else if (st.section === 'dead') renderDead();
  else renderAudit();
}

// Failed alerts (dead letters) with "try again": their own module.
function renderDead() {
  import('./alertsadmin.js').then(m => { if (st && st.section === 'dead') m.mountDeadLetters(body(), st.ctx); });
}

// ---- accounts --------------------------------------------------------------------------------

function renderUsers() {
  const q = st.filter.toLowerCase();
  const shown = st.users.filter(u => !q || u.username.toLowerCase().includes(q));
  body().innerHTML = `<details class="panel" id="new-user"><summary>${esc(t('adm_new_user'))}</summary>
    <form id="user-form" class="stack" novalidate>
      ${field('nu-name', t('username'), '<input id="nu-name" data-loc="username" autocomplete="off" autocapitalize="none" spellcheck="false" required>', 'username')}
      ${field('nu-pw', t('password'), '<input id="nu-pw" data-loc="password" type="password" autocomplete="new-password" required>', 'password')}
      ${field('nu-role', t('adm_role'), `<select id="nu-role" data-loc="role">${ROLES.map(r => `<option value="${r}">${esc(t('role_' + r))}</option>`).join('')}</select>`, 'role')}
      <div id="nu-fac-wrap" hidden>${field('nu-fac', t('adm_facility'), `<select id="nu-fac" data-loc="facility_id">${facilityOptions('', t('adm_choose'))}</select>`, 'facility_id')}</div>
      <div id="nu-reg-wrap" hidden>${field('nu-reg', t('region'), `<select id="nu-reg" data-loc="region_id">${regionOptions('', t('all_regions'))}</select>`, 'region_id')}</div>
      <p class="error" id="nu-error" role="alert"></p>
      <button class="btn primary" type="submit">${esc(t('adm_create_user'))}</button>
    </form></details>
    <label class="field" for="user-filter"><span>${esc(t('adm_search'))}</span>
      <input id="user-filter" type="search" value="${esc(st.filter)}" autocomplete="off"></label>
    <p class="muted">${esc(t('adm_count', { n: shown.length, total: st.users.length }))}</p>
    <ul class="adm-list" id="users">${shown.slice(0, 100).map(userItem).join('')}</ul>`;
  const form = body().querySelector('#user-form');
  const role = form.querySelector('#nu-role');
  const bindings = () => {
    form.querySelector('#nu-fac-wrap').hidden = role.value !== 'facility_staff';
    form.querySelector('#nu-reg-wrap').hidden = role.value !== 'analyst';
  };
  role.addEventListener('change', bindings);
  bindings();
  form.addEventListener('submit', createUser);
  body().querySelector('#user-filter').addEventListener('input', e => {
    st.filter = e.target.value;
    const pos = e.target.selectionStart;
    renderUsers();
    const input = body().querySelector('#user-filter');
    input.focus();
    input.setSelectionRange(pos, pos);
  });
  body().querySelector('#users').addEventListener('click', onUserAction);
  body().querySelector('#users').addEventListener('submit', onResetSubmit);
}

function userItem(u) {
  const binding = u.facility_id ? facilityName(u.facility_id)
    : u.role === 'analyst' ? (u.region_id ? regionName(u.region_id) : t('all_regions')) : '';
  const open = st.open === 'pw:' + u.username;
  return `<li class="adm-item${u.active ? '' : ' off'}" data-user="${esc(u.username)}">
    <div class="adm-head"><b>${esc(u.username)}</b>
      <span class="tag${u.active ? '' : ' off'}">${esc(t(u.active ? 'adm_active' : 'adm_inactive'))}</span></div>
    <p class="muted">${esc(t('role_' + u.role))}${binding ? ' · ' + esc(binding) : ''}</p>
    <div class="adm-actions">
      <button type="button" class="btn small" data-act="${u.active ? 'deactivate' : 'activate'}">${esc(t(u.active ? 'adm_deactivate' : 'adm_activate'))}</button>
      <button type="button" class="btn small" data-act="password" aria-expanded="${open}">${esc(t('adm_reset_pw'))}</button>
      <button type="button" class="btn small" data-act="lockout">${esc(t('adm_lift_lock'))}</button>
    </div>
    ${open ? `<form class="stack reset" novalidate>
      ${field('rp-' + u.username, t('pw_new'), `<input id="rp-${esc(u.username)}" data-loc="new_password" type="password" autocomplete="new-password" required>`, 'new_password')}
      <p class="muted">${esc(t('adm_reset_note'))}</p>
      <p class="error" id="rp-error" role="alert"></p>
      <button class="btn primary small" type="submit">${esc(t('adm_set_pw'))}</button></form>` : ''}
  </li>`;
}

async function createUser(e) {
  e.preventDefault();
  const form = e.target;
  clearErrors(form);
  const role = form.querySelector('#nu-role').value;
  const data = { username: form.querySelector('#nu-name').value.trim(), password: form.querySelector('#nu-pw').value, role };
  if (role === 'facility_staff') data.facility_id = form.querySelector('#nu-fac').value || '';
  if (role === 'analyst' && form.querySelector('#nu-reg').value) data.region_id = form.querySelector('#nu-reg').value;
  try {
    const made = await api('/api/v1/users', { method: 'POST', body: data });
    st.ctx.toast(t('adm_user_made', { user: made.username }));
    st.filter = made.username;
    await load();
  } catch (err) {
    showFieldErrors(form, err, form.querySelector('#nu-error'));
  }
}

async function onUserAction(e) {
  const b = e.target.closest('[data-act]');
  if (!b) return;
  const name = b.closest('[data-user]').dataset.user;
  const path = `/api/v1/users/${encodeURIComponent(name)}`;
  try {
    if (b.dataset.act === 'password') {
      st.open = st.open === 'pw:' + name ? null : 'pw:' + name;
      renderUsers();
      const input = body().querySelector(`#rp-${CSS.escape(name)}`);
      if (input) input.focus();
      return;
    }
    b.disabled = true;
    if (b.dataset.act === 'lockout') {
      const r = await api(path + '/lockout', { method: 'DELETE' });
      st.ctx.toast(t(r.cleared ? 'adm_lock_lifted' : 'adm_no_lock', { user: name }));
      b.disabled = false;
      return;
    }
    const active = b.dataset.act === 'activate';
    await api(path, { method: 'PATCH', body: { active } });
    st.ctx.toast(t(active ? 'adm_user_on' : 'adm_user_off', { user: name }));
    await load();
  } catch (err) {
    b.disabled = false;
    st.ctx.toast(problem(err));
  }
}

async function onResetSubmit(e) {
  e.preventDefault();
  const form = e.target;
  const name = form.closest('[data-user]').dataset.user;
  clearErrors(form);
  try {
    await api(`/api/v1/users/${encodeURIComponent(name)}/password`, {
      method: 'POST', body: { new_password: form.querySelector('input').value } });
    st.open = null;
    st.ctx.toast(t('adm_pw_set', { user: name }));
    renderUsers();
  } catch (err) {
    showFieldErrors(form, err, form.querySelector('#rp-error'));
  }
}

// ---- facilities ------------------------------------------------------------------------------

function renderFacilities() {
  const region = st.facRegion || '';
  const shown = st.facilities.filter(f => !region || f.region === region);
  body().innerHTML = `<label class="field" for="fac-region"><span>${esc(t('region'))}</span>
      <select id="fac-region">${regionOptions(region, t('all_regions'))}</select></label>
    <ul class="adm-list" id="facilities">${shown.map(facilityItem).join('')}</ul>`;
  body().querySelector('#fac-region').addEventListener('change', e => { st.facRegion = e.target.value; renderFacilities(); });
  const list = body().querySelector('#facilities');
  list.addEventListener('click', onFacilityClick);
  list.addEventListener('submit', saveFacility);
  // The open facility's phone numbers: the editor the ward's own staff use (contactsedit.js).
  const slot = list.querySelector('[data-contacts-mount]');
  if (slot) mountContactsEditor(slot, slot.dataset.contactsMount, st.ctx);
  // ... and its ward map: which wards of the hospital's bed list count for which category.
  const wards = list.querySelector('[data-wardmap-mount]');
  const open = wards && st.facilities.find(f => f.id === wards.dataset.wardmapMount);
  if (open) mountWardMap(wards, open, st.ctx);
}

function facilityItem(f) {
  const open = st.open === 'fac:' + f.id;
  return `<li class="adm-item${f.active ? '' : ' off'}" data-facility="${esc(f.id)}">
    <div class="adm-head"><b>${esc(f.name)}</b>
      <span class="tag${f.active ? '' : ' off'}">${esc(t(f.active ? 'adm_active' : 'adm_inactive'))}</span></div>
    <p class="muted">${esc(f.city)} · ${esc(regionName(f.region))}</p>
    <div class="adm-actions"><button type="button" class="btn small" data-act="edit" aria-expanded="${open}">${esc(t(open ? 'close' : 'adm_edit'))}</button></div>
    ${open ? facilityDetail(f) : ''}
  </li>`;
}

function facilityDetail(f) {
  const id = esc(f.id);
  return `<form class="stack facdetail" novalidate>
    ${field('fd-region-' + id, t('adm_move_region'), `<select id="fd-region-${id}" data-loc="region" name="region">${regionOptions(f.region)}</select>`, 'region')}
    <fieldset class="small"><legend>${esc(t('adm_categories'))}</legend>
      ${CATS.map(c => `<label class="opt"><input type="checkbox" name="cat" value="${c}"${f.categories.includes(c) ? ' checked' : ''}><span>${esc(t('cat_' + c))}</span></label>`).join('')}
      <span class="error" data-err="categories"></span></fieldset>
    <p class="muted">${esc(t('adm_move_note'))}</p>
    <p class="error" role="alert" data-err="form"></p>
    <button class="btn primary" type="submit">${esc(t('save'))}</button>
    <div class="danger-zone">
      <p class="muted">${esc(t(f.active ? 'adm_deactivate_note' : 'adm_activate_note'))}</p>
      <button type="button" class="btn ${f.active ? 'danger' : ''}" data-act="${f.active ? 'deactivate' : 'activate'}">${esc(t(f.active ? 'adm_deactivate' : 'adm_activate'))}</button>
      <div class="confirm" hidden><p>${esc(t('adm_confirm_off', { name: f.name }))}</p>
        <button type="button" class="btn danger" data-act="confirm-off">${esc(t('adm_yes_off'))}</button>
        <button type="button" class="btn" data-act="cancel-off">${esc(t('cancel'))}</button></div>
    </div>
  </form>
  <section class="contacts-slot contactsbox" data-contacts-mount="${id}" aria-label="${esc(t('adm_contacts'))}"></section>
  <section class="contacts-slot contactsbox" data-wardmap-mount="${id}" aria-label="${esc(t('wm_title'))}"></section>`;
}

async function onFacilityClick(e) {
  const b = e.target.closest('[data-act]');
  if (!b) return;
  const item = b.closest('[data-facility]');
  const id = item.dataset.facility;
  if (b.dataset.act === 'edit') {
    st.open = st.open === 'fac:' + id ? null : 'fac:' + id;
    renderFacilities();
    const again = body().querySelector(`[data-facility="${CSS.escape(id)}"] [data-act=edit]`);
    if (again) again.focus();
    return;
  }
  const confirm = item.querySelector('.confirm');
  if (b.dataset.act === 'deactivate') { confirm.hidden = false; confirm.querySelector('button').focus(); return; }
  if (b.dataset.act === 'cancel-off') { confirm.hidden = true; return; }
  const active = b.dataset.act === 'activate';
  await patchFacility(item, { active }, t(active ? 'adm_fac_on' : 'adm_fac_off', { name: facilityName(id) }));
}

async function saveFacility(e) {
  const form = e.target;
  if (!form.classList.contains('facdetail')) return;  // the numbers' and wards' forms save themselves
  e.preventDefault();
  const item = form.closest('[data-facility]');
  const f = st.facilities.find(x => x.id === item.dataset.facility);
  const change = {};
  const region = form.elements.region.value;
  if (region !== f.region) change.region = region;
  const cats = [...form.querySelectorAll('input[name=cat]:checked')].map(x => x.value);
  if (cats.join() !== CATS.filter(c => f.categories.includes(c)).join()) change.categories = cats;
  if (!Object.keys(change).length) { st.ctx.toast(t('adm_nothing')); return; }
  const msg = change.region ? t('adm_fac_moved', { name: f.name, region: regionName(region) }) : t('adm_fac_saved', { name: f.name });
  await patchFacility(item, change, msg);
}

async function patchFacility(item, change, done) {
  const form = item.querySelector('form');
  clearErrors(form);
  try {
    const updated = await api(`/api/v1/facilities/${encodeURIComponent(item.dataset.facility)}`, { method: 'PATCH', body: change });
    st.facilities = st.facilities.map(f => (f.id === updated.id ? updated : f));
    st.ctx.toast(done);
    renderFacilities();
  } catch (err) {
    showFieldErrors(form, err, form.querySelector('[data-err=form]'));
  }
}

// ---- API keys --------------------------------------------------------------------------------

function renderKeys() {
  const keys = [...st.keys].reverse();
  body().innerHTML = `${st.shownKey ? shownKey(st.shownKey) : ''}
    <details class="panel" id="new-key"${st.shownKey ? '' : ' open'}><summary>${esc(t('adm_new_key'))}</summary>
    <form id="key-form" class="stack" novalidate>
      ${field('nk-fac', t('adm_facility'), `<select id="nk-fac" data-loc="facility_id">${facilityOptions('', t('adm_choose'))}</select>`, 'facility_id')}
      ${field('nk-label', t('adm_label'), '<input id="nk-label" data-loc="label" autocomplete="off" maxlength="80">', 'label')}
      <p class="error" id="nk-error" role="alert"></p>
      <button class="btn primary" type="submit">${esc(t('adm_create_key'))}</button>
    </form></details>
    <ul class="adm-list" id="keys">${keys.map(keyItem).join('') || `<li class="muted">${esc(t('adm_no_keys'))}</li>`}</ul>`;
  body().querySelector('#key-form').addEventListener('submit', createKey);
  body().querySelector('#keys').addEventListener('click', onKeyAction);
  const copy = body().querySelector('#copy-key');
  if (copy) copy.addEventListener('click', copyKey);
}

function shownKey(k) {
  return `<div class="keybox" role="status" id="key-once">
    <p><b>${esc(t('adm_key_once', { name: facilityName(k.facility_id) }))}</b></p>
    <label class="field" for="new-key-value"><span>${esc(t('adm_key'))}</span>
      <input id="new-key-value" readonly value="${esc(k.key)}" spellcheck="false"></label>
    <button type="button" class="btn primary" id="copy-key">${esc(t('adm_copy'))}</button>
    <p class="muted">${esc(t('adm_key_hint'))}</p></div>`;
}

function keyItem(k) {
  const used = k.last_used_at ? t('adm_used', { ago: ago(k.last_used_at), time: clock(k.last_used_at) }) : t('adm_never_used');
  return `<li class="adm-item${k.revoked_at ? ' off' : ''}" data-key="${k.id}">
    <div class="adm-head"><b class="mono">${esc(k.prefix)}…</b>
      <span class="tag${k.revoked_at ? ' off' : ''}">${esc(k.revoked_at ? t('adm_revoked') : t('adm_active'))}</span></div>
    <p class="muted">${esc((k.facility_ids && k.facility_ids.length ? k.facility_ids : [k.facility_id]).map(facilityName).join(', '))}${k.label ? ' · ' + esc(k.label) : ''}</p>
    <p class="muted">${esc(t('adm_created', { time: clock(k.created_at) }))} · <span class="used">${esc(used)}</span></p>
    ${k.revoked_at ? '' : `<div class="adm-actions">
      <button type="button" class="btn small" data-act="rotate">${esc(t('adm_rotate'))}</button>
      <button type="button" class="btn small danger" data-act="revoke">${esc(t('adm_revoke'))}</button></div>`}
  </li>`;
}

async function createKey(e) {
  e.preventDefault();
  const form = e.target;
  clearErrors(form);
  const facility = form.querySelector('#nk-fac').value;
  if (!facility) { form.querySelector('#nk-fac-err').textContent = t('adm_pick_facility'); return; }
  const label = form.querySelector('#nk-label').value.trim();
  try {
    st.shownKey = await api(`/api/v1/facilities/${encodeURIComponent(facility)}/keys`, { method: 'POST', body: label ? { label } : {} });
    await load();
    const copy = body().querySelector('#copy-key');
    if (copy) copy.focus();
  } catch (err) {
    showFieldErrors(form, err, form.querySelector('#nk-error'));
  }
}

async function onKeyAction(e) {
  const b = e.target.closest('[data-act]');
  if (!b) return;
  const id = b.closest('[data-key]').dataset.key;
  b.disabled = true;
  try {
    if (b.dataset.act === 'rotate') {
      st.shownKey = await api(`/api/v1/keys/${id}/rotate`, { method: 'POST' });
    } else {
      await api(`/api/v1/keys/${id}`, { method: 'DELETE' });
      st.shownKey = null;
      st.ctx.toast(t('adm_key_revoked'));
    }
    await load();
    const copy = body().querySelector('#copy-key');
    if (copy) copy.focus();
  } catch (err) {
    b.disabled = false;
    st.ctx.toast(problem(err));
  }
}

async function copyKey() {
  const input = body().querySelector('#new-key-value');
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand('copy');
  }
  st.ctx.toast(t('adm_copied'));
}

// ---- audit trail -----------------------------------------------------------------------------

function auditParams(before) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(st.auditQuery)) if (v) q.set(k, v);
  q.set('limit', '50');
  if (before) q.set('before', before);
  return q.toString();
}

function renderAudit() {
  const a = st.auditQuery;
  body().innerHTML = `<form id="audit-form" class="filters" novalidate>
      ${field('au-actor', t('adm_actor'), `<input id="au-actor" data-loc="actor" value="${esc(a.actor || '')}" placeholder="user:admin" autocomplete="off" autocapitalize="none">`, 'actor')}
      ${field('au-action', t('adm_action'), `<select id="au-action" data-loc="action"><option value="">${esc(t('adm_all'))}</option>${ACTIONS.map(x => `<option value="${x}"${a.action === x ? ' selected' : ''}>${esc(t('act_' + x.slice(0, -1)))}</option>`).join('')}</select>`, 'action')}
      ${field('au-fac', t('adm_facility'), `<select id="au-fac" data-loc="facility"><option value="">${esc(t('adm_all'))}</option>${st.facilities.map(f => `<option value="${esc(f.id)}"${a.facility === f.id ? ' selected' : ''}>${esc(f.name)}</option>`).join('')}</select>`, 'facility')}
      ${field('au-from', t('from'), `<input id="au-from" data-loc="from" type="date" value="${esc(a.from || '')}">`, 'from')}
      ${field('au-to', t('to'), `<input id="au-to" data-loc="to" type="date" value="${esc(a.to || '')}">`, 'to')}
      <p class="error" id="au-error" role="alert"></p>
      <button class="btn primary" type="submit">${esc(t('apply'))}</button>
    </form>
    <p class="muted">${esc(t('adm_utc_days'))}</p>
    <ol class="adm-list audit" id="audit">${st.audit.map(auditItem).join('') || `<li class="muted">${esc(t('no_data'))}</li>`}</ol>
    ${st.audit.length && st.audit.length % 50 === 0 ? `<button type="button" class="btn" id="audit-more">${esc(t('adm_more'))}</button>` : ''}`;
  body().querySelector('#audit-form').addEventListener('submit', filterAudit);
  const more = body().querySelector('#audit-more');
  if (more) more.addEventListener('click', moreAudit);
}

function auditItem(ev) {
  const detail = Object.entries(ev.detail || {}).slice(0, 6)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ');
  return `<li class="adm-item" data-event="${ev.id}">
    <div class="adm-head"><b>${esc(ev.action)}</b><time datetime="${esc(ev.at)}">${esc(clock(ev.at))}</time></div>
    <p class="muted">${esc(ev.actor)} → ${esc(ev.entity)}${ev.entity_id ? ' ' + esc(ev.entity_id) : ''}</p>
    ${detail ? `<p class="detail">${esc(detail.slice(0, 300))}</p>` : ''}</li>`;
}

async function filterAudit(e) {
  e.preventDefault();
  const form = e.target;
  clearErrors(form);
  st.auditQuery = { actor: form.querySelector('#au-actor').value.trim(), action: form.querySelector('#au-action').value,
    facility: form.querySelector('#au-fac').value, from: form.querySelector('#au-from').value, to: form.querySelector('#au-to').value };
  try {
    st.audit = await api('/api/v1/audit?' + auditParams());
    renderAudit();
    st.ctx.announce(t('adm_events', { n: st.audit.length }));
  } catch (err) {
    showFieldErrors(form, err, form.querySelector('#au-error'));
  }
}

async function moreAudit() {
  const last = st.audit[st.audit.length - 1];
  try {
    st.audit = st.audit.concat(await api('/api/v1/audit?' + auditParams(last.id)));
    renderAudit();
  } catch (err) {
    st.ctx.toast(problem(err));
  }
}
