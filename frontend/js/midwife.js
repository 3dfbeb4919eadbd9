// The midwife's screen: one card per facility of the region (and of neighbouring regions within
// reach), live, sorted by what she can use now in the category she needs; a list or a map.
import { t, ago, clock, esc, lang } from './i18n.js';
import { api, store } from './api.js';
import { Live } from './live.js';
import { trip, locate, ROAD_FACTOR, SPEED_KMH } from './geo.js';
import { openRefusal } from './refusal.js';
import { CATS, REACH_MIN, chosenCat, chooseCat, ordered as orderCards, streamRegions } from './filters.js';
import { callsHtml } from './contacts.js';

export { CATS };
const ICON = { green: '✓', orange: '!', red: '✕', stop: '⊘', unknown: '?' };
let st = null;

// One live stream per region shown: hers, and each neighbouring region with a facility within
// reach (their figures come the same way, live, and cost the server one subscriber each).
export async function mount(root, ctx) {
  const me = st = {
    root, ctx, regions: store.get('regions') || [], facilities: store.get('facilities') || [],
    byId: {}, entries: {}, region: null, pos: null, place: localStorage.getItem('cap.place') || 'gps',
    cat: chosenCat(), view: 'list', open: null, streams: {}, timer: null,
  };
  try {
    const [regions, facilities] = await Promise.all([api('/api/v1/regions'), api('/api/v1/facilities')]);
    if (st !== me) return;  // left (or shown anew) while the lists were on their way
    st.regions = regions; store.set('regions', regions);
    useFacilities(facilities);
  } catch { if (st === me) useFacilities(st.facilities, false); /* offline: cached reference data */ }
  if (st !== me) return;
  st.pos = placePos(st.place);
  st.region = localStorage.getItem('cap.region') || ctx.session.region_id || nearestRegion() || (st.regions[0] || {}).id;
  frame();
  syncStreams();
  render();
  // Not live, nobody tells the page when a figure turns stale: it re-judges the ages itself.
  st.timer = setInterval(() => { if (connState().state === 'live') { renderConn(); updateAges(); } else render(); }, 30000);
  // Requests she sent and still follows (also after a reload): their answers, live.
  if ((store.get('xfer') || []).length) transfers();
  if (st.place === 'gps') {
    locate().then(p => {
      if (st !== me || st.place !== 'gps') return;
      st.pos = p;
      if (p && !localStorage.getItem('cap.region') && !ctx.session.region_id) {
        const r = nearestRegion();
        if (r && r !== st.region) { switchRegion(r, false); return; }
      }
      moved();
    });
  }
}

export function unmount() {
  if (!st) return;
  for (const s of Object.values(st.streams)) s.live.stop();
  clearInterval(st.timer);
  if (transfers.mod) transfers.mod.detach();
  st = null;
}

export function relabel() { frame(); render(); if (transfers.mod) transfers.mod.attach(st.root.querySelector('#xfer'), xferEnv()); }

// The transfer request (transfer.js) loads only when she asks for it or follows a request.
async function transfers() {
  const me = st;
  const mod = transfers.mod || await import('./transfer.js');
  if (st !== me) return null;
  transfers.mod = mod;
  mod.attach(st.root.querySelector('#xfer'), xferEnv());
  return mod;
}
function xferEnv() {
  return {
    ctx: st.ctx, cat: () => st.cat, place: () => st.place, pos: () => st.pos,
    cities: () => [...new Set(st.facilities.map(f => f.city))].sort((a, b) => a.localeCompare(b, 'nl')),
    nameOf: id => (st.byId[id] || {}).name,
  };
}

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
      <label class="field"><span>${esc(t('need'))}</span>
        <select id="cat">${CATS.map(c => `<option value="${c}"${c === st.cat ? ' selected' : ''}>${esc(t('cat_' + c).replace('\u00ad', ''))}</option>`).join('')}</select></label>
      <div class="field"><span id="view-l">${esc(t('view'))}</span>
        <div class="seg" role="group" aria-labelledby="view-l">
          <button type="button" class="chip" data-view="list" aria-pressed="${st.view === 'list'}">${esc(t('view_list'))}</button>
          <button type="button" class="chip" data-view="map" aria-pressed="${st.view === 'map'}">${esc(t('view_map'))}</button>
        </div></div>
    </div>
    <div class="xferbar pad"><button type="button" class="btn primary" id="xfer-open">${esc(t('xfer_open'))}</button></div>
    <section id="xfer" class="xfer" aria-label="${esc(t('xfer_requests'))}"></section>
    <div id="conn" class="conn" role="status"></div>
    <div id="warn" class="warn" role="alert" hidden></div>
    <div id="map" class="map" hidden></div>
    <ul id="cards" class="cards"></ul>
    <p class="note pad" id="dnote"></p>
  </div>`;
  st.root.querySelector('#region').addEventListener('change', e => switchRegion(e.target.value, true));
  st.root.querySelector('#place').addEventListener('change', e => {
    st.place = e.target.value;
    localStorage.setItem('cap.place', st.place);
    st.pos = placePos(st.place);
    moved();
    if (st.place === 'gps') locate().then(p => { if (st) { st.pos = p; moved(); } });
  });
  st.root.querySelector('#cat').addEventListener('change', e => {
    st.cat = e.target.value;
    chooseCat(st.cat);
    render();
  });
  for (const b of st.root.querySelectorAll('[data-view]')) b.addEventListener('click', () => showView(b.dataset.view));
  st.root.querySelector('#cards').addEventListener('click', onCardClick);
  st.root.querySelector('#xfer-open').addEventListener('click', () => transfers().then(m => m && m.openForm()));
  showView(st.view);
}

// List or map. The map (and the outline it draws) loads only when first asked for.
function showView(view) {
  st.view = view;
  for (const b of st.root.querySelectorAll('[data-view]')) b.setAttribute('aria-pressed', String(b.dataset.view === view));
  st.root.querySelector('#map').hidden = view !== 'map';
  st.root.querySelector('#cards').hidden = view !== 'list';
  if (view === 'map') drawMap();
}

async function drawMap() {
  const mod = await (drawMap.mod ||= import('./map.js'));
  if (!st || st.view !== 'map') return;
  mod.drawMap(st.root.querySelector('#map'), {
    items: ordered(), pos: st.pos, regions: st.regions, facilities: st.facilities, region: st.region, cat: st.cat,
    label: item => `${item.f.name}${item.away ? ` (${t('region_of', { name: regionName(item.f.region) })})` : ''}: ${t('cat_' + st.cat).replace('\u00ad', '')} ${statusText(item.e && item.e.categories[st.cat], item.e && item.e.stop, item.f)}${item.trip ? ', ' + t('drive', { min: item.trip.min }) : ''}`,
    onPick: openCard,
  });
}

// From the map: the list again, that card open, in view and focused.
function openCard(id) {
  st.open = id;
  showView('list');
  render();
  const li = st.root.querySelector('#' + CSS.escape('f-' + id));
  if (!li) return;
  li.scrollIntoView({ block: 'center' });
  li.querySelector('.open').focus({ preventScroll: true });
}

function switchRegion(region, chosen) {
  if (chosen) localStorage.setItem('cap.region', region);
  st.region = region;
  const sel = st.root.querySelector('#region');
  if (sel) sel.value = region;
  syncStreams();
  render();
}

// Her position or region changed: other neighbours may be within reach now.
function moved() { syncStreams(); render(); }

function syncStreams() {
  const want = streamRegions(st.facilities, st.pos, st.region);
  for (const [r, s] of Object.entries(st.streams)) {
    if (want.includes(r)) continue;
    s.live.stop();
    delete st.streams[r];
    forget(s);
  }
  for (const r of want) if (!st.streams[r]) startLive(r);
}

// Drop what a stream's last picture held, but not a facility another stream now holds: a
// facility moved between two regions the page follows arrives in one snapshot and leaves in the
// other, in either order.
function forget(s) {
  const held = s.ids || st.facilities.filter(f => f.region === s.region).map(f => f.id);
  const elsewhere = id => Object.values(st.streams).some(o => o !== s && o.ids && o.ids.has(id));
  for (const id of held) if (!elsewhere(id)) delete st.entries[id];
}

function loadCached(s) {
  const c = store.get('pic.' + s.region);
  if (!c) return;
  s.seq = c.seq; s.confirmedAt = c.at;
  for (const e of c.facilities) st.entries[e.facility_id] = e;
  s.ids = new Set(c.facilities.map(e => e.facility_id));
}

// Bursts of changes are written once (debounced); a snapshot, and whatever is pending when the
// page goes away, is written at once, so a reload or lost signal never loses the last picture.
function writeCache(s) {
  clearTimeout(s.saveT);
  if (!st || s.seq == null) return;
  const ids = s.ids || st.facilities.filter(f => f.region === s.region).map(f => f.id);
  const facilities = [...ids].map(id => st.entries[id]).filter(Boolean);
  store.set('pic.' + s.region, { seq: s.seq, at: s.confirmedAt, facilities });
}

function saveCache(s) {
  clearTimeout(s.saveT);
  s.saveT = setTimeout(() => writeCache(s), 300);
}
addEventListener('pagehide', () => { if (st) Object.values(st.streams).forEach(writeCache); });

function startLive(region) {
  const s = { region, seq: null, confirmedAt: null, conn: 'connecting' };
  const mine = () => st && st.streams[region] === s;
  st.streams[region] = s;
  loadCached(s);
  s.live = new Live(region, {
    onSnapshot: (pic, storedAt) => {
      if (!mine()) return;
      // An offline copy from the service worker only fills in when the page has nothing newer.
      if (storedAt && s.seq != null && pic.seq <= s.seq) return;
      forget(s);
      for (const e of pic.facilities) st.entries[e.facility_id] = e;
      s.ids = new Set(pic.facilities.map(e => e.facility_id));
      s.seq = pic.seq; s.confirmedAt = storedAt || new Date().toISOString();
      writeCache(s); render(); learnFacilities();
    },
    onFacility: (entry, seq) => {
      if (!mine()) return;
      const before = st.entries[entry.facility_id];
      st.entries[entry.facility_id] = entry;
      if (s.ids) s.ids.add(entry.facility_id);
      s.seq = seq; s.confirmedAt = new Date().toISOString();
      saveCache(s);
      tell(before, entry);
      render(entry.facility_id);
      if (!st.byId[entry.facility_id]) learnFacilities();
    },
    onState: state => {
      if (!mine()) return;
      if (state === 'live' || state === 'poll') s.confirmedAt = new Date().toISOString();
      s.conn = state; render();
    },
  });
  s.live.start(s.seq);
  // The first picture by plain GET too: the page is useful before the stream answers, and the
  // service worker keeps that answer as the last picture for a start without a connection.
  s.live.refetch();
}

// The page is as live as its least live stream. Not live: since the last message heard (or, on
// a start without a connection, since the picture it shows).
function connState() {
  const all = Object.values(st.streams);
  const rank = ['live', 'poll', 'connecting', 'offline'];
  const worst = all.reduce((w, s) => (rank.indexOf(s.conn) > rank.indexOf(w) ? s.conn : w), 'live');
  const times = all.map(s => s.confirmedAt).filter(Boolean).sort();
  const heard = all.filter(s => s.conn !== 'live').map(s => s.live.heardAt).filter(Boolean);
  const since = heard.length ? new Date(Math.min(...heard)).toISOString() : times[0] || null;
  return { state: all.length ? worst : 'connecting', at: times[0] || null, since, wasLive: heard.length > 0 };
}

function tell(before, after) {
  const f = st.byId[after.facility_id];
  if (!f || !shown(f)) return;
  if (!before || !!before.stop !== !!after.stop) {
    if (before) st.ctx.announce(t(after.stop ? 'announce_stop' : 'announce_lift', { name: f.name }));
    return;
  }
  for (const c of CATS) {
    const a = after.categories[c], b = before.categories[c];
    if (a && (!b || a.status !== b.status || a.available !== b.available)) {
      st.ctx.announce(t('announce_change', { name: f.name, cat: t('cat_' + c), status: statusText(a, after.stop, f, c) }));
    }
  }
}

// The service marks stale figures, but only while the page hears from it. Offline (the last
// picture), a figure older than the default freshness limit is shown as unknown, never green.
const FRESH_MS = 4 * 3600e3;
function isStale(cat, f) {
  if (cat.stale) return true;
  const s = f && st.streams[f.region];
  const conn = s ? s.conn : connState().state;
  return conn !== 'live' && conn !== 'poll' && Date.now() - Date.parse(cat.updated_at) > FRESH_MS;
}

function statusOf(cat, stop, f) {
  if (stop) return 'stop';
  if (!cat || isStale(cat, f)) return 'unknown';
  return cat.status;
}

function statusText(cat, stop, f, c = st.cat) {
  const s = statusOf(cat, stop, f);
  if (s === 'green' || s === 'orange') return t('free', { n: cat.available });
  if (s === 'red') return t('full');
  if (s === 'stop') return t('stop');
  if (!cat && !stop) return t(f && !f.categories.includes(c) ? 'not_offered' : 'not_reported');
  return t('unknown');
}

// Which region holds a facility comes from the pictures once there are: an admin may deactivate
// a facility or move it to another region (the streams then send fresh snapshots).
function current() {
  const where = {};
  for (const s of Object.values(st.streams)) if (s.ids) for (const id of s.ids) where[id] = s.region;
  const known = r => st.streams[r] && st.streams[r].ids;
  return st.facilities.filter(f => where[f.id] || !known(f.region))
    .map(f => (where[f.id] && where[f.id] !== f.region ? { ...f, region: where[f.id] } : f));
}

// The facility listing and its index by id, kept for a start without a connection.
function useFacilities(list, keep = true) {
  st.facilities = list;
  st.byId = Object.fromEntries(list.map(f => [f.id, f]));
  if (keep) store.set('facilities', list);
}

// A facility the listing does not know (moved in, reactivated, added): read the listing again.
async function learnFacilities() {
  if (!Object.keys(st.entries).some(id => !st.byId[id]) || learnFacilities.busy) return;
  learnFacilities.busy = true;
  try {
    const list = await api('/api/v1/facilities');
    if (!st) return;
    useFacilities(list);
    render();
  } catch { /* offline: shown once known */ } finally { learnFacilities.busy = false; }
}

function ordered() {
  return orderCards({
    facilities: current(), entries: st.entries, pos: st.pos, region: st.region, cat: st.cat,
    status: (f, e) => (e ? statusOf(e.categories[st.cat], e.stop, f) : 'unknown'),
  });
}

function shown(f) { return f.region === st.region || (st.pos && trip(st.pos, f).min <= REACH_MIN); }

function catRow(c, cat, stop, f) {
  const s = statusOf(cat, stop, f);
  const main = c === st.cat ? ' main' : '';
  if (!cat) {
    const none = f && !f.categories.includes(c) ? 'not_offered' : 'not_reported';
    return `<div class="cat s-unknown${main}" data-cat="${c}" data-status="unknown"><span class="lbl">${esc(t('cat_' + c))}</span>
      <span class="badge">${ICON.unknown} ${esc(t(none))}</span></div>`;
  }
  const stale = isStale(cat, f) ? ` <span class="stale">(${esc(t('stale_note'))})</span>` : '';
  return `<div class="cat s-${s}${main}" data-cat="${c}" data-status="${s}">
    <span class="lbl">${esc(t('cat_' + c))}</span>
    <span class="badge">${ICON[s]} ${esc(statusText(cat, stop, f, c))}</span>
    <span class="cnt">${cat.available} ${esc(t('of'))} ${cat.staffed}</span>
    <span class="age" data-at="${esc(cat.updated_at)}">${esc(ago(cat.updated_at))}</span>${stale}
  </div>`;
}

function cardHtml({ f, e, trip: tr, away }) {
  // Compact: the chosen category first; the others only when the card is open.
  const open = st.open === f.id;
  const cats = [st.cat, ...CATS.filter(c => c !== st.cat)].filter(c => f.categories.includes(c) || c === st.cat)
    .filter(c => open || c === st.cat);
  const stop = e && e.stop;
  const stopHtml = stop ? `<div class="stopban" role="note">⊘ ${esc(t('stop_banner', { reason: t('reason_' + stop.reason) }))}
      · ${esc(stop.until ? t('stop_until', { time: clock(stop.until) }) : t('stop_open'))}</div>` : '';
  const where = [f.city];
  if (tr) where.push(t('km', { km: Math.round(tr.km) }), t('drive', { min: tr.min }));
  const region = away ? ` <span class="rgn">${esc(t('region_of', { name: regionName(f.region) }))}</span>` : '';
  const call = callsHtml(f, st.regions.find(r => r.id === f.region), chosenCat());
  return `<div class="head"><h2><button type="button" class="open" aria-expanded="${open}" data-open="${esc(f.id)}">${esc(f.name)}</button></h2><p class="where">${esc(where.join(' · '))}${region}</p></div>
    ${stopHtml}
    <div class="cats">${cats.map(c => catRow(c, e && e.categories[c], stop, f)).join('')}</div>
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
    li.classList.toggle('opened', st.open === item.f.id);
    li.classList.toggle('away', item.away);
    li.dataset.region = item.f.region;
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
  // 45-minute warning: the nearest facility with room in the chosen category.
  const warn = st.root.querySelector('#warn');
  const withRoom = list.filter(x => x.ok);
  const cat = catWord(st.cat);
  let msg = '';
  if (st.pos && Object.keys(st.entries).length) {
    const nearest = Math.min(...withRoom.map(x => x.trip.min));
    if (nearest > REACH_MIN) msg = t(withRoom.length ? 'warn45' : 'warn45_none', { min: nearest, cat });
  } else if (Object.keys(st.entries).length && !withRoom.length) msg = t('warn_none', { cat });
  warn.hidden = !msg;
  warn.textContent = msg ? '⚠ ' + msg : '';
  st.root.querySelector('#dnote').textContent = st.pos
    ? t('distance_note', { factor: lang === 'nl' ? String(ROAD_FACTOR).replace('.', ',') : String(ROAD_FACTOR), speed: SPEED_KMH })
    : t('no_position');
  renderConn();
  if (st.view === 'map') drawMap();
}

// "Live" only while every stream was heard from within the silence limit (live.js); otherwise
// the line says since when it is not live, so nobody mistakes an old picture for the present.
function renderConn() {
  if (!st) return;
  const el = st.root.querySelector('#conn');
  if (!el) return;
  const { state, at, since, wasLive } = connState();
  const notLive = wasLive ? `${t('not_live_since', { time: clock(since) })}. ` : '';
  let cls = state, text;
  if (state === 'poll') {
    text = `● ${t('conn_poll', { s: 15 })}${at ? ' · ' + t('picture_of', { time: clock(at) }) : ''}`;
  } else if (state === 'live') {
    text = `● ${t('conn_live')}${at ? ' · ' + t('picture_of', { time: clock(at) }) : ''}`;
  } else if (state === 'offline' || !navigator.onLine) {
    cls = 'offline';
    text = at ? `⚠ ${notLive}${t('offline_note', { time: clock(at), ago: ago(at) })}` : `⚠ ${t('conn_offline')}`;
  } else if (wasLive) {
    cls = 'lost';
    text = `⚠ ${notLive}${t('conn_connecting')}`;
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

// A category's name inside a sentence: "verloskamer", but "NICU".
export function catWord(c) {
  const l = t('cat_' + c).replace('\u00ad', '');
  return l[1] === l[1].toLowerCase() ? l[0].toLowerCase() + l.slice(1) : l;
}

function regionName(id) { return (st.regions.find(r => r.id === id) || { name: id }).name; }

function onCardClick(e) {
  const o = e.target.closest('[data-open]');
  if (o) { st.open = st.open === o.dataset.open ? null : o.dataset.open; render(); return; }
  const b = e.target.closest('[data-refuse]');
  if (!b) return;
  const f = st.byId[b.dataset.refuse];
  openRefusal(f, st.entries[f.id], st.ctx, st.cat);
}
