// Thin fetch wrapper: bearer token, JSON, and errors that know which field they name.
import { lang } from './i18n.js';
const KEY = 'cap.session';

export const session = {
  get() {
    try {
      const s = JSON.parse(localStorage.getItem(KEY));
      return s && s.exp > Date.now() ? s : null;
    } catch { return null; }
  },
  set(s) { localStorage.setItem(KEY, JSON.stringify(s)); },
  clear() { localStorage.removeItem(KEY); },
};

// The service no longer takes the token (expired, revoked, the account deactivated): forget it and
// show the login screen, which says why. Never retried with the same token. A newer token stored
// meanwhile (a password change in another tab) is kept.
export function signedOut(token) {
  const s = session.get();
  if (!token || !s || s.token === token) session.clear();
  window.dispatchEvent(new Event('cap:logout'));
}

// A password change revokes every older token at once, and the service may close this page's
// streams (4401) or refuse a request (401) before its answer with the new token arrives. So a
// refused token means "signed out" only once the change under way (if any) has settled and no
// newer token replaced it.
let changing = null;
async function replaced(token) {
  if (changing) await changing;
  const s = session.get();
  return !!s && s.token !== token;
}
// The token was refused: true if a newer one replaced it (carry on with that), else signed out.
export async function refused(token) {
  if (await replaced(token)) return true;
  signedOut(token);
  return false;
}
// Another tab stored a new token (its password change): this one's streams follow it.
window.addEventListener('storage', e => {
  if (e.key === KEY && e.newValue) window.dispatchEvent(new Event('cap:token'));
});

export class ApiError extends Error {
  constructor(status, data) {
    const msg = status === 0 ? 'offline'
      : (data && (data.message || (typeof data.detail === 'string' ? data.detail : null))) || `HTTP ${status}`;
    super(msg);
    this.status = status;
    this.data = data;  // the answer's body (a 412 carries the current entry)
    this.fields = {};  // "categories.delivery_room.available" -> message
    if (data && Array.isArray(data.detail)) {
      for (const d of data.detail) {
        const key = (d.loc || []).filter(p => !['body', 'query', 'path'].includes(p)).join('.');
        this.fields[key] = d.msg;
      }
    }
  }
  get offline() { return this.status === 0; }
}

export async function api(path, opts = {}) {
  const { method = 'GET', body, form, raw, headers: extra, change } = opts;
  const s = session.get();
  // The service words its errors (message, each field's msg) in the language of the screen.
  const headers = { 'Accept-Language': lang, ...extra };
  if (s) headers.Authorization = `Bearer ${s.token}`;
  let payload;
  if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  if (form) payload = new URLSearchParams(form);
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, cache: 'no-store' });
  } catch {
    throw new ApiError(0, null);
  }
  if (res.status === 401 && s) {
    // Refused only because a password change replaced the token: nothing happened, send it again.
    if (!change && await replaced(s.token)) return api(path, opts);
    signedOut(s.token);
  }
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, data);
  }
  if (raw) return res;
  if (res.status === 204) return null;
  return res.json();
}

function keep(d) {
  const s = {
    token: d.access_token, exp: Date.now() + (d.expires_in - 30) * 1000,
    role: d.role, username: d.username, facility_id: d.facility_id, region_id: d.region_id,
  };
  session.set(s);
  return s;
}

export async function login(username, password) {
  return keep(await api('/api/v1/auth/token', { method: 'POST', form: { username, password } }));
}

// The account's own new password. The answer's token replaces the stored one (every older token
// is revoked); open streams reconnect with it on 'cap:token'.
export function changePassword(current, next) {
  const run = (async () => {
    const body = { current_password: current, new_password: next };
    const s = keep(await api('/api/v1/auth/password', { method: 'POST', body, change: true }));
    window.dispatchEvent(new Event('cap:token'));
    return s;
  })();
  const mine = run.catch(() => null).finally(() => { if (changing === mine) changing = null; });
  changing = mine;
  return run;
}

// Small persistent cache for the last known picture and reference data (offline use).
export const store = {
  get(k) { try { return JSON.parse(localStorage.getItem('cap.c.' + k)); } catch { return null; } },
  set(k, v) { try { localStorage.setItem('cap.c.' + k, JSON.stringify(v)); } catch { /* full */ } },
};
