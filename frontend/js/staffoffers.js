// The ward's incoming transfer requests (issue 13), live from WS /ws/offers: each new one beeps
// (Web Audio), vibrates where the phone can, and shows a notification where the person allowed
// them (asked only on a tap). Accept or decline with a reason (the refusal sheet's words) before
// the deadline. The first accept of any ward wins: the others see "Ingetrokken" at once, and an
// accept that lost the race says the request is already placed elsewhere.
import { t, esc } from './i18n.js';
import { api } from './api.js';
import { OfferLive, left } from './offerlive.js';

const REASONS = ['no_bed', 'no_nurse', 'no_obstetrician', 'neonatal_full', 'stop', 'other'];
// o: {box, fid, ctx, offers: Map id -> offer, local: Map id -> busy|declining|lost, reason: {}, live, conn}
let o = null;

// Only ward staff have a stream of offers (an admin looking at a ward does not answer for it).
export function mountOffers(box, fid, ctx) {
  if (ctx.session.role !== 'facility_staff' || ctx.session.facility_id !== fid) { box.hidden = true; return; }
  if (!o || o.fid !== fid) {
    stopOffers();
    o = { fid, ctx, offers: new Map(), local: new Map(), reason: {}, conn: 'connecting', seen: new Set() };
    const mine = o;
    o.live = new OfferLive(m => { if (o === mine) onMessage(m); }, s => { if (o === mine) { o.conn = s; paintConn(); } }).start();
    o.tick = setInterval(tick, 1000);
  }
  o.box = box;
  o.ctx = ctx;
  box.hidden = false;
  render();
}

export function stopOffers() {
  if (!o) return;
  o.live.stop();
  clearInterval(o.tick);
  o = null;
}

function onMessage(m) {
  if (m.type === 'snapshot') {
    // Pending offers now; the answered ones shown before stay until closed.
    for (const off of m.offers) o.offers.set(off.id, off);
    for (const [id, off] of o.offers) {
      if (off.status === 'pending' && !m.offers.some(x => x.id === id)) o.offers.delete(id);
    }
    alert(m.offers);
    render();
  } else if (m.type === 'offer') {
    const before = o.offers.get(m.offer.id);
    o.offers.set(m.offer.id, m.offer);
    if (!before) alert([m.offer]);
    else if (before.status !== m.offer.status) o.ctx.announce(`${t('offer_new', { cat: catName(m.offer.category) })}: ${resultText(m.offer)}`);
    render();
  }
}

function catName(c) { return t('cat_' + c).replace('\u00ad', ''); }

// ---- attention: sound, vibration, notification -------------------------------------------------

function alert(offers) {
  const fresh = offers.filter(x => x.status === 'pending' && !o.seen.has(x.id));
  fresh.forEach(x => o.seen.add(x.id));
  if (!fresh.length) return;
  const text = t('offer_new', { cat: catName(fresh[0].category) });
  o.ctx.announce(text);
  // Browsers allow sound and vibration only after the person touched the page (signing in does).
  const touched = !navigator.userActivation || navigator.userActivation.hasBeenActive;
  if (touched) { beep(); if (navigator.vibrate) navigator.vibrate([300, 150, 300]); }
  if ('Notification' in window && Notification.permission === 'granted') {
    try {
      new Notification(text, { body: facts(fresh[0]), tag: `offer-${fresh[0].id}`, requireInteraction: true });
    } catch { /* some phones only notify from a service worker */ }
  }
}

function beep() {
  try {
    const ac = beep.ac || (beep.ac = new AudioContext());
    if (ac.state === 'suspended') ac.resume();
    for (const at of [0, 0.45]) {
      const osc = ac.createOscillator(), gain = ac.createGain();
      osc.type = 'square';
      osc.frequency.value = 880;
      gain.gain.value = 0.15;
      osc.connect(gain);
      gain.connect(ac.destination);
      osc.start(ac.currentTime + at);
      osc.stop(ac.currentTime + at + 0.3);
    }
  } catch { /* no sound on this device */ }
}

// ---- drawing -----------------------------------------------------------------------------------

function facts(off) {
  return [
    t('rt_' + off.request_type),
    off.ga_band ? `${off.ga_band.replace('>=', '≥')} ${t('weeks')}` : null,
    t('u_' + off.urgency),
  ].filter(Boolean).join(' · ');
}

function state(off) {
  const local = o.local.get(off.id);
  if (local === 'lost') return 'lost';
  if (off.status !== 'pending') return off.status;
  return local || 'pending';
}

function resultText(off) {
  const s = state(off);
  if (s === 'accepted') return t('offer_won');
  if (s === 'declined') return t('offer_declined', { reason: t('r_' + off.reason) });
  return s === 'lost' || s === 'withdrawn' || s === 'expired' ? t('offer_' + s) : '';
}

function offerHtml(off) {
  const s = state(off), open = s === 'pending' || s === 'busy' || s === 'declining';
  const when = [off.minutes != null ? t('offer_minutes', { min: off.minutes }) : null];
  const deadline = open ? ` · <span data-deadline="${esc(off.deadline_at)}">${esc(t('offer_left', { left: left(off.deadline_at) }))}</span>` : '';
  const busy = s === 'busy' ? ' disabled' : '';
  const buttons = open ? `<div class="row">
      <button type="button" class="btn primary big" data-accept="${off.id}"${busy}>${esc(t('offer_accept'))}</button>
      <button type="button" class="btn big" data-decline="${off.id}"${busy} aria-expanded="${s === 'declining'}">${esc(t('offer_decline'))}</button></div>` : '';
  const reasons = s === 'declining' ? `<fieldset class="reasons"><legend>${esc(t('reason_q'))}</legend>
      ${REASONS.map(r => `<label class="opt"><input type="radio" name="reason-${off.id}" value="${r}"${o.reason[off.id] === r ? ' checked' : ''}><span>${esc(t('r_' + r))}</span></label>`).join('')}</fieldset>
      <p class="error" role="alert" id="oerr-${off.id}"></p>
      <button type="button" class="btn danger big" data-send-decline="${off.id}">${esc(t('offer_decline_send'))}</button>` : '';
  const result = open ? '' : `<p class="oresult" role="status">${esc(resultText(off))}</p>
      <button type="button" class="btn small" data-dismiss="${off.id}">${esc(t('close'))}</button>`;
  return `<li class="offer" data-offer="${off.id}" data-state="${s}">
    <p class="ofacts"><strong>${esc(catName(off.category))}</strong> · ${esc(facts(off))}</p>
    <p class="owhen">${esc(when.filter(Boolean).join(''))}${deadline}</p>
    ${buttons}${reasons}${result}</li>`;
}

function render() {
  if (!o || !o.box || !o.box.isConnected) return;
  const focused = o.box.contains(document.activeElement) ? document.activeElement : null;
  const list = [...o.offers.values()].sort((a, b) => a.id - b.id);
  const ask = 'Notification' in window && Notification.permission === 'default'
    ? `<button type="button" class="btn small" id="offers-notify">${esc(t('offers_notify'))}</button>` : '';
  o.box.innerHTML = `<h2 id="offers-h">${esc(t('offers_h'))}</h2>
    <p class="conn" id="offers-conn" role="status"></p>${ask}
    ${list.length ? `<ul class="offers">${list.map(offerHtml).join('')}</ul>` : `<p class="muted">${esc(t('offers_none'))}</p>`}`;
  o.box.onclick = onClick;
  o.box.onchange = ev => { const m = /^reason-(\d+)$/.exec(ev.target.name); if (m) o.reason[m[1]] = ev.target.value; };
  paintConn();
  // The same control keeps focus across a redraw; else the offer's result, else the heading.
  if (focused && !focused.isConnected) {
    const li = focused.closest('[data-offer]');
    const sel = focused.id ? '#' + CSS.escape(focused.id)
      : [...focused.attributes].filter(a => a.name.startsWith('data-')).map(a => `[${a.name}="${CSS.escape(a.value)}"]`).join('');
    const again = (sel && o.box.querySelector(sel))
      || (li && o.box.querySelector(`[data-offer="${li.dataset.offer}"] button`)) || o.box.querySelector('#offers-h');
    if (again) { if (again.tagName === 'H2') again.tabIndex = -1; again.focus(); }
  }
}

function paintConn() {
  const el = o && o.box && o.box.querySelector('#offers-conn');
  if (!el) return;
  const live = o.conn === 'live';
  el.dataset.state = live ? 'live' : 'offline';
  el.className = `conn ${live ? 'live' : 'offline'}`;
  el.textContent = live ? `● ${t('offers_live')}` : `⚠ ${t('offers_not_live')}`;
}

function tick() {
  if (!o || !o.box) return;
  for (const el of o.box.querySelectorAll('[data-deadline]')) el.textContent = t('offer_left', { left: left(el.dataset.deadline) });
}

// ---- answers -----------------------------------------------------------------------------------

function onClick(ev) {
  const b = ev.target.closest('button');
  if (!b) return;
  if (b.id === 'offers-notify') {
    Notification.requestPermission().then(() => render()).catch(() => {});
    return;
  }
  const d = b.dataset;
  if (d.accept) accept(Number(d.accept));
  else if (d.decline) { o.local.set(Number(d.decline), o.local.get(Number(d.decline)) === 'declining' ? null : 'declining'); render(); }
  else if (d.sendDecline) decline(Number(d.sendDecline));
  else if (d.dismiss) { o.offers.delete(Number(d.dismiss)); o.local.delete(Number(d.dismiss)); render(); }
}

async function accept(id) {
  const mine = o;
  o.local.set(id, 'busy');
  render();
  try {
    const res = await api(`/api/v1/offers/${id}/accept`, { method: 'POST' });
    if (o !== mine) return;
    o.local.delete(id);
    o.offers.set(id, { ...o.offers.get(id), ...res.offer });
    o.ctx.announce(t('offer_won'));
  } catch (e) {
    if (o !== mine) return;
    if (e.status === 409) {
      // Too late: placed at another ward (or the request was cancelled, or the deadline passed).
      const off = o.offers.get(id);
      if (off && off.status === 'pending') off.status = 'withdrawn';
      o.local.set(id, off && off.status === 'expired' ? null : 'lost');
      o.ctx.announce(t('offer_lost'));
    } else {
      o.local.delete(id);
      o.ctx.toast(e.offline ? t('offline_save') : t('error', { msg: e.message }));
    }
  }
  render();
}

async function decline(id) {
  const mine = o, reason = o.reason[id];
  if (!reason) { o.box.querySelector(`#oerr-${id}`).textContent = t('offer_reason_needed'); return; }
  o.local.set(id, 'busy');
  render();
  try {
    const off = await api(`/api/v1/offers/${id}/decline`, { method: 'POST', body: { reason } });
    if (o !== mine) return;
    o.local.delete(id);
    o.offers.set(id, { ...o.offers.get(id), ...off });
  } catch (e) {
    if (o !== mine) return;
    if (e.status === 409) { o.local.set(id, 'lost'); } else {
      o.local.set(id, 'declining');
      o.ctx.toast(e.offline ? t('offline_save') : t('error', { msg: e.message }));
    }
  }
  render();
}
