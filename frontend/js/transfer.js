// The midwife's transfer request (issue 13): one request to several wards at once, the first
// accept wins. Loaded only when she taps "Verzoek sturen" or follows a request (midwife.js), so
// the page's first load stays small. The form: category, kind of request, gestational band,
// urgency (acute sends nothing: the standing rule is shown), where from; the service proposes
// wards with room, the first 3 checked, at most 8. Then each request's answers live from
// WS /ws/offers; placed, the ward's number to call. The requests she follows are remembered on
// the device (cap.c.xfer, cleared at logout), so a reload shows them again.
import { t, esc } from './i18n.js';
import { api, store } from './api.js';
import { CATS } from './filters.js';
import { ICO } from './contacts.js';
import { OfferLive, left } from './offerlive.js';

const TYPES = ['non_medical', 'medical', 'acute', 'antenatal_transfer', 'neonatal_transfer'];
const BANDS = ['<24', '24-27', '28-31', '32-33', '34-36', '>=37'];
const URGENCIES = ['non_acute', 'sub_acute', 'acute'];
const MAX = 8, FIRST = 3, SHOWN = 10;
const KEY = 'xfer';

// env (midwife.js): cat() the category she looks for, place() 'gps' or a city, pos() her
// position or null, cities() the places to choose, nameOf(id) a facility's name, ctx.
let x = null;

const followed = () => store.get(KEY) || [];
function follow(ids) { store.set(KEY, [...new Set(ids)]); }

export function attach(root, env) {
  const first = !x;
  if (first) x = { requests: new Map(), form: null, live: null, conn: 'connecting', names: {}, tick: null };
  Object.assign(x, { root, env });
  if (first && followed().length) startLive();
  render();
}

export function detach() {
  if (!x) return;
  if (x.live) x.live.stop();
  clearInterval(x.tick);
  x = null;
}

export function relabel() { render(); }

function startLive() {
  if (x.live) return;
  const mine = x;
  x.live = new OfferLive(m => { if (x === mine) onMessage(m); }, s => { if (x === mine) { x.conn = s; paintConn(); } }).start();
  x.tick = setInterval(tick, 1000);
}

async function onMessage(m) {
  if (m.type === 'snapshot') {
    for (const r of m.requests) x.requests.set(r.id, r);
    follow([...followed(), ...m.requests.map(r => r.id)]);
    render();
    // Followed requests that are no longer open (placed, cancelled, exhausted) are read once.
    const mine = x;
    for (const id of followed().filter(i => !m.requests.some(r => r.id === i))) {
      try {
        const r = await api(`/api/v1/transfers/${id}`);
        if (x !== mine) return;
        x.requests.set(r.id, r);
      } catch (e) {
        if (x === mine && (e.status === 404 || e.status === 403)) follow(followed().filter(i => i !== id));
      }
    }
    if (x === mine) render();
  } else if (m.type === 'transfer') {
    const before = x.requests.get(m.request.id);
    if (!before && !followed().includes(m.request.id)) follow([...followed(), m.request.id]);
    x.requests.set(m.request.id, m.request);
    tell(before, m.request);
    render();
  }
}

// Each ward's new answer is read out (a screen reader, or she looks away).
function tell(before, after) {
  const was = Object.fromEntries(((before && before.offers) || []).map(o => [o.id, o.status]));
  for (const o of after.offers) {
    if (was[o.id] && was[o.id] !== o.status) x.env.ctx.announce(`${nameOf(o.facility_id)}: ${offerState(o)}`);
  }
  if (before && before.status !== after.status && after.status === 'placed') {
    x.env.ctx.announce(t('xs_placed', { name: nameOf(after.placed_facility_id) }));
  }
}

function nameOf(id) { return x.names[id] || x.env.nameOf(id) || id; }

// ---- the form ---------------------------------------------------------------------------------

export function openForm() {
  if (!x) return;
  const rtype = localStorage.getItem('cap.rtype');
  const place = x.env.place();
  x.form = {
    cat: x.env.cat(), type: TYPES.includes(rtype) ? rtype : '', band: '', urgency: '',
    place: place === 'gps' && !x.env.pos() ? '' : place, proposal: null, picked: new Set(), more: false, error: '',
  };
  render();
  propose();
  const h = x.root.querySelector('#xfer-h');
  if (h) { h.scrollIntoView({ block: 'start' }); x.root.querySelector('input[name=urgency]').focus({ preventScroll: true }); }
}

function origin(place) {
  if (place === 'gps') {
    const p = x.env.pos();
    return p ? { lat: Math.round(p.lat * 100) / 100, lon: Math.round(p.lon * 100) / 100 } : null;
  }
  return place ? { city: place } : null;
}

async function propose() {
  const f = x.form;
  if (!f) return;
  f.proposal = null;
  f.picked = new Set();
  const where = origin(f.place);
  if (!where) { paintWards(); return; }
  paintWards();
  const q = new URLSearchParams({ category: f.cat, ...where });
  try {
    const p = await api(`/api/v1/transfers/proposal?${q}`);
    if (!x || x.form !== f || f.cat !== p.category) return;
    f.proposal = p.wards;
    for (const w of p.wards) x.names[w.facility_id] = w.name;
    f.picked = new Set(p.wards.slice(0, FIRST).map(w => w.facility_id));
  } catch (e) {
    if (!x || x.form !== f) return;
    f.proposal = [];
    f.error = e.offline ? t('offline_save') : t('error', { msg: e.message });
  }
  paintWards();
}

function options(values, label, chosen, blank) {
  return (blank ? `<option value="">${esc(blank)}</option>` : '')
    + values.map(v => `<option value="${esc(v)}"${v === chosen ? ' selected' : ''}>${esc(label(v))}</option>`).join('');
}

function formHtml() {
  const f = x.form;
  const urg = URGENCIES.map(u => `<label class="opt"><input type="radio" name="urgency" value="${u}"${u === f.urgency ? ' checked' : ''}><span>${esc(t('u_' + u))}</span></label>`).join('');
  const places = [...(x.env.pos() ? ['gps'] : []), ...x.env.cities()];
  return `<form id="xfer-form" class="xferform pad" novalidate aria-labelledby="xfer-h">
    <h2 id="xfer-h">${esc(t('xfer_title'))}</h2>
    <p class="muted">${esc(t('xfer_intro'))}</p>
    <fieldset class="urgency"><legend>${esc(t('urgency_q'))}</legend>${urg}</fieldset>
    <p class="acuterule" id="xfer-acute" role="alert"${f.urgency === 'acute' ? '' : ' hidden'}>⚠ ${esc(t('xfer_acute_rule'))}</p>
    <div id="xfer-rest"${f.urgency === 'acute' ? ' hidden' : ''}>
      <label class="field"><span>${esc(t('need'))}</span><select name="category">${options(CATS, c => t('cat_' + c).replace('\u00ad', ''), f.cat)}</select></label>
      <label class="field"><span>${esc(t('request_type_q'))}</span><select name="request_type">${options(TYPES, r => t('rt_' + r), f.type, t('xfer_choose'))}</select></label>
      <label class="field"><span>${esc(t('ga_q'))}</span><select name="band">${options(BANDS, b => b.replace('>=', '≥'), f.band, t('not_given'))}</select></label>
      <label class="field"><span>${esc(t('xfer_from'))}</span><select name="place">${options(places, p => (p === 'gps' ? t('my_location') : p), f.place, f.place ? null : t('xfer_choose'))}</select></label>
      <fieldset class="wards" id="xfer-wards"><legend>${esc(t('xfer_wards', { n: MAX }))}</legend><div id="xfer-list"></div></fieldset>
    </div>
    <p class="error" id="xfer-error" role="alert">${esc(f.error)}</p>
    <div class="row">
      <button type="button" class="btn" id="xfer-close">${esc(t('cancel'))}</button>
      <button type="submit" class="btn primary big" id="xfer-send"${f.urgency === 'acute' ? ' hidden' : ''}>${esc(t('xfer_send', { n: f.picked.size }))}</button>
    </div>
  </form>`;
}

function paintWards() {
  const f = x && x.form, box = x && x.root.querySelector('#xfer-list');
  if (!f || !box) return;
  const send = x.root.querySelector('#xfer-send');
  send.textContent = t('xfer_send', { n: f.picked.size });
  if (!origin(f.place)) { box.innerHTML = `<p class="muted">${esc(t('xfer_need_place'))}</p>`; return; }
  if (!f.proposal) { box.innerHTML = `<p class="muted">${esc(t('xfer_searching'))}</p>`; return; }
  if (!f.proposal.length) { box.innerHTML = `<p class="warn">${esc(t('xfer_no_wards'))}</p>`; return; }
  // The checked ones always show, then the nearest up to SHOWN (all once she asks for more).
  const list = f.more ? f.proposal : f.proposal.filter((w, i) => i < SHOWN || f.picked.has(w.facility_id));
  const full = f.picked.size >= MAX;
  box.innerHTML = `<ul class="wardpick">${list.map(w => {
    const on = f.picked.has(w.facility_id);
    return `<li><label class="opt"><input type="checkbox" name="ward" value="${esc(w.facility_id)}"${on ? ' checked' : ''}${!on && full ? ' disabled' : ''}>
      <span>${esc(t('xfer_ward_line', { name: w.name, city: w.city, min: w.minutes, n: w.available }))}</span></label></li>`;
  }).join('')}</ul>${full ? `<p class="muted">${esc(t('xfer_max', { n: MAX }))}</p>` : ''}
  ${!f.more && f.proposal.length > list.length ? `<button type="button" class="btn small" id="xfer-more">${esc(t('xfer_more'))}</button>` : ''}`;
}

function wireForm(form) {
  const f = x.form;
  form.addEventListener('change', ev => {
    const el = ev.target;
    f.error = '';
    form.querySelector('#xfer-error').textContent = '';
    if (el.name === 'urgency') {
      f.urgency = el.value;
      const acute = f.urgency === 'acute';
      form.querySelector('#xfer-acute').hidden = !acute;
      form.querySelector('#xfer-rest').hidden = acute;
      form.querySelector('#xfer-send').hidden = acute;
    } else if (el.name === 'category') { f.cat = el.value; propose(); }
    else if (el.name === 'place') { f.place = el.value; propose(); }
    else if (el.name === 'request_type') f.type = el.value;
    else if (el.name === 'band') f.band = el.value;
    else if (el.name === 'ward') {
      if (el.checked && f.picked.size < MAX) f.picked.add(el.value); else f.picked.delete(el.value);
      const focused = el.value;
      paintWards();
      const again = form.querySelector(`input[name=ward][value="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  });
  form.addEventListener('click', ev => {
    if (ev.target.closest('#xfer-more')) { f.more = true; paintWards(); }
    if (ev.target.closest('#xfer-close')) { x.form = null; render(); x.root.closest('.mw').querySelector('#xfer-open').focus(); }
  });
  form.addEventListener('submit', send);
}

async function send(ev) {
  ev.preventDefault();
  const f = x.form, form = ev.target, err = form.querySelector('#xfer-error');
  if (f.urgency === 'acute') return;  // the standing rule: nothing is sent
  const where = origin(f.place);
  const problem = !f.urgency ? 'xfer_need_urgency' : !f.type ? 'xfer_need_type' : !where ? 'xfer_need_place'
    : !f.picked.size ? 'xfer_need_ward' : null;
  if (problem) { err.textContent = t(problem); return; }
  const btn = form.querySelector('#xfer-send');
  btn.disabled = true;
  // In the order proposed (nearest first), as she sees them.
  const facilities = f.proposal.map(w => w.facility_id).filter(id => f.picked.has(id));
  const body = { category: f.cat, request_type: f.type, ga_band: f.band || null, urgency: f.urgency, ...where, facilities };
  try {
    const r = await api('/api/v1/transfers', { method: 'POST', body });
    if (!x) return;
    localStorage.setItem('cap.rtype', f.type);
    x.requests.set(r.id, r);
    follow([...followed(), r.id]);
    x.form = null;
    startLive();
    render();
    x.env.ctx.toast(t('xfer_sent', { n: r.offers.length }));
    const card = x.root.querySelector(`[data-request="${r.id}"]`);
    if (card) { card.scrollIntoView({ block: 'start' }); card.querySelector('h2').focus({ preventScroll: true }); }
  } catch (e) {
    if (!x) return;
    btn.disabled = false;
    err.textContent = e.offline ? t('offline_save') : t('error', { msg: e.message });
  }
}

// ---- her requests, live -----------------------------------------------------------------------

function offerState(o) {
  if (o.status === 'pending') return t('os_pending', { left: left(o.deadline_at) });
  if (o.status === 'declined') return t('os_declined', { reason: t('r_' + o.reason) });
  return t('os_' + o.status);
}

function requestHtml(r) {
  const facts = [t('rt_' + r.request_type), r.ga_band ? `${r.ga_band.replace('>=', '≥')} ${t('weeks')}` : null, t('u_' + r.urgency)].filter(Boolean);
  const status = r.status === 'placed' ? t('xs_placed', { name: nameOf(r.placed_facility_id) }) : t('xs_' + r.status);
  let call = '';
  if (r.status === 'placed') {
    const name = nameOf(r.placed_facility_id);
    call = r.placed_phone
      ? `<p class="xcallnote">${esc(t('xfer_call_note'))}</p><a class="btn call big xcall" href="tel:${esc(r.placed_phone.replace(/[^+\d]/g, ''))}">${ICO} ${esc(t('xfer_call', { name, phone: r.placed_phone }))}</a>`
      : `<p class="warn">${esc(t('xfer_no_phone'))}</p>`;
  }
  const offers = r.offers.map(o => `<li data-offer="${esc(o.facility_id)}" data-state="${o.status}" class="xo s-${o.status}">
      <span class="xname">${esc(nameOf(o.facility_id))}</span>
      <span class="xst"${o.status === 'pending' ? ` data-deadline="${esc(o.deadline_at)}"` : ''}>${esc(offerState(o))}</span></li>`).join('');
  const open = r.status === 'open' || r.status === 'exhausted';
  const buttons = [
    r.status === 'exhausted' ? `<button type="button" class="btn primary" data-further="${r.id}">${esc(t('xfer_further'))}</button>` : '',
    open ? `<button type="button" class="btn" data-cancel="${r.id}">${esc(t('xfer_cancel'))}</button>` : '',
    open ? '' : `<button type="button" class="btn" data-dismiss="${r.id}">${esc(t('close'))}</button>`,
  ].join('');
  return `<article class="xreq pad" data-request="${r.id}" data-status="${r.status}" aria-labelledby="xr-${r.id}">
    <h2 id="xr-${r.id}" tabindex="-1">${esc(t('xfer_req_title', { cat: t('cat_' + r.category).replace('\u00ad', '') }))}</h2>
    <p class="muted">${esc(facts.join(' · '))}</p>
    <p class="xstatus" role="status">${esc(status)}</p>${call}
    <ul class="xoffers">${offers}</ul>
    <div class="row">${buttons}</div></article>`;
}

function render() {
  if (!x || !x.root || !x.root.isConnected) return;
  const reqs = [...x.requests.values()].filter(r => followed().includes(r.id)).sort((a, b) => b.id - a.id);
  const focused = x.root.contains(document.activeElement) ? document.activeElement : null;
  const keepForm = x.form && focused && focused.closest('#xfer-form');
  if (!keepForm) {
    x.root.innerHTML = (x.form ? formHtml() : '')
      + (reqs.length ? `<p class="conn" id="xfer-conn" role="status"></p><div class="xreqs">${reqs.map(requestHtml).join('')}</div>` : '');
    if (x.form) { wireForm(x.root.querySelector('#xfer-form')); paintWards(); }
  } else {
    // The form keeps its state while she fills it in; only the request list is redrawn.
    x.root.querySelectorAll('#xfer-conn, .xreqs').forEach(el => el.remove());
    x.root.insertAdjacentHTML('beforeend', reqs.length ? `<p class="conn" id="xfer-conn" role="status"></p><div class="xreqs">${reqs.map(requestHtml).join('')}</div>` : '');
  }
  const list = x.root.querySelector('.xreqs');
  if (list) list.addEventListener('click', onRequestClick);
  paintConn();
  if (focused && !focused.isConnected && focused.dataset) {
    const key = ['further', 'cancel', 'dismiss'].find(k => focused.dataset[k]);
    const again = key && x.root.querySelector(`[data-${key}="${focused.dataset[key]}"]`);
    (again || x.root.querySelector(`#xr-${focused.dataset[key]}`) || x.root).focus?.();
  }
}

function paintConn() {
  const el = x && x.root && x.root.querySelector('#xfer-conn');
  if (!el) return;
  const live = x.conn === 'live';
  el.dataset.state = live ? 'live' : 'offline';
  el.className = `conn ${live ? 'live' : 'offline'}`;
  el.textContent = live ? `● ${t('xfer_live')}` : `⚠ ${t('xfer_not_live')}`;
}

function tick() {
  if (!x || !x.root) return;
  for (const el of x.root.querySelectorAll('[data-deadline]')) {
    el.textContent = t('os_pending', { left: left(el.dataset.deadline) });
  }
}

async function onRequestClick(ev) {
  const b = ev.target.closest('[data-cancel], [data-further], [data-dismiss]');
  if (!b) return;
  const mine = x;
  if (b.dataset.dismiss) {
    const id = Number(b.dataset.dismiss);
    x.requests.delete(id);
    follow(followed().filter(i => i !== id));
    render();
    return;
  }
  b.disabled = true;
  try {
    let r;
    if (b.dataset.cancel) {
      r = await api(`/api/v1/transfers/${b.dataset.cancel}/cancel`, { method: 'POST' });
      if (x === mine) x.env.ctx.toast(t('xfer_cancelled'));
    } else {
      r = await further(x.requests.get(Number(b.dataset.further)));
      if (!r) { if (x === mine) { b.disabled = false; x.env.ctx.toast(t('xfer_further_none')); } return; }
    }
    if (x !== mine) return;
    x.requests.set(r.id, r);
    render();
  } catch (e) {
    if (x !== mine) return;
    b.disabled = false;
    x.env.ctx.toast(e.offline ? t('offline_save') : t('error', { msg: e.message }));
  }
}

// The next wards of a new proposal from the same origin, none asked before.
async function further(r) {
  const where = r.origin_city ? { city: r.origin_city } : { lat: r.origin_lat, lon: r.origin_lon };
  const p = await api(`/api/v1/transfers/proposal?${new URLSearchParams({ category: r.category, ...where })}`);
  for (const w of p.wards) x.names[w.facility_id] = w.name;
  const asked = new Set(r.offers.map(o => o.facility_id));
  const next = p.wards.map(w => w.facility_id).filter(id => !asked.has(id)).slice(0, FIRST);
  if (!next.length) return null;
  return api(`/api/v1/transfers/${r.id}/offers`, { method: 'POST', body: { facilities: next } });
}
