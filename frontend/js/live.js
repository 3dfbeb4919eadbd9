// The region's live stream: snapshot, then facility messages in seq order; reconnect with since.
// Falls back to polling the regional picture when the websocket cannot be used.
import { api, session, refused } from './api.js';

// The service's close code for a token it no longer accepts (expired, revoked, the account
// deactivated), at connect or on an open stream: sign in again rather than reconnect; unless a
// password change replaced the token, then go on with the new one.
const CLOSE_BAD_TOKEN = 4401;

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
  }

  stop() {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('cap:token', this.onToken);
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
    ws.onopen = () => { opened = true; this.failures = 0; this.kick(); };
    ws.onmessage = ev => {
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
      this.failures += 1;
      // Never opened several times in a row: the stream is not there; poll the picture meanwhile.
      if (!opened) this.refetch();
      const delay = Math.min(15000, 500 * 2 ** Math.min(this.failures, 5));
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  // No message (pings come every 30 s) for 45 s: the connection is dead even if not closed.
  kick() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => { if (this.ws) this.ws.close(); }, 45000);
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
