// "Mijn meldingen": the refusals recorded on this device, with their outcome (within 24 h).
import { t, esc, clock, ago } from './i18n.js';
import { api, store } from './api.js';

const OUTCOMES = ['placed', 'placed_outside_region', 'home_birth', 'birth_en_route', 'unknown'];
let root = null, ctx = null;

export async function mount(r, c) {
  root = r; ctx = c;
  await merge();
  render();
}
export function unmount() { root = null; }
export function relabel() { render(); }

// If the service lists a midwife's own refusals, take those too (the list on this device is the fallback).
async function merge() {
  try {
    const server = await api('/api/v1/refusals/mine');
    const items = Array.isArray(server) ? server : server.items || [];
    const local = store.get('mine') || [];
    const byId = Object.fromEntries(local.map(x => [x.id, x]));
    const facilities = Object.fromEntries((store.get('facilities') || []).map(f => [f.id, f.name]));
    for (const s of items) byId[s.id] = { ...byId[s.id], ...s, facility_name: facilities[s.facility_id] || s.facility_id };
    store.set('mine', Object.values(byId).sort((a, b) => b.occurred_at.localeCompare(a.occurred_at)).slice(0, 50));
  } catch { /* endpoint missing or offline: the device's own list */ }
}

function render() {
  if (!root) return;
  const mine = store.get('mine') || [];
  const facilities = store.get('facilities') || [];
  root.innerHTML = `<div class="pad"><h1>${esc(t('mine_title'))}</h1><p class="muted">${esc(t('mine_note'))}</p>
    ${mine.length ? '' : `<p>${esc(t('mine_empty'))}</p>`}
    <ul class="mine">${mine.map(m => item(m, facilities)).join('')}</ul></div>`;
  root.querySelectorAll('form.outcome').forEach(f => f.addEventListener('submit', submit));
}

function item(m, facilities) {
  const late = Date.now() - Date.parse(m.occurred_at) > 24 * 3600e3;
  const opts = OUTCOMES.map(o => `<label class="opt"><input type="radio" name="outcome" value="${o}"${m.outcome === o ? ' checked' : ''}${late ? ' disabled' : ''}><span>${esc(t('o_' + o))}</span></label>`).join('');
  return `<li class="card"><div class="head"><h2>${esc(m.facility_name || m.facility_id)}</h2>
    <p class="where">${esc(clock(m.occurred_at))} (${esc(ago(m.occurred_at))}) · ${esc(t('r_' + m.reason))} · ${esc(t('cat_' + m.category))}</p>
    ${m.shown_status ? `<p class="where">${esc(t('shown_was', { status: t('st_' + m.shown_status) }))}</p>` : ''}</div>
    <form class="outcome" data-id="${esc(m.id)}"><fieldset><legend>${esc(t('outcome'))}</legend>${opts}</fieldset>
      <label class="field"><span>${esc(t('placed_at'))}</span><select name="placed"${late ? ' disabled' : ''}><option value=""></option>
        ${facilities.map(f => `<option value="${esc(f.id)}"${f.id === m.placed_facility_id ? ' selected' : ''}>${esc(f.name)} (${esc(f.city)})</option>`).join('')}</select></label>
      <div class="row"><label class="field"><span>${esc(t('calls'))}</span><input name="calls" type="number" min="0" max="99" inputmode="numeric" value="${m.calls_until_placement ?? ''}"${late ? ' disabled' : ''}></label>
      <label class="field"><span>${esc(t('minutes'))}</span><input name="minutes" type="number" min="0" max="1440" inputmode="numeric" value="${m.minutes_until_placement ?? ''}"${late ? ' disabled' : ''}></label></div>
      <p class="error" role="alert"></p>
      ${late ? `<p class="muted">${esc(t('too_late'))}</p>` : `<button class="btn primary" type="submit">${esc(t('save'))}</button>`}
    </form></li>`;
}

async function submit(ev) {
  ev.preventDefault();
  const form = ev.target;
  const err = form.querySelector('.error');
  err.textContent = '';
  const body = {
    outcome: form.outcome.value || 'unknown',
    placed_facility_id: form.placed.value || null,
    calls_until_placement: form.calls.value === '' ? null : Number(form.calls.value),
    minutes_until_placement: form.minutes.value === '' ? null : Number(form.minutes.value),
  };
  try {
    await api(`/api/v1/refusals/${encodeURIComponent(form.dataset.id)}`, { method: 'PATCH', body });
    const mine = store.get('mine') || [];
    const m = mine.find(x => String(x.id) === form.dataset.id);
    if (m) Object.assign(m, body);
    store.set('mine', mine);
    ctx.toast(t('outcome_saved'));
  } catch (e) {
    err.textContent = e.offline ? t('offline_save') : t('error', { msg: e.message });
  }
}
