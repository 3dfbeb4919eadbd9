// The ward's screen: +/- steppers for free and staffed beds per category, one Save, and the stop.
import { t, esc, clock, ago } from './i18n.js';
import { api, store } from './api.js';

const CATS = ['delivery_room', 'maternity_bed', 'obstetric_high_care', 'neonatal_high_care', 'nicu'];
let st = null;

export async function mount(root, ctx) {
  st = { root, ctx, facility: null, entry: null, fid: ctx.session.facility_id, all: [] };
  if (!st.fid) {
    // Admins choose a facility; other roles without a facility see a note.
    if (ctx.session.role !== 'admin') { root.innerHTML = `<p class="pad">${esc(t('not_for_staff'))}</p>`; return; }
    st.all = await api('/api/v1/facilities').catch(() => store.get('facilities') || []);
    st.fid = localStorage.getItem('cap.staff.fid') || (st.all[0] || {}).id;
  }
  await load();
}
export function unmount() { st = null; }
export function relabel() { render(); }

async function load() {
  try {
    st.facility = await api(`/api/v1/facilities/${encodeURIComponent(st.fid)}`);
    const pic = await api(`/api/v1/regions/${encodeURIComponent(st.facility.region)}/capacity`);
    st.entry = pic.facilities.find(e => e.facility_id === st.fid) || { categories: {}, stop: null };
  } catch (e) {
    st.root.innerHTML = `<p class="pad error">${esc(e.offline ? t('offline_save') : t('error', { msg: e.message }))}</p>`;
    return;
  }
  render();
}

// The author comes from the service (updated_by on the entry or its newest figure); an older
// service without it: this device's own save, if it is the change shown; else the time alone.
function author(who) {
  if (who === 'system') return t('by_system');
  if (who.startsWith('key:')) return t('by_key');
  return who;
}

function lastChange() {
  const figs = Object.values(st.entry.categories).sort((a, b) => a.updated_at.localeCompare(b.updated_at));
  const newest = figs[figs.length - 1];
  if (!newest) return t('last_change', { time: t('never') });
  const at = st.entry.updated_at || newest.updated_at;
  const when = `${clock(at)} (${ago(at)})`;
  const who = st.entry.updated_by || newest.updated_by;
  if (who) return t('last_change_by', { time: when, who: author(who) });
  const mine = store.get('lastsave.' + st.fid);
  if (mine && mine.at === at) return t('last_change_by', { time: when, who: mine.user });
  return t('last_change', { time: when });
}

function stepper(c, kind, value) {
  const id = `${c}-${kind}`;
  return `<div class="step"><label for="${id}">${esc(t(kind))}</label>
    <button type="button" class="btn" data-step="-1" data-for="${id}" aria-label="${esc(t(kind) + ': ' + t('minus'))}">−</button>
    <input id="${id}" name="${id}" type="number" inputmode="numeric" min="0" max="500" value="${value}" data-loc="categories.${c}.${kind}" aria-describedby="err-${id}">
    <button type="button" class="btn" data-step="1" data-for="${id}" aria-label="${esc(t(kind) + ': ' + t('plus'))}">+</button></div>
    <p class="error" id="err-${id}" data-err="categories.${c}.${kind}" role="alert"></p>`;
}

function render() {
  if (!st || !st.facility) return;
  const f = st.facility, e = st.entry;
  const cats = CATS.filter(c => f.categories.includes(c));
  const stop = e.stop;
  const picker = st.all.length ? `<label class="field"><span>${esc(t('nav_staff'))}</span><select id="pick">${st.all.map(x =>
    `<option value="${esc(x.id)}"${x.id === st.fid ? ' selected' : ''}>${esc(x.name)} (${esc(x.city)})</option>`).join('')}</select></label>` : '';
  st.root.innerHTML = `<div class="pad staff">${picker}
    <h1>${esc(f.name)}</h1><p class="muted" id="last-change">${esc(lastChange())}</p>
    <form id="figures" novalidate><div class="steppers">
    ${cats.map(c => {
      const cur = e.categories[c] || { available: 0, staffed: 0 };
      return `<fieldset class="stepcat" data-cat="${c}"><legend><h2>${esc(t('cat_' + c))}</h2></legend>
        ${stepper(c, 'available', cur.available)}${stepper(c, 'staffed', cur.staffed)}
        <p class="error" data-err="categories.${c}" role="alert"></p></fieldset>`;
    }).join('')}</div>
    <p class="error" id="fig-error" role="alert"></p>
    <div class="sticky-save"><button class="btn primary big" type="submit" id="save">${esc(t('save_figures'))}</button></div>
    </form>
    <section class="stopbox" aria-labelledby="stop-h"><h2 id="stop-h">${esc(t('stop_title'))}</h2>
    ${stop ? `<p class="stopban" role="note">⊘ ${esc(t('stop_active', { time: clock(stop.since) }))} · ${esc(t('reason_' + stop.reason))}
        · ${esc(stop.until ? t('stop_until', { time: clock(stop.until) }) : t('stop_open'))}</p>
        <button type="button" class="btn big" id="lift">${esc(t('lift_stop'))}</button>`
      : `<p class="muted">${esc(t('no_stop'))}</p><form id="stop-form" novalidate>
        <label class="field"><span>${esc(t('stop_reason'))}</span><select name="reason" id="stop-reason">
          ${['staff', 'beds', 'other'].map(r => `<option value="${r}">${esc(t('reason_' + r))}</option>`).join('')}</select></label>
        <label class="field"><span>${esc(t('stop_until_label'))}</span><input type="datetime-local" name="until" id="stop-until" aria-describedby="err-until"></label>
        <p class="error" id="err-until" data-err="until" role="alert"></p>
        <button class="btn danger big" type="submit">${esc(t('declare_stop'))}</button></form>`}
    <p class="error" id="stop-error" role="alert"></p></section></div>`;
  const pick = st.root.querySelector('#pick');
  if (pick) pick.addEventListener('change', () => { st.fid = pick.value; localStorage.setItem('cap.staff.fid', st.fid); load(); });
  st.root.querySelector('#figures').addEventListener('click', ev => {
    const b = ev.target.closest('[data-step]');
    if (!b) return;
    const input = st.root.querySelector('#' + b.dataset.for);
    input.value = Math.max(0, Math.min(500, (parseInt(input.value, 10) || 0) + Number(b.dataset.step)));
  });
  st.root.querySelector('#figures').addEventListener('submit', saveFigures);
  const sf = st.root.querySelector('#stop-form');
  if (sf) sf.addEventListener('submit', declareStop);
  const lift = st.root.querySelector('#lift');
  if (lift) lift.addEventListener('click', liftStop);
}

function clearErrors(scope) {
  scope.querySelectorAll('.error').forEach(el => { el.textContent = ''; });
  scope.querySelectorAll('[aria-invalid]').forEach(el => el.removeAttribute('aria-invalid'));
}

// Put each message of a 422 beside the field its loc names (or the nearest enclosing one).
function showFieldErrors(scope, err, fallback) {
  let placed = false;
  for (const [key, msg] of Object.entries(err.fields)) {
    const parts = key.split('.');
    while (parts.length) {
      const k = parts.join('.');
      const el = scope.querySelector(`[data-err="${CSS.escape(k)}"]`);
      if (el) {
        el.textContent = msg;
        const input = scope.querySelector(`[data-loc="${CSS.escape(k)}"]`);
        if (input) input.setAttribute('aria-invalid', 'true');
        placed = true;
        break;
      }
      parts.pop();
    }
  }
  if (!placed) fallback.textContent = err.offline ? t('offline_save') : t('error', { msg: err.message });
}

async function saveFigures(ev) {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  const categories = {};
  for (const fs of form.querySelectorAll('.stepcat')) {
    const c = fs.dataset.cat;
    const num = kind => { const v = fs.querySelector(`#${c}-${kind}`).value; return /^\d+$/.test(v) ? Number(v) : v; };
    categories[c] = { available: num('available'), staffed: num('staffed') };
  }
  const btn = form.querySelector('#save');
  btn.disabled = true;
  try {
    st.entry = await api(`/api/v1/facilities/${encodeURIComponent(st.fid)}/capacity`, { method: 'PUT', body: { categories } });
    const at = Object.values(st.entry.categories).map(x => x.updated_at).sort().pop();
    store.set('lastsave.' + st.fid, { at, user: st.ctx.session.username });
    render();
    st.ctx.toast(t('saved_figures'));
  } catch (e) {
    btn.disabled = false;
    showFieldErrors(form, e, form.querySelector('#fig-error'));
  }
}

async function declareStop(ev) {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  const until = form.until.value ? new Date(form.until.value).toISOString() : null;
  try {
    st.entry = await api(`/api/v1/facilities/${encodeURIComponent(st.fid)}/stop`, { method: 'PUT', body: { reason: form.reason.value, until } });
    render();
    st.ctx.toast(t('stop_saved'));
  } catch (e) {
    showFieldErrors(form, e, st.root.querySelector('#stop-error'));
  }
}

async function liftStop() {
  try {
    st.entry = await api(`/api/v1/facilities/${encodeURIComponent(st.fid)}/stop`, { method: 'DELETE' });
    render();
    st.ctx.toast(t('stop_lifted'));
  } catch (e) {
    st.root.querySelector('#stop-error').textContent = e.offline ? t('offline_save') : t('error', { msg: e.message });
  }
}
