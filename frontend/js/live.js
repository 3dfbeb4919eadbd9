// The region's live stream: snapshot, then facility messages in seq order; reconnect with since.
// Falls back to polling the regional picture when the websocket cannot be used.
import { api, session, refused } from './api.js';

// The service's close code for a token it no longer accepts (expired, revoked, the account
// deactivated), at connect or on an open stream: sign in again rather than reconnect; unless a
// password change replaced the token, then go on with the new one.
const CLOSE_BAD_TOKEN = 4401;
// The server sends a message at least every 30 s (a ping when idle, docs/live-stream.md). Longer
// silence means the connection is dead, also when no close event comes (a half-open connection:
// a server that hangs, a phone between cells): the stream is dropped and said to be not live.
export const SILENCE_MS = 34000;

export class Live {
  constructor(region, { onSnapshot, onFacility, onState }) {
    Object.assign(this, { region, onSnapshot, onFacility, onState });
    this.seq = null;
    this.ws = null;
    this.closed = false;
    this.failures = 0;
    this.timer = null;
    this.watchdog = null;
    this.state = 'connecting';
    this.heardAt = null;  // ms: the last message from the server, the last moment known live
  }

  setState(s) {
    const was = this.state;
    this.state = s;
    this.onState(s);
    // Connected again: what waited for a connection (queued records, outbox.js) goes now.
    if (s === 'live' && was !== 'live') window.dispatchEvent(new Event('cap:live'));
  }

  start(seq) {
    this.seq = seq ?? null;
    this.connect();
    this.onOnline = () => { if (this.state !== 'live') this.reconnectNow(); };
    window.addEventListener('online', this.onOnline);
    this.onToken = () => this.renew();
    window.addEventListener('cap:token', this.onToken);
    // A hidden tab's timers are throttled: judge the silence again as soon as it is seen.
    this.onVisible = () => { if (!document.hidden && this.silent()) this.lost(); };
    document.addEventListener('visibilitychange', this.onVisible);
  }

  stop() {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('cap:token', this.onToken);
    document.removeEventListener('visibilitychange', this.onVisible);
    if (this.ws) { this.ws.onclose = null; this.ws.close(); }
  }

  // A new token (own password changed): the stream on the old one is about to be closed (4401);
  // leave it quietly and go on at once with the new one. From a snapshot, not since the last seq:
  // the snapshot shows the stream live at once (a replay of nothing new would say nothing).
  renew() {
    const s = session.get();
    if (this.closed || !s || (this.ws && this.ws.token === s.token)) return;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
    this.failures = 0;
    this.connect(true);
  }

  reconnectNow() { clearTimeout(this.timer); this.failures = 0; if (this.ws) this.ws.close(); else this.connect(); }

  connect(fresh = false) {
    if (this.closed) return;
    const s = session.get();
    if (!s) return;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    let url = `${proto}://${location.host}/ws/regions/${encodeURIComponent(this.region)}?token=${encodeURIComponent(s.token)}`;
    if (this.seq != null && !fresh) url += `&since=${this.seq}`;
    this.setState('connecting');
    let opened = false;
    const ws = new WebSocket(url);
    ws.token = s.token;
    this.ws = ws;
    this.kick();  // an opening handshake that hangs counts as silence too
    // Open is the server's answer: live from here. Resumed with since and nothing missed, the
    // next message may be a ping up to 30 s later.
    ws.onopen = () => {
      opened = true; this.failures = 0; this.heardAt = Date.now(); this.kick();
      if (this.state !== 'live') this.setState('live');
    };
    ws.onmessage = ev => {
      this.heardAt = Date.now();
      this.kick();
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      if (this.state !== 'live') this.setState('live');
      if (m.type === 'snapshot') {
        this.seq = m.seq;
        this.onSnapshot(m);
      } else if (m.type === 'facility') {
        if (this.seq != null && m.seq <= this.seq) return;
        this.seq = m.seq;
        this.onFacility(m.facility, m.seq);
      } else if (m.type === 'reset') {
        this.refetch();  // a snapshot may follow as well; either is fine
      }
    };
    ws.onclose = ev => {
      clearTimeout(this.watchdog);
      this.ws = null;
      if (this.closed) return;
      if (ev.code === CLOSE_BAD_TOKEN) {
        refused(ws.token).then(newer => {
          if (!newer) this.stop();
          else if (!this.ws) this.connect(true);  // not yet renewed on 'cap:token'
        });
        return;
      }
      this.retry(!opened);
    };
  }

  // Never opened: the stream is not there; poll the picture meanwhile, and try again later.
  retry(poll) {
    this.failures += 1;
    if (poll) this.refetch();
    const delay = Math.min(15000, 500 * 2 ** Math.min(this.failures, 5));
    this.timer = setTimeout(() => this.connect(), delay);
  }

  silent() { return !!this.ws && this.heardAt != null && Date.now() - this.heardAt > SILENCE_MS; }

  kick() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.lost(), SILENCE_MS);
  }

  // Nothing heard for too long: say so now, not when the browser gives up on the socket (a
  // close on a half-open connection waits for an answer that never comes); then reconnect.
  lost() {
    const ws = this.ws;
    if (!ws || this.closed) return;
    clearTimeout(this.watchdog);
    ws.onopen = ws.onmessage = ws.onclose = null;
    this.ws = null;
    try { ws.close(); } catch { /* already closing */ }
    this.setState('connecting');
    this.retry(true);
  }

  async refetch() {
    try {
      const res = await api(`/api/v1/regions/${encodeURIComponent(this.region)}/capacity`, { raw: true });
      const pic = await res.json();
      if (this.closed) return;
      // The service worker's last good copy (the network failed): a picture of that time, not live.
      const storedAt = res.headers.get('X-Cap-Stored-At');
      if (storedAt) {
        this.onSnapshot(pic, storedAt);
        if (!this.ws || this.ws.readyState !== 1) this.setState('offline');
        return;
      }
      if (this.seq != null && pic.seq < this.seq) return;  // the stream is already further
      this.seq = pic.seq;
      this.onSnapshot(pic, null);
      if (!this.ws || this.ws.readyState !== 1) this.setState('poll');
    } catch (e) {
      if (!this.closed && (!this.ws || this.ws.readyState !== 1)) this.setState('offline');
    }
  }
}
