// Records on their way to the service. Each is kept on this device (localStorage) before it is
// sent, with a random key made when she tapped; without a connection it waits ("wacht op
// verbinding") and goes by itself when the phone is back online, at app start and when the live
// stream connects. Never twice: the service answers a repeated key with the record it stored.
// The queue survives a sign-out (nothing in it names the woman) and is sent only for its account.
import { t, esc } from './i18n.js';
import { api, session, store } from './api.js';

const KEY = 'cap.outbox';
const LOCK = 'cap.outbox';
const RETRY_MS = 60e3;

// A random UUID (version 4) from the browser's CSPRNG; also where crypto.randomUUID is missing.
export function uuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map(x => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const who = () => session.get()?.username;
function all() { try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch { return []; } }
function write(items) { localStorage.setItem(KEY, JSON.stringify(items)); render(); }
function keep(item) { write([...all().filter(x => x.key !== item.key), item]); }
function drop(key) { write(all().filter(x => x.key !== key)); }
// The signed-in account's records still on this device, oldest first.
export function pending() { const w = who(); return w ? all().filter(x => x.who === w) : []; }

// One search's token (a few hours); issued by the service, valid for its own account only.
const SEARCH_MS = 3 * 3600e3;
async function episode(fresh = false) {
  const e = store.get('episode');
  if (!fresh && e && e.who === who() && Date.now() - e.at < SEARCH_MS && Date.parse(e.expires_at) > Date.now() + 60e3) return e.token;
  const d = await api('/api/v1/episodes', { method: 'POST' });
  store.set('episode', { token: d.episode, expires_at: d.expires_at, who: who(), at: Date.now() });
  return d.episode;
}

// Worth another try later: no network, the service away or busy, or signed out meanwhile.
const transient = e => e.offline || e.status >= 500 || [401, 408, 429].includes(e.status);
// One sender per device at a time, across tabs: a record is never in flight twice from here.
const locked = fn => (navigator.locks ? navigator.locks.request(LOCK, fn) : fn());

async function send(item) {
  if (!all().some(x => x.key === item.key)) return null;  // sent (or removed) by another tab
  if (!item.body.episode) { item.body.episode = await episode(); keep(item); }
  try {
    return await api('/api/v1/refusals', { method: 'POST', body: item.body });
  } catch (e) {
    if (!(e.status === 422 && e.fields && 'episode' in e.fields)) throw e;
    item.body.episode = await episode(true);  // expired while waiting, or from another sign-in
    keep(item);
    return api('/api/v1/refusals', { method: 'POST', body: item.body });
  }
}

function sent(item, rec) {
  drop(item.key);
  const mine = (store.get('mine') || []).filter(m => m.id !== rec.id);
  mine.unshift({ ...rec, facility_name: item.name });
  store.set('mine', mine.slice(0, 50));
  window.dispatchEvent(new CustomEvent('cap:outbox', { detail: { sent: rec } }));
}

// Record now: on the device first, then sent. {rec} once stored, {queued: true} when it waits.
export async function submit(body, name) {
  const item = { key: body.client_key, who: who(), at: Date.now(), name, body };
  keep(item);
  try {
    const rec = await locked(() => send(item));
    if (rec) sent(item, rec);
    return { rec };
  } catch (e) {
    if (transient(e)) return { queued: true };
    drop(item.key);
    throw e;
  }
}

// Send what waits. A record the service refuses for good (a 4xx) stays, marked, until she
// removes it: nothing leaves the queue unseen.
let running = null;
export function flush() {
  if (!running) running = run().finally(() => { running = null; });
  return running;
}
async function run() {
  if (!who() || !pending().some(x => !x.failed)) return render();
  let n = 0;
  await locked(async () => {
    for (const item of pending()) {
      if (item.failed) continue;
      try {
        const rec = await send(item);
        if (rec) { sent(item, rec); n += 1; }
      } catch (e) {
        if (transient(e)) break;
        keep({ ...item, failed: e.message });
      }
    }
  });
  render(n);
}

// Remove a record that waits (or was refused); false when it had already gone to the service.
export function remove(key) {
  return locked(() => {
    const there = all().some(x => x.key === key);
    drop(key);
    return there;
  });
}

// Those the service already holds (their answer was lost): no longer waiting.
export function arrived(keys) {
  const got = new Set(keys);
  if (all().some(x => got.has(x.key))) write(all().filter(x => !got.has(x.key)));
}

// Undo a stored record (the service allows 15 minutes); the device's copy goes with it.
export async function undo(id) {
  await api(`/api/v1/refusals/${encodeURIComponent(id)}`, { method: 'DELETE' });
  store.set('mine', (store.get('mine') || []).filter(m => m.id !== id));
  window.dispatchEvent(new CustomEvent('cap:outbox', { detail: { undone: id } }));
}

// Why an undo did not happen, in her words.
export function undoProblem(e) {
  if (e.offline) return t('undo_offline');
  if (e.status === 409) return t('undo_too_late');
  if (e.status === 404) return t('undo_gone');
  return t('error', { msg: e.message });
}

// A line above every screen while records wait; "sent" for a moment when they went.
function render(justSent = 0) {
  let el = document.getElementById('outbox');
  if (!el) {
    const view = document.getElementById('view');
    if (!view) return;
    el = document.createElement('p');
    el.id = 'outbox';
    el.className = 'outbox';
    el.setAttribute('role', 'status');
    view.before(el);
  }
  const waiting = pending();
  const failed = waiting.filter(x => x.failed).length;
  clearTimeout(render.timer);
  if (waiting.length) {
    const text = waiting.length - failed ? t(waiting.length - failed === 1 ? 'queued_one' : 'queued_n', { n: waiting.length - failed }) : t('queued_failed');
    el.innerHTML = `<a href="#/mine">${esc(text)}</a>`;
    el.dataset.state = failed === waiting.length ? 'failed' : 'waiting';
  } else if (justSent) {
    el.textContent = t('queued_sent', { n: justSent });
    el.dataset.state = 'sent';
    render.timer = setTimeout(render, 6000);
  } else {
    el.textContent = '';
    el.dataset.state = 'empty';
  }
  el.hidden = el.dataset.state === 'empty';
}

window.addEventListener('online', flush);
window.addEventListener('cap:live', flush);
window.addEventListener('cap:logout', () => render());
window.addEventListener('storage', e => { if (e.key === KEY) render(); });
setInterval(() => { if (navigator.onLine && pending().length) flush(); }, RETRY_MS);
flush();
