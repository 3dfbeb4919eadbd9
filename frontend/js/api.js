// Thin fetch wrapper: bearer token, JSON, and errors that know which field they name.
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
// show the login screen, which says why. Never retried with the same token.
export function signedOut() {
  session.clear();
  window.dispatchEvent(new Event('cap:logout'));
}

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

export async function api(path, { method = 'GET', body, form, raw, headers: extra } = {}) {
  const s = session.get();
  const headers = { ...extra };
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
  if (res.status === 401 && s) signedOut();
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, data);
  }
  if (raw) return res;
  if (res.status === 204) return null;
  return res.json();
}

export async function login(username, password) {
  const d = await api('/api/v1/auth/token', { method: 'POST', form: { username, password } });
  const s = {
    token: d.access_token, exp: Date.now() + (d.expires_in - 30) * 1000,
    role: d.role, username: d.username, facility_id: d.facility_id, region_id: d.region_id,
  };
  session.set(s);
  return s;
}

// Small persistent cache for the last known picture and reference data (offline use).
export const store = {
  get(k) { try { return JSON.parse(localStorage.getItem('cap.c.' + k)); } catch { return null; } },
  set(k, v) { try { localStorage.setItem('cap.c.' + k, JSON.stringify(v)); } catch { /* full */ } },
};
