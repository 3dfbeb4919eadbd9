// The bell in the header: the unread count of her in-app alerts, live over /ws/alerts; a toast (and
// a short vibration) when one arrives. The inbox itself is the lazy module alerts.js.
import { t } from './i18n.js';
import { session, refused } from './api.js';

const CLOSE_BAD_TOKEN = 4401;
const SILENCE_MS = 34000;  // the service pings every 25 s at most: longer silence is a dead link
export const inbox = { unread: 0, alerts: [], live: false };  // alerts: newest first, one per id

let ws = null, timer = null, watchdog = null, failures = 0, ui = null;
const button = () => document.getElementById('bell');

function tell(kind, alert) { window.dispatchEvent(new CustomEvent('cap:alerts', { detail: { kind, alert } })); }

export function alertText(a) {
  const text = (a.payload && a.payload.text) || {};
  return text[document.documentElement.lang === 'en' ? 'en' : 'nl'] || text.nl || text.en || a.rule;
}

// The badge and the button's name (a screen reader hears the count, not a bare number).
export function paint() {
  const b = button();
  if (!b) return;
  const n = inbox.unread;
  b.setAttribute('aria-label', n ? t('al_bell_n', { n }) : t('al_bell'));
  b.title = b.getAttribute('aria-label');
  b.dataset.live = inbox.live;  // the count is the service's (tests wait for it)
  const badge = document.getElementById('bell-count');
  badge.textContent = n > 99 ? '99+' : String(n);
  badge.hidden = n === 0;
}

// The inbox marked alerts read (alerts.js): the count follows at once.
export function markedRead(ids) {
  for (const a of inbox.alerts) if (ids.includes(a.id) && !a.read_at) a.read_at = new Date().toISOString();
  inbox.unread = Math.max(0, inbox.unread - ids.length);
  paint();
}

function received(msg, ctx) {
  if (msg.type === 'snapshot') {
    inbox.unread = msg.unread;
    inbox.alerts = msg.alerts;
    tell('snapshot');
  } else if (msg.type === 'alert') {
    const a = msg.alert;
    if (inbox.alerts.some(x => x.id === a.id)) return;  // already in the snapshot
    inbox.alerts.unshift(a);
    if (!a.read_at) inbox.unread += 1;
    tell('alert', a);
    ctx.toast(alertText(a), 8000, { label: t('al_open'), run: () => openInbox(ctx) });
    ctx.announce(alertText(a));
    // Vibration only after she has touched the page (the browser refuses it before, noisily).
    if (navigator.vibrate && navigator.userActivation && navigator.userActivation.hasBeenActive) navigator.vibrate([120, 80, 120]);
  }
  paint();
}

export function openInbox(ctx) { import('./alerts.js').then(m => m.openAlerts(ctx)); }

function connect(ctx) {
  const s = session.get();
  if (!s || ws) return;
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const sock = new WebSocket(`${proto}://${location.host}/ws/alerts?token=${encodeURIComponent(s.token)}`);
  sock.token = s.token;
  ws = sock;
  const quiet = () => { clearTimeout(watchdog); watchdog = setTimeout(() => sock.close(), SILENCE_MS); };
  quiet();
  sock.onmessage = e => {
    quiet();
    failures = 0;
    inbox.live = true;
    try { received(JSON.parse(e.data), ctx); } catch { /* not ours to break the page */ }
  };
  sock.onclose = async e => {
    clearTimeout(watchdog);
    if (ws !== sock) return;
    ws = null;
    inbox.live = false;
    tell('state');
    paint();
    if (e.code === CLOSE_BAD_TOKEN && !(await refused(sock.token))) return;  // signed out
    failures += 1;
    clearTimeout(timer);
    timer = setTimeout(() => connect(ctx), Math.min(30000, 1000 * 2 ** Math.min(failures, 5)));
  };
}

function stop() {
  clearTimeout(timer);
  clearTimeout(watchdog);
  if (ws) { const sock = ws; ws = null; sock.onclose = null; sock.close(); }
  inbox.unread = 0; inbox.alerts = []; inbox.live = false;
}

// Called on every screen change: signed in, the bell shows and listens; signed out, it goes.
export function syncBell(ctx) {
  const s = session.get();
  const b = button();
  b.hidden = !s;
  if (!ui) {
    ui = ctx;
    b.addEventListener('click', () => openInbox(ui));
    window.addEventListener('cap:token', () => { if (ws && session.get() && ws.token !== session.get().token) { stop(); connect(ui); } });
    window.addEventListener('online', () => { if (!ws && session.get()) { failures = 0; connect(ui); } });
  }
  if (!s) { stop(); paint(); return; }
  if (ws && ws.token !== s.token) stop();  // another account signed in on this phone
  connect(ctx);
  paint();
}
