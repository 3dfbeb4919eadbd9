// The midwife's screen: one card per facility of the region, live, sorted by what she can use now.
import { t, ago, clock, esc, lang } from './i18n.js';
import { api, store } from './api.js';
import { Live } from './live.js';
import { trip, locate, ROAD_FACTOR, SPEED_KMH } from './geo.js';
import { openRefusal } from './refusal.js';

export const CATS = ['delivery_room', 'maternity_bed', 'obstetric_high_care', 'neonatal_high_care', 'nicu'];
const ICON = { green: '✓', orange: '!', red: '✕', stop: '⊘', unknown: '?' };
let st = null;

export async function mount(root, ctx) {
  st = {
    root, ctx, regions: store.get('regions') || [], facilities: store.get('facilities') || [],
    byId: {}, entries: {}, seq: null, region: null, pos: null, place: localStorage.getItem('cap.place') || 'gps',
    conn: 'connecting', confirmedAt: null, live: null, timer: null,
  };
  try {
    const [regions, facilities] = await Promise.all([api('/api/v1/regions'), api('/api/v1/facilities')]);
    st.regions = regions; st.facilities = facilities;
    store.set('regions', regions); store.set('facilities', facilities);
  } catch { /* offline: cached reference data */ }
  if (!st) return;
  for (const f of st.facilities) st.byId[f.id] = f;
  st.pos = placePos(st.place);
  st.region = localStorage.getItem('cap.region') || ctx.session.region_id || nearestRegion() || (st.regions[0] || {}).id;
  frame();
  loadCached();
  render();
  startLive();
  // Not live, nobody tells the page when a figure turns stale: it re-judges the ages itself.
  st.timer = setInterval(() => { if (st.conn === 'live') { renderConn(); updateAges(); } else render(); }, 30000);
  if (st.place === 'gps') {
    locate().then(p => {
      if (!st || st.place !== 'gps') return;
      st.pos = p;
      if (p && !localStorage.getItem('cap.region') && !ctx.session.region_id) {
        const r = nearestRegion();
        if (r && r !== st.region) { switchRegion(r, false); return; }
      }
      render();
    });
  }
}

export function unmount() {
  if (!st) return;
  if (st.live) st.live.stop();
  clearInterval(st.timer);
  st = null;
}

export function relabel() { frame(); render(); }

function placePos(place) {
  if (!place || place === 'gps') return null;
  const f = st.facilities.find(x => x.city === place);
  return f ? { lat: f.lat, lon: f.lon } : null;
}

function nearestRegion() {
  if (!st.pos || !st.facilities.length) return null;
  let best = null;
  for (const f of st.facilities) {
    const d = trip(st.pos, f).km;
    if (!best || d < best.d) best = { d, r: f.region };
  }
  return best && best.r;
}

function frame() {
  const cities = [...new Set(st.facilities.map(f => f.city))].sort((a, b) => a.localeCompare(b, 'nl'));
  st.root.innerHTML = `<div class="mw">
    <div class="controls pad">
      <label class="field"><span>${esc(t('region'))}</span>
        <select id="region">${st.regions.map(r => `<option value="${esc(r.id)}"${r.id === st.region ? ' selected' : ''}>${esc(r.name)}</option>`).join('')}</select></label>
      <label class="field"><span>${esc(t('position'))}</span>
        <select id="place"><option value="gps">${esc(t('my_location'))}</option>
        ${cities.map(c => `<option${c === st.place ? ' selected' : ''}>${esc(c)}</option>`).join('')}</select></label>
    </div>
    <div id="conn" class="conn" role="status"></div>
    <div id="warn" class="warn" role="alert" hidden></div>
    <ul id="cards" class="cards"></ul>
    <p class="note pad" id="dnote"></p>
  </div>`;
  st.root.querySelector('#region').addEventListener('change', e => switchRegion(e.target.value, true));
  st.root.querySelector('#place').addEventListener('change', e => {
    st.place = e.target.value;
    localStorage.setItem('cap.place', st.place);
    st.pos = placePos(st.place);
    render();
    if (st.place === 'gps') locate().then(p => { if (st) { st.pos = p; render(); } });
  });
  st.root.querySelector('#cards').addEventListener('click', onCardClick);
}

function switchRegion(region, chosen) {
  if (chosen) localStorage.setItem('cap.region', region);
  st.region = region;
  st.entries = {}; st.seq = null; st.confirmedAt = null;
  const sel = st.root.querySelector('#region');
  if (sel) sel.value = region;
  if (st.live) st.live.stop();
  loadCached();
  render();
  startLive();
}

function loadCached() {
  const c = store.get('pic.' + st.region);
  if (!c) return;
  st.seq = c.seq; st.confirmedAt = c.at;
  for (const e of c.facilities) st.entries[e.facility_id] = e;
}

// Bursts of changes are written once (debounced); a snapshot, and whatever is pending when the
// page goes away, is written at once, so a reload or lost signal never loses the last picture.
function writeCache() {
  clearTimeout(saveCache.t);
  if (!st || st.seq == null) return;
  store.set('pic.' + st.region, { seq: st.seq, at: st.confirmedAt, facilities: Object.values(st.entries) });
}

function saveCache() {
  clearTimeout(saveCache.t);
  saveCache.t = setTimeout(writeCache, 300);
}
addEventListener('pagehide', writeCache);

function startLive() {
  const region = st.region;
  st.live = new Live(region, {
    onSnapshot: (pic, storedAt) => {
      if (!st || st.region !== region) return;
      // An offline copy from the service worker only fills in when the page has nothing newer.
      if (storedAt && st.seq != null && pic.seq <= st.seq) return;
      st.entries = {};
      for (const e of pic.facilities) st.entries[e.facility_id] = e;
      st.seq = pic.seq; st.confirmedAt = storedAt || new Date().toISOString();
      writeCache(); render(); learnFacilities();
    },
    onFacility: (entry, seq) => {
      if (!st || st.region !== region) return;
      const before = st.entries[entry.facility_id];
      st.entries[entry.facility_id] = entry;
      st.seq = seq; st.confirmedAt = new Date().toISOString();
      saveCache();
      tell(before, entry);
      render(entry.facility_id);
      if (!st.byId[entry.facility_id]) learnFacilities();
    },
    onState: s => {
      if (!st) return;
      if (s === 'live' || s === 'poll') st.confirmedAt = new Date().toISOString();
      st.conn = s; render();
    },
  });
  st.live.start(st.seq);
  // The first picture by plain GET too: the page is useful before the stream answers, and the
  // service worker keeps that answer as the last picture for a start without a connection.
  st.live.refetch();
}

function tell(before, after) {
  const f = st.byId[after.facility_id];
  if (!f) return;
  if (!before || !!before.stop !== !!after.stop) {
    if (before) st.ctx.announce(t(after.stop ? 'announce_stop' : 'announce_lift', { name: f.name }));
    return;
  }
  for (const c of CATS) {
    const a = after.categories[c], b = before.categories[c];
    if (a && (!b || a.status !== b.status || a.available !== b.available)) {
      st.ctx.announce(t('announce_change', { name: f.name, cat: t('cat_' + c), status: statusText(a, after.stop) }));
    }
  }
}

// The service marks stale figures, but only while the page hears from it. Offline (the last
// picture), a figure older than the default freshness limit is shown as unknown, never green.
const FRESH_MS = 4 * 3600e3;
function isStale(cat) {
  if (cat.stale) return true;
  return st.conn !== 'live' && st.conn !== 'poll' && Date.now() - Date.parse(cat.updated_at) > FRESH_MS;
}

function statusOf(cat, stop) {
  if (stop) return 'stop';
  if (!cat || isStale(cat)) return 'unknown';
  return cat.status;
}

function statusText(cat, stop) {
  const s = statusOf(cat, stop);
  if (s === 'green' || s === 'orange') return t('free', { n: cat.available });
  if (s === 'red') return t('full');
  if (s === 'stop') return t('stop');
  return t('unknown');
}

function usable(e) {
  const s = e && statusOf(e.categories.delivery_room, e.stop);
  return s === 'green' || s === 'orange';
}

// Which facilities the region holds comes from the picture once there is one: an admin may
// deactivate a facility or move it to another region (the stream then sends a fresh snapshot).
function inRegion() {
  if (st.seq == null) return st.facilities.filter(f => f.region === st.region);
  return Object.keys(st.entries).map(id => st.byId[id]).filter(Boolean);
}

// A facility the listing does not know (moved in, reactivated, added): read the listing again.
async function learnFacilities() {
  if (!Object.keys(st.entries).some(id => !st.byId[id]) || learnFacilities.busy) return;
  learnFacilities.busy = true;
  try {
    const list = await api('/api/v1/facilities');
    if (!st) return;
    st.facilities = list;
    store.set('facilities', list);
    st.byId = {};
    for (const f of list) st.byId[f.id] = f;
    render();
  } catch { /* offline: shown once known */ } finally { learnFacilities.busy = false; }
}

function ordered() {
  const list = inRegion().map(f => {
    const e = st.entries[f.id];
    return { f, e, trip: trip(st.pos, f), ok: usable(e), free: e && e.categories.delivery_room ? e.categories.delivery_room.available : -1 };
  });
  list.sort((a, b) => (b.ok - a.ok)
    || (a.trip && b.trip ? a.trip.min - b.trip.min : 0)
    || (a.ok ? b.free - a.free : 0)
    || a.f.name.localeCompare(b.f.name, 'nl'));
  return list;
}

function catRow(c, cat, stop) {
  const s = statusOf(cat, stop);
  const main = c === 'delivery_room' ? ' main' : '';
  if (!cat) {
    return `<div class="cat s-unknown${main}" data-cat="${c}"><span class="lbl">${esc(t('cat_' + c))}</span>
      <span class="badge">${ICON.unknown} ${esc(t('not_reported'))}</span></div>`;
  }
  const stale = isStale(cat) ? ` <span class="stale">(${esc(t('stale_note'))})</span>` : '';
  return `<div class="cat s-${s}${main}" data-cat="${c}" data-status="${s}">
    <span class="lbl">${esc(t('cat_' + c))}</span>
    <span class="badge">${ICON[s]} ${esc(statusText(cat, stop))}</span>
    <span class="cnt">${cat.available} ${esc(t('of'))} ${cat.staffed}</span>
    <span class="age" data-at="${esc(cat.updated_at)}">${esc(ago(cat.updated_at))}</span>${stale}
  </div>`;
}

function cardHtml({ f, e, trip: tr }) {
  const cats = CATS.filter(c => f.categories.includes(c));
  const stop = e && e.stop;
  const stopHtml = stop ? `<div class="stopban" role="note">⊘ ${esc(t('stop_banner', { reason: t('reason_' + stop.reason) }))}
      · ${esc(stop.until ? t('stop_until', { time: clock(stop.until) }) : t('stop_open'))}</div>` : '';
  const where = [f.city];
  if (tr) where.push(t('km', { km: Math.round(tr.km) }), t('drive', { min: tr.min }));
  const call = f.phone
    ? `<a class="btn call" href="tel:${esc(f.phone.replace(/[^+0-9]/g, ''))}" aria-label="${esc(t('call', { name: f.name }))}"><svg class="ico" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2c.3-.3.7-.4 1-.2 1.1.4 2.3.6 3.6.6.6 0 1 .4 1 1V20c0 .6-.4 1-1 1A17 17 0 0 1 3 4c0-.6.4-1 1-1h3.5c.6 0 1 .4 1 1 0 1.3.2 2.5.6 3.6.1.3 0 .7-.2 1z"/></svg> ${esc(t('call_short'))} <span class="num">${esc(f.phone)}</span></a>`
    : `<span class="btn call disabled" aria-disabled="true"><svg class="ico" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2c.3-.3.7-.4 1-.2 1.1.4 2.3.6 3.6.6.6 0 1 .4 1 1V20c0 .6-.4 1-1 1A17 17 0 0 1 3 4c0-.6.4-1 1-1h3.5c.6 0 1 .4 1 1 0 1.3.2 2.5.6 3.6.1.3 0 .7-.2 1z"/></svg> ${esc(t('no_phone'))}</span>`;
  return `<div class="head"><h2>${esc(f.name)}</h2><p class="where">${esc(where.join(' · '))}</p></div>
    ${stopHtml}
    <div class="cats">${cats.map(c => catRow(c, e && e.categories[c], stop)).join('')}</div>
    <div class="actions">${call}<button type="button" class="btn refuse" data-refuse="${esc(f.id)}">${esc(t('refuse'))}</button></div>`;
}

function render(changedId) {
  if (!st) return;
  const ul = st.root.querySelector('#cards');
  const list = ordered();
  const seen = new Set();
  for (const item of list) {
    const id = 'f-' + item.f.id;
    seen.add(id);
    let li = ul.querySelector('#' + CSS.escape(id));
    const html = cardHtml(item);
    const status = item.e && item.e.stop ? 'stop' : item.ok ? 'ok' : 'no';
    if (!li) {
      li = document.createElement('li');
      li.id = id;
      li.className = 'card';
      li.dataset.facility = item.f.id;
    }
    if (li.dataset.html !== html) {
      // Keep focus on the same button when the card is redrawn.
      const focused = li.contains(document.activeElement) ? document.activeElement.className : null;
      li.innerHTML = html;
      li.dataset.html = html;
      if (focused) { const el = li.querySelector('.' + focused.split(' ').join('.')); if (el) el.focus(); }
    }
    li.dataset.status = status;
    ul.append(li);  // moves it into sorted position
    if (changedId === item.f.id) {
      li.classList.remove('flash');
      void li.offsetWidth;
      li.classList.add('flash');
    }
  }
  for (const li of [...ul.children]) if (!seen.has(li.id)) li.remove();
  // 45-minute warning: the nearest facility with a free delivery room.
  const warn = st.root.querySelector('#warn');
  const withRoom = list.filter(x => x.ok);
  let msg = '';
  if (Object.keys(st.entries).length && !withRoom.length) msg = t('warn_none');
  else if (st.pos && withRoom.length) {
    const nearest = Math.min(...withRoom.map(x => x.trip.min));
    if (nearest > 45) msg = t('warn45', { min: nearest });
  }
  warn.hidden = !msg;
  warn.textContent = msg ? '⚠ ' + msg : '';
  st.root.querySelector('#dnote').textContent = st.pos
    ? t('distance_note', { factor: lang === 'nl' ? String(ROAD_FACTOR).replace('.', ',') : String(ROAD_FACTOR), speed: SPEED_KMH })
    : t('no_position');
  renderConn();
}

function renderConn() {
  if (!st) return;
  const el = st.root.querySelector('#conn');
  if (!el) return;
  const at = st.confirmedAt;
  let cls = st.conn, text;
  if (st.conn === 'poll') {
    text = `● ${t('conn_poll', { s: 15 })}${at ? ' · ' + t('picture_of', { time: clock(at) }) : ''}`;
  } else if (st.conn === 'live') {
    text = `● ${t('conn_live')}${at ? ' · ' + t('picture_of', { time: clock(at) }) : ''}`;
  } else if (st.conn === 'offline' || !navigator.onLine) {
    cls = 'offline';
    text = at ? `⚠ ${t('conn_offline')}. ${t('offline_note', { time: clock(at), ago: ago(at) })}` : `⚠ ${t('conn_offline')}`;
  } else {
    text = `◌ ${t('conn_connecting')}${at ? ' · ' + t('picture_of', { time: clock(at) }) + ' (' + ago(at) + ')' : ''}`;
  }
  el.className = 'conn ' + cls;
  el.dataset.state = cls;
  el.textContent = text;
}

function updateAges() {
  if (!st) return;
  for (const el of st.root.querySelectorAll('.age[data-at]')) el.textContent = ago(el.dataset.at);
}

function onCardClick(e) {
  const b = e.target.closest('[data-refuse]');
  if (!b) return;
  const f = st.byId[b.dataset.refuse];
  openRefusal(f, st.entries[f.id], st.ctx);
}
