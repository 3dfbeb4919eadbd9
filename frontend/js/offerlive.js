// The transfer stream (WS /ws/offers): a snapshot (a ward's pending offers, the asker's open
// requests), then each change: {type: 'offer'} for a ward, {type: 'transfer'} for the asker.
// Reconnects with a growing wait; every (re)connect starts with a fresh snapshot, so nothing is
// missed. A refused token signs out (or follows a newer one after a password change).
import { session, refused } from './api.js';

const CLOSE_BAD_TOKEN = 4401;
const CLOSE_FORBIDDEN = 4403;

export class OfferLive {
  constructor(onMessage, onState = () => {}) {
    Object.assign(this, { onMessage, onState });
    this.ws = null;
    this.closed = false;
    this.failures = 0;
    this.timer = null;
    this.state = 'connecting';
  }

  start() {
    this.connect();
    this.onOnline = () => { if (this.state !== 'live') this.reconnectNow(); };
    this.onToken = () => this.reconnectNow();
    window.addEventListener('online', this.onOnline);
    window.addEventListener('cap:token', this.onToken);
    return this;
  }

  stop() {
    this.closed = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('cap:token', this.onToken);
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
  }

  setState(s) { this.state = s; this.onState(s); }

  reconnectNow() {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.failures = 0;
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const s = session.get();
    if (!s) return;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${proto}://${location.host}/ws/offers?token=${encodeURIComponent(s.token)}`);
    ws.token = s.token;
    this.ws = ws;
    this.setState('connecting');
    ws.onmessage = ev => {
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      if (m.type === 'snapshot') { this.failures = 0; this.setState('live'); }
      this.onMessage(m);
    };
    ws.onclose = ev => {
      if (this.ws === ws) this.ws = null;
      if (this.closed) return;
      if (ev.code === CLOSE_FORBIDDEN) { this.stop(); return; }
      if (ev.code === CLOSE_BAD_TOKEN) {
        refused(ws.token).then(newer => { if (newer) this.reconnectNow(); else this.stop(); });
        return;
      }
      this.setState('offline');
      this.failures += 1;
      this.timer = setTimeout(() => this.connect(), Math.min(15000, 500 * 2 ** Math.min(this.failures, 5)));
    };
  }
}

// A deadline as "m:ss" left (0:00 once past).
export function left(iso, now = Date.now()) {
  const s = Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
