// The ward's screen: +/- steppers for free and staffed beds per category, one Save, and the stop.
// Live: figures the person has not touched follow the region's stream (the hospital system may
// push them any minute). A save sends only the touched categories, with If-Match on the version
// those edits were based on; a 412 shows the other's figures beside the person's (staffedit.js).
// Each category says who set it and how fresh it is; "Klopt nog" confirms it in one tap
// (stafffresh.js warns when a figure is stale, nearly so, never reported, or the ward overdue).
import { t, esc, clock, ago } from './i18n.js';
import { api, store } from './api.js';
import { Live } from './live.js';
import { Edits } from './staffedit.js';
import { stopHtml, wireStop } from './staffstop.js';
import { freshHtml, overdue } from './stafffresh.js';
import { clearErrors, showFieldErrors } from './fielderrors.js';
import { mountContactsEditor } from './contactsedit.js';
import { mountOffers, stopOffers } from './staffoffers.js';

const CATS = ['delivery_room', 'maternity_bed', 'obstetric_high_care', 'neonatal_high_care', 'nicu'];
let st = null;

export async function mount(root, ctx) {
  const me = st = { root, ctx, facility: null, ed: null, fid: ctx.session.facility_id, all: [], live: null, conn: 'connecting', notice: null };
  if (!st.fid) {
    // Admins choose a facility; other roles without a facility see a note.
    if (ctx.session.role !== 'admin') { root.innerHTML = `<p class="pad">${esc(t('not_for_staff'))}</p>`; return; }
    const all = await api('/api/v1/facilities').catch(() => store.get('facilities') || []);
    if (st !== me) return;  // left (or shown anew) while the list was on its way
    st.all = all;
    st.fid = localStorage.getItem('cap.staff.fid') || (st.all[0] || {}).id;
  }
  // Nobody tells the page when a figure grows old while the stream is quiet: re-judge the ages.
  st.timer = setInterval(() => { if (st && st.ed) paintAges(); }, 30000);
  await load();
}
export function unmount() {
  if (!st) return;
  clearInterval(st.timer);
  if (st.live) st.live.stop();
  stopOffers();
  st = null;
}
export function relabel() { render(); }

async function load() {
  if (st.live) { st.live.stop(); st.live = null; }
  const mine = st;
  let pic;
  try {
    st.facility = await api(`/api/v1/facilities/${encodeURIComponent(st.fid)}`);
    pic = await api(`/api/v1/regions/${encodeURIComponent(st.facility.region)}/capacity`);
  } catch (e) {
    st.root.innerHTML = `<p class="pad error">${esc(e.offline ? t('offline_save') : t('error', { msg: e.message }))}</p>`;
    return;
  }
  if (st !== mine) return;
  st.ed = new Edits(pic.facilities.find(e => e.facility_id === st.fid) || { version: 0, categories: {}, stop: null });
  st.notice = null;
  render();
  st.live = new Live(st.facility.region, {
    onSnapshot: (p, storedAt) => { if (!storedAt) onEntry(mine, p.facilities.find(e => e.facility_id === mine.fid)); },
    onFacility: f => { if (f.facility_id === mine.fid) onEntry(mine, f); },
    onState: s => { mine.conn = s; if (st === mine) paintConn(); },
  });
  st.live.start(null);  // a snapshot first: the page shows "live" at once, and misses nothing
}

// A newer entry of this facility from the stream: untouched figures follow it (staffedit.js).
function onEntry(mine, entry) {
  if (st !== mine || !entry || !st.ed) return;
  const stopBefore = JSON.stringify(st.ed.entry.stop);
  if (st.ed.follow(entry) === null) return;
  paintAges();
  if (JSON.stringify(entry.stop) !== stopBefore) renderStop();
}

// The author comes from the service (updated_by on the entry); an older service without it:
// this device's own save, if it is the change shown; else the time alone.
// A hospital system by its key's label where an admin gave one ("ziekenhuissysteem (HiX)").
function author(who, label) {
  if (!who) return t('someone');
  if (who === 'system') return t('by_system');
  if (who.startsWith('key:')) return label ? `${t('by_key')} (${label})` : t('by_key');
  return who;
}

// The 412 message, kept untranslated so that a language switch redraws it.
function noticeText() {
  return st.notice ? t('conflict_msg', { who: author(st.notice.by), time: clock(st.notice.at) }) : '';
}

function lastChange() {
  const e = st.ed.entry;
  const figs = Object.values(e.categories).sort((a, b) => a.updated_at.localeCompare(b.updated_at));
  const newest = figs[figs.length - 1];
  if (!newest) return t('last_change', { time: t('never') });
  const at = e.updated_at || newest.updated_at;
  const when = `${clock(at)} (${ago(at)})`;
  if (e.updated_by) return t('last_change_by', { time: when, who: author(e.updated_by) });
  const mine = store.get('lastsave.' + st.fid);
  if (mine && mine.at === at) return t('last_change_by', { time: when, who: mine.user });
  return t('last_change', { time: when });
}

function stepper(c, kind, value) {
  const id = `${c}-${kind}`;
  return `<div class="step"><label for="${id}">${esc(t(kind))}</label>
    <button type="button" class="btn" data-step="-1" data-for="${id}" aria-label="${esc(t(kind) + ': ' + t('minus'))}">−</button>
    <input id="${id}" name="${id}" type="number" inputmode="numeric" min="0" max="500" value="${esc(value)}" data-loc="categories.${c}.${kind}" aria-describedby="err-${id}">
    <button type="button" class="btn" data-step="1" data-for="${id}" aria-label="${esc(t(kind) + ': ' + t('plus'))}">+</button></div>
    <p class="error" id="err-${id}" data-err="categories.${c}.${kind}" role="alert"></p>`;
}

function shown(c) {
  return st.ed.touched.get(c) || st.ed.entry.categories[c] || { available: 0, staffed: 0 };
}

function render() {
  if (!st || !st.facility || !st.ed) return;
  const f = st.facility;
  const cats = CATS.filter(c => f.categories.includes(c));
  const picker = st.all.length ? `<label class="field"><span>${esc(t('nav_staff'))}</span><select id="pick">${st.all.map(x =>
    `<option value="${esc(x.id)}"${x.id === st.fid ? ' selected' : ''}>${esc(x.name)} (${esc(x.city)})</option>`).join('')}</select></label>` : '';
  st.root.innerHTML = `<div class="pad staff">${picker}
    <h1>${esc(f.name)}</h1><p class="muted" id="last-change">${esc(lastChange())}</p>
    <p class="conn" id="conn"></p><p class="overduewarn" id="overdue" role="alert"></p>
    <section class="offersbox" id="offersbox" aria-labelledby="offers-h" hidden></section>
    <form id="figures" novalidate><div class="steppers">
    ${cats.map(c => `<fieldset class="stepcat" data-cat="${c}"><legend><h2>${esc(t('cat_' + c))}</h2></legend>
        ${stepper(c, 'available', shown(c).available)}${stepper(c, 'staffed', shown(c).staffed)}
        <p class="error" data-err="categories.${c}" role="alert"></p><div class="meta" data-meta="${c}"></div></fieldset>`).join('')}</div>
    <p class="error" id="fig-error" role="alert"></p>
    <p class="conflictmsg" id="conflict-msg" role="alert">${esc(noticeText())}</p>
    <div class="sticky-save"><button class="btn primary big" type="submit" id="save">${esc(t('save_figures'))}</button></div>
    </form>
    <section class="stopbox" id="stopbox" aria-labelledby="stop-h"></section>
    <section class="contactsbox" id="contactsbox" aria-labelledby="contacts-h"></section></div>`;
  const pick = st.root.querySelector('#pick');
  if (pick) pick.addEventListener('change', () => { st.fid = pick.value; localStorage.setItem('cap.staff.fid', st.fid); load(); });
  const form = st.root.querySelector('#figures');
  form.addEventListener('click', onFormClick);
  form.addEventListener('input', ev => { const fs = ev.target.closest('.stepcat'); if (fs) touchFrom(fs.dataset.cat); });
  form.addEventListener('submit', saveFigures);
  paintAges();
  paintConn();
  renderStop();
  mountContactsEditor(st.root.querySelector('#contactsbox'), st.fid, st.ctx);
  mountOffers(st.root.querySelector('#offersbox'), st.fid, st.ctx);
}

// Everything that changes with time or with a newer entry: each category, the ward's overdue
// warning, the last-change line.
function paintAges() {
  CATS.forEach(paintCat);
  const cats = CATS.filter(c => st.facility.categories.includes(c));
  st.root.querySelector('#overdue').textContent = overdue(st.ed.entry, cats) ? `⚠ ${t('overdue_warn')}` : '';
  st.root.querySelector('#last-change').textContent = lastChange();
}

function renderStop() {
  const box = st.root.querySelector('#stopbox');
  box.innerHTML = stopHtml(st.ed.entry.stop);
  wireStop(box, st.fid, st.ctx, entry => { st.ed.follow(entry); renderStop(); paintAges(); });
}

function paintConn() {
  const el = st.root.querySelector('#conn');
  if (!el) return;
  el.dataset.state = st.conn;
  el.className = `conn ${st.conn === 'live' ? 'live' : st.conn === 'connecting' ? '' : 'offline'}`;
  el.textContent = st.conn === 'live' ? `● ${t('staff_live')}` : st.conn === 'connecting' ? t('conn_connecting') : t('staff_not_live');
}

// Who set the figure: the service names it per category; an older service only the facility's
// last change, which this page remembers per category as it sees them.
function setter(c, cur) {
  const seen = st.ed.by[c];
  return cur && (cur.updated_by || (seen && seen.at === cur.updated_at ? seen.who : null));
}

// One category's moving parts: its figures (if untouched), freshness, author, edit and conflict.
function paintCat(c) {
  const fs = st.root.querySelector(`.stepcat[data-cat="${c}"]`);
  if (!fs) return;
  const ed = st.ed, cur = ed.entry.categories[c], touched = ed.touched.has(c), name = t('cat_' + c);
  fs.classList.toggle('touched', touched);
  if (!touched) for (const k of ['available', 'staffed']) fs.querySelector(`#${c}-${k}`).value = cur ? cur[k] : 0;
  const by = setter(c, cur);
  const parts = [touched ? `<p class="changed">✎ ${esc(t('changed_mark'))}</p>` : ''];
  parts.push(freshHtml(cur, by ? author(by, cur.updated_by_label) : ''));
  if (c in ed.conflicts) {
    const other = ed.conflicts[c], who = author(setter(c, other) || ed.entry.updated_by, other && other.updated_by_label);
    const time = clock(other ? other.updated_at : new Date().toISOString());
    const note = other ? t('conflict_note', { who, time, a: other.available, s: other.staffed }) : t('conflict_gone', { who, time });
    parts.push(`<p class="conflict" role="note">⚠ ${esc(note)}</p>`);
  }
  const [key, data] = c in ed.conflicts ? ['take_theirs', 'undo'] : touched ? ['undo_cat', 'undo'] : ['confirm_cat', 'confirm'];
  if (data === 'confirm' && !cur) { fs.querySelector('.meta').innerHTML = parts.join(''); return; }
  parts.push(`<button type="button" class="btn small" data-${data}="${c}" aria-label="${esc(name + ': ' + t(key))}">${esc(t(key))}</button>`);
  fs.querySelector('.meta').innerHTML = parts.join('');
}

function touchFrom(c) {
  const fs = st.root.querySelector(`.stepcat[data-cat="${c}"]`);
  const num = kind => { const v = fs.querySelector(`#${c}-${kind}`).value; return /^\d+$/.test(v) ? Number(v) : v; };
  st.ed.touch(c, { available: num('available'), staffed: num('staffed') });
  paintCat(c);
}

function onFormClick(ev) {
  const b = ev.target.closest('[data-step], [data-confirm], [data-undo]');
  if (!b) return;
  if (b.dataset.step) {
    const input = st.root.querySelector('#' + b.dataset.for);
    input.value = Math.max(0, Math.min(500, (parseInt(input.value, 10) || 0) + Number(b.dataset.step)));
    touchFrom(b.closest('.stepcat').dataset.cat);
  } else if (b.dataset.confirm) {
    confirmCat(b.dataset.confirm, b, false);
  } else {
    st.ed.untouch(b.dataset.undo);
    paintCat(b.dataset.undo);
  }
}

async function saveFigures(ev) {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  if (!st.ed.touched.size) { form.querySelector('#fig-error').textContent = t('nothing_changed'); return; }
  const btn = form.querySelector('#save');
  btn.disabled = true;
  try {
    await send(false);
  } catch (e) {
    showFieldErrors(form, e, form.querySelector('#fig-error'));
  } finally {
    if (st && st.root.contains(btn)) btn.disabled = false;
  }
}

async function send(retried) {
  const ed = st.ed, mine = st;
  const url = `/api/v1/facilities/${encodeURIComponent(st.fid)}/capacity`;
  try {
    const entry = await api(url, { method: 'PUT', body: ed.body(), headers: { 'If-Match': `"${ed.base}"` } });
    if (st !== mine) return;
    for (const c of ed.touched.keys()) ed.by[c] = { who: entry.updated_by, at: (entry.categories[c] || {}).updated_at };
    ed.reset(entry);
    const at = Object.values(entry.categories).map(x => x.updated_at).sort().pop();
    store.set('lastsave.' + st.fid, { at, user: st.ctx.session.username });
    st.notice = null;
    render();
    st.ctx.toast(t('saved_figures'));
  } catch (e) {
    if (e.status !== 412 || !e.data || !e.data.facility || st !== mine) throw e;
    const moved = ed.rebase(e.data.facility);
    // Only categories the person did not touch changed: the edits hold; send them again.
    if (!moved.length && !retried) return send(true);
    const c = moved[0], fig = c && ed.entry.categories[c];
    st.notice = { by: (c && setter(c, fig)) || ed.entry.updated_by, at: fig ? fig.updated_at : new Date().toISOString() };
    paintAges();
    const msg = st.root.querySelector('#conflict-msg');
    msg.textContent = noticeText();
    msg.scrollIntoView({ block: 'center' });
  }
}

// "Klopt nog": the figure as shown is still right. One tap sends that category alone, unchanged,
// on the version shown (If-Match), so it is fresh again; a colleague's newer figure is never
// overwritten: on 412 the page shows it (and confirms it only if it is the same figure).
async function confirmCat(c, btn, retried) {
  const ed = st.ed, mine = st, cur = ed.entry.categories[c];
  if (!cur) return;
  btn.disabled = true;
  const url = `/api/v1/facilities/${encodeURIComponent(st.fid)}/capacity`;
  const body = { categories: { [c]: { available: cur.available, staffed: cur.staffed } } };
  try {
    const entry = await api(url, { method: 'PUT', body, headers: { 'If-Match': `"${ed.entry.version}"` } });
    if (st !== mine) return;
    ed.follow(entry);
    paintAges();
    st.ctx.toast(t('confirmed_cat', { cat: t('cat_' + c) }));
  } catch (e) {
    if (st !== mine) return;
    btn.disabled = false;
    if (e.status !== 412 || !e.data || !e.data.facility) {
      st.ctx.toast(e.offline ? t('offline_save') : t('error', { msg: e.message }));
      return;
    }
    ed.follow(e.data.facility);
    paintAges();
    const now = ed.entry.categories[c];
    if (!retried && now && now.available === cur.available && now.staffed === cur.staffed) {
      const again = st.root.querySelector(`[data-confirm="${c}"]`);
      if (again) confirmCat(c, again, true);
      return;
    }
    st.ctx.toast(t('confirm_moved', { cat: t('cat_' + c), who: author(setter(c, now) || ed.entry.updated_by) }));
  }
}
