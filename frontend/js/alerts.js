// "Meldingen": a sheet over the screen with her inbox (newest first, mark read) and her
// subscriptions (list, end, subscribe). A webhook's signing secret is shown once, with a copy button.
// Loaded when the bell is tapped; the bell (bell.js) keeps the count and the live alerts.
import { t, esc, clock, ago } from './i18n.js';
import { api, session } from './api.js';
import { clearErrors, showFieldErrors } from './fielderrors.js';
import { inbox, markedRead, alertText } from './bell.js';

const RULES = ['facility_stop', 'facility_stale', 'overdue', 'region_free_below', 'transfer_request'];
const CATS = ['delivery_room', 'maternity_bed', 'obstetric_high_care', 'neonatal_high_care', 'nicu'];
const CHANNELS = ['app', 'email', 'webhook'];
let st = null;

export function openAlerts(ctx) {
  document.getElementById('alerts')?.remove();
  const dlg = document.createElement('dialog');
  dlg.id = 'alerts';
  dlg.className = 'sheet';
  dlg.setAttribute('aria-labelledby', 'al-title');
  const me = st = { dlg, ctx, tab: 'inbox', alerts: [...inbox.alerts], subs: null, facilities: [], regions: [], secret: null };
  const onLive = e => {
    if (st !== me || !e.detail.alert) return;
    if (!me.alerts.some(a => a.id === e.detail.alert.id)) me.alerts.unshift(e.detail.alert);
    if (me.tab === 'inbox') render();
  };
  window.addEventListener('cap:alerts', onLive);
  dlg.addEventListener('close', () => { window.removeEventListener('cap:alerts', onLive); dlg.remove(); if (st === me) st = null; });
  document.body.append(dlg);
  frame();
  dlg.showModal();
  dlg.querySelector('#al-close').focus();
  load();
}

function frame() {
  st.dlg.innerHTML = `<div class="pad alerts">
    <div class="adm-head"><h2 id="al-title">${esc(t('al_title'))}</h2>
      <button type="button" class="btn small" id="al-close">${esc(t('close'))}</button></div>
    <div class="seg" role="tablist" aria-label="${esc(t('al_tabs'))}">
      ${['inbox', 'subs'].map(s => `<button type="button" role="tab" class="segbtn" id="al-tab-${s}" data-tab="${s}"
        aria-selected="${s === st.tab}" aria-controls="al-body">${esc(t('al_' + s))}</button>`).join('')}
    </div>
    <p class="ok" id="al-status" role="status"></p>
    <div id="al-body" role="tabpanel" aria-labelledby="al-tab-${st.tab}"></div></div>`;
  st.dlg.querySelector('#al-close').addEventListener('click', () => st.dlg.close());
  st.dlg.querySelector('.seg').addEventListener('click', e => {
    const b = e.target.closest('[data-tab]');
    if (!b || b.dataset.tab === st.tab) return;
    st.tab = b.dataset.tab;
    st.secret = null;
    frame();
    load();
  });
}

// The sheet is over the page (and its toasts): what happened is said inside it.
function say(me, msg, bad = false) {
  const el = me.dlg.querySelector('#al-status');
  if (el) { el.className = bad ? 'error' : 'ok'; el.textContent = msg; }
}
const body = () => (st && st.dlg.querySelector('#al-body')) || document.createElement('div');
const problem = e => (e.offline ? t('offline_save') : t('error', { msg: e.message }));

async function load() {
  const me = st, tab = st.tab;
  try {
    if (tab === 'inbox') me.alerts = await api('/api/v1/alerts?limit=100');
    else {
      [me.subs, me.facilities, me.regions] = await Promise.all([
        api('/api/v1/alerts/subscriptions'), api('/api/v1/facilities'), api('/api/v1/regions')]);
    }
  } catch (e) {
    if (st === me && me.tab === tab) body().innerHTML = `<p class="error" role="alert">${esc(problem(e))}</p>`;
    return;
  }
  if (st === me && me.tab === tab) render();
}

function render() {
  if (st.tab === 'inbox') renderInbox(); else renderSubs();
}

// ---- inbox ------------------------------------------------------------------------------------

function alertItem(a) {
  return `<li class="adm-item${a.read_at ? ' off' : ''}" data-alert="${a.id}">
    <div class="adm-head"><b>${esc(alertText(a))}</b>${a.read_at ? '' : `<span class="tag">${esc(t('al_unread'))}</span>`}</div>
    <p class="muted"><time datetime="${esc(a.created_at)}">${esc(clock(a.created_at))}</time> · ${esc(ago(a.created_at))}</p>
    ${a.read_at ? '' : `<div class="adm-actions"><button type="button" class="btn small" data-read="${a.id}">${esc(t('al_mark'))}</button></div>`}
  </li>`;
}

function renderInbox() {
  const unread = st.alerts.filter(a => !a.read_at);
  body().innerHTML = `${inbox.live ? '' : `<p class="muted" id="al-not-live">${esc(t('al_live_off'))}</p>`}
    ${unread.length ? `<button type="button" class="btn" id="al-read-all">${esc(t('al_mark_all'))}</button>` : ''}
    <ul class="adm-list" id="al-list">${st.alerts.map(alertItem).join('') || `<li class="muted">${esc(t('al_none'))}</li>`}</ul>`;
  body().querySelector('#al-list').addEventListener('click', e => {
    const b = e.target.closest('[data-read]');
    if (b) markRead([Number(b.dataset.read)], b);
  });
  const all = body().querySelector('#al-read-all');
  if (all) all.addEventListener('click', () => markRead(unread.map(a => a.id), all));
}

// One request per alert (the service marks one at a time); the count follows each answer.
async function markRead(ids, button) {
  const me = st;
  button.disabled = true;
  const done = [];
  try {
    for (const id of ids) {
      const read = await api(`/api/v1/alerts/${id}/read`, { method: 'POST' });
      done.push(id);
      const mine = me.alerts.find(a => a.id === id);
      if (mine) mine.read_at = read.read_at;
    }
    if (ids.length > 1) say(me, t('al_all_read'));
  } catch (e) {
    say(me, problem(e), true);
  }
  markedRead(done);
  if (st === me && me.tab === 'inbox') {
    renderInbox();
    (body().querySelector('[data-read]') || st.dlg.querySelector('#al-close')).focus();
  }
}

// ---- subscriptions ----------------------------------------------------------------------------

function field(id, label, control, loc) {
  return `<label class="field" for="${id}"><span>${esc(label)}</span>${control}
    <span class="error" data-err="${loc}" id="${id}-err"></span></label>`;
}
const options = (list, selected, blank) => (blank ? `<option value="">${esc(blank)}</option>` : '')
  + list.map(([v, label]) => `<option value="${esc(v)}"${v === selected ? ' selected' : ''}>${esc(label)}</option>`).join('');
const facilityName = id => (st.facilities.find(f => f.id === id) || {}).name || id;
const regionName = id => (st.regions.find(r => r.id === id) || {}).name || id;

function myRules() {
  const s = session.get();
  const ward = s && (s.role === 'facility_staff' || s.role === 'admin');
  return RULES.filter(r => r !== 'transfer_request' || ward);
}

function subItem(sub) {
  const scope = sub.rule === 'region_free_below'
    ? t('al_free_below', { cat: t('cat_' + sub.category), region: regionName(sub.region), k: sub.threshold })
    : facilityName(sub.facility_id);
  const how = t('ch_' + sub.channel) + (sub.target ? ` · ${sub.target}` : '');
  return `<li class="adm-item" data-sub="${sub.id}">
    <div class="adm-head"><b>${esc(t('rule_' + sub.rule))}</b><span class="tag">${esc(t('ch_' + sub.channel))}</span></div>
    <p>${esc(scope)}</p><p class="muted">${esc(how)}</p>
    <div class="adm-actions"><button type="button" class="btn small danger" data-del="${sub.id}">${esc(t('al_delete'))}</button></div>
  </li>`;
}

function secretBox(secret) {
  return `<div class="keybox" role="status" id="al-secret-once">
    <p><b>${esc(t('al_secret_once'))}</b></p>
    <label class="field" for="al-secret"><span>${esc(t('al_secret'))}</span>
      <input id="al-secret" readonly value="${esc(secret)}" spellcheck="false"></label>
    <button type="button" class="btn primary" id="al-copy">${esc(t('adm_copy'))}</button>
    <p class="muted">${esc(t('al_secret_hint'))}</p></div>`;
}

function renderSubs() {
  const s = session.get() || {};
  const mineFirst = s.role === 'analyst' && s.region_id ? st.facilities.filter(f => f.region === s.region_id) : st.facilities;
  const facilities = mineFirst.map(f => [f.id, f.name]);
  const regions = st.regions.filter(r => !(s.role === 'analyst' && s.region_id) || r.id === s.region_id).map(r => [r.id, r.name]);
  body().innerHTML = `${st.secret ? secretBox(st.secret) : ''}
    <details class="panel" id="al-new"${st.subs.length && !st.secret ? '' : ' open'}><summary>${esc(t('al_sub_new'))}</summary>
    <form id="al-form" class="stack" novalidate>
      ${field('al-rule', t('al_rule'), `<select id="al-rule" data-loc="rule">${options(myRules().map(r => [r, t('rule_' + r)]), 'facility_stop')}</select>`, 'rule')}
      <div id="al-fac-wrap">${field('al-fac', t('al_facility'), `<select id="al-fac" data-loc="facility_id">${options(facilities, s.facility_id || '', t('adm_choose'))}</select>`, 'facility_id')}</div>
      <div id="al-reg-wrap" class="stack" hidden>
        ${field('al-reg', t('region'), `<select id="al-reg" data-loc="region">${options(regions, s.region_id || '', t('adm_choose'))}</select>`, 'region')}
        ${field('al-cat', t('al_category'), `<select id="al-cat" data-loc="category">${options(CATS.map(c => [c, t('cat_' + c)]), 'delivery_room')}</select>`, 'category')}
        ${field('al-k', t('al_threshold'), '<input id="al-k" data-loc="threshold" type="number" inputmode="numeric" min="1" max="500" value="2">', 'threshold')}
      </div>
      ${field('al-ch', t('al_channel'), `<select id="al-ch" data-loc="channel">${options(CHANNELS.map(c => [c, t('ch_' + c)]), 'app')}</select>`, 'channel')}
      <div id="al-target-wrap" hidden>${field('al-target', t('al_target_email'), '<input id="al-target" data-loc="target" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="2048">', 'target')}</div>
      <p class="error" id="al-error" role="alert"></p>
      <button class="btn primary" type="submit">${esc(t('al_subscribe'))}</button>
    </form></details>
    <ul class="adm-list" id="al-subs">${st.subs.map(subItem).join('') || `<li class="muted">${esc(t('al_subs_none'))}</li>`}</ul>`;
  const form = body().querySelector('#al-form');
  const bindings = () => {
    const rule = form.querySelector('#al-rule').value, channel = form.querySelector('#al-ch').value;
    form.querySelector('#al-fac-wrap').hidden = rule === 'region_free_below';
    form.querySelector('#al-reg-wrap').hidden = rule !== 'region_free_below';
    form.querySelector('#al-target-wrap').hidden = channel === 'app';
    form.querySelector('[for=al-target] span').textContent = t(channel === 'webhook' ? 'al_target_webhook' : 'al_target_email');
    form.querySelector('#al-target').type = channel === 'email' ? 'email' : 'url';
  };
  form.addEventListener('change', bindings);
  bindings();
  form.addEventListener('submit', subscribe);
  body().querySelector('#al-subs').addEventListener('click', unsubscribe);
  const copy = body().querySelector('#al-copy');
  if (copy) copy.addEventListener('click', copySecret);
}

async function subscribe(e) {
  e.preventDefault();
  const form = e.target, me = st;
  clearErrors(form);
  const v = id => form.querySelector(id).value.trim();
  const rule = v('#al-rule'), channel = v('#al-ch');
  const sub = { rule, channel };
  const missing = (id, key) => { form.querySelector(`${id}-err`).textContent = t(key); form.querySelector(id).setAttribute('aria-invalid', 'true'); form.querySelector(id).focus(); };
  if (rule === 'region_free_below') {
    if (!v('#al-reg')) return missing('#al-reg', 'al_pick_region');
    Object.assign(sub, { region: v('#al-reg'), category: v('#al-cat'), threshold: Number(v('#al-k')) });
  } else {
    if (!v('#al-fac')) return missing('#al-fac', 'al_pick_facility');
    sub.facility_id = v('#al-fac');
  }
  if (channel !== 'app') {
    if (!v('#al-target')) return missing('#al-target', 'al_need_target');
    sub.target = v('#al-target');
  }
  const button = form.querySelector('[type=submit]');
  button.disabled = true;
  try {
    const made = await api('/api/v1/alerts/subscriptions', { method: 'POST', body: sub });
    me.secret = made.secret || null;
    me.subs = await api('/api/v1/alerts/subscriptions');
  } catch (err) {
    button.disabled = false;
    if (st === me) showFieldErrors(form, err, form.querySelector('#al-error'));
    return;
  }
  if (st !== me) return;
  say(me, t('al_subscribed'));
  renderSubs();
  (body().querySelector('#al-copy') || body().querySelector('#al-subs')).focus();
}

async function unsubscribe(e) {
  const b = e.target.closest('[data-del]');
  if (!b) return;
  const me = st;
  b.disabled = true;
  try {
    await api(`/api/v1/alerts/subscriptions/${b.dataset.del}`, { method: 'DELETE' });
    me.subs = await api('/api/v1/alerts/subscriptions');
  } catch (err) {
    b.disabled = false;
    say(me, problem(err), true);
    return;
  }
  say(me, t('al_deleted'));
  if (st === me && me.tab === 'subs') { me.secret = null; renderSubs(); }
}

async function copySecret() {
  const input = body().querySelector('#al-secret');
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand('copy');
  }
  say(st, t('al_copied'));
}
