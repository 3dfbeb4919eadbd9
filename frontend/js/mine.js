// "Mijn meldingen": her refusals of the last 7 days, from the service (GET /api/v1/refusals/mine),
// else the list kept on this device. The outcome form only while the service still accepts it;
// "undo" for 15 minutes after recording. Records still on the device (no connection) on top.
import { t, esc, clock, ago } from './i18n.js';
import { api, store } from './api.js';
import { pending, flush, remove, arrived, undo, undoProblem } from './outbox.js';

const OUTCOMES = ['placed', 'placed_outside_region', 'home_birth', 'birth_en_route', 'unknown'];
let root = null, ctx = null, items = [], facilities = [], fromServer = false, timer = null;

export async function mount(r, c) {
  root = r; ctx = c;
  facilities = store.get('facilities') || [];
  if (!facilities.length) {
    try { facilities = await api('/api/v1/facilities'); store.set('facilities', facilities); } catch { /* names then ids */ }
  }
  await flush();
  await load();
  render();
}
export function unmount() { root = null; clearTimeout(timer); }
// A waiting record went (or one was undone elsewhere): the list as the service has it now.
window.addEventListener('cap:outbox', async () => { if (root) { await load(); render(); } });
export function relabel() { render(); }

async function load() {
  try {
    const res = await api('/api/v1/refusals/mine?days=7');
    items = Array.isArray(res) ? res : res.items || [];
    fromServer = true;
    store.set('mine', items.slice(0, 50));
    arrived(items.map(m => m.client_key).filter(Boolean));
  } catch {
    items = store.get('mine') || [];  // offline, or an older service without the list
    fromServer = false;
  }
  items.sort((a, b) => b.occurred_at.localeCompare(a.occurred_at));
}

// The service says until when (outcome_editable_until); without it, the contract's 24 hours.
function editable(m) {
  const until = m.outcome_editable_until ? Date.parse(m.outcome_editable_until) : Date.parse(m.occurred_at) + 24 * 3600e3;
  return Date.now() < until;
}

// The service says until when (undo_until); a copy from this device counts from recorded_at.
function undoUntil(m) {
  if (m.undo_until) return Date.parse(m.undo_until);
  return m.recorded_at ? Date.parse(m.recorded_at) + 15 * 60e3 : 0;
}

function name(id) {
  const f = facilities.find(x => x.id === id);
  return f ? f.name : id;
}

function render() {
  if (!root) return;
  const waiting = pending();
  root.innerHTML = `<div class="pad"><h1>${esc(t('mine_title'))}</h1><p class="muted">${esc(fromServer ? t('mine_days') : t('mine_note'))}</p>
    ${items.length || waiting.length ? '' : `<p>${esc(t('mine_empty'))}</p>`}
    <ul class="mine">${waiting.slice().reverse().map(queued).join('')}${items.map(item).join('')}</ul></div>`;
  root.querySelectorAll('form.outcome').forEach(f => f.addEventListener('submit', submit));
  root.querySelectorAll('[data-undo]').forEach(b => b.addEventListener('click', onUndo));
  root.querySelectorAll('[data-remove]').forEach(b => b.addEventListener('click', onRemove));
  // The undo buttons go when their 15 minutes are over.
  clearTimeout(timer);
  const next = Math.min(...items.map(undoUntil).filter(u => u > Date.now()));
  if (Number.isFinite(next)) timer = setTimeout(render, next - Date.now() + 500);
}

const what = m => (m.decision === 'accepted' ? t('d_accepted') : `${t('d_refused')}: ${t('r_' + m.reason)}`);

function queued(q) {
  const m = q.body;
  const state = q.failed ? `${t('queued_refused')}: ${q.failed}` : t('queued_state');
  return `<li class="card queued" data-key="${esc(q.key)}" data-state="${q.failed ? 'failed' : 'waiting'}">
    <div class="head"><h2>${esc(q.name || name(m.facility_id))}</h2>
    <p class="where">${esc(clock(m.occurred_at))} (${esc(ago(m.occurred_at))}) · ${esc(what(m))} · ${esc(t('cat_' + m.category))}</p></div>
    <p class="badge-wait">${esc(state)}</p>
    <button type="button" class="btn small" data-remove="${esc(q.key)}">${esc(t('queued_remove'))}</button></li>`;
}

function undoButton(m) {
  const until = undoUntil(m);
  if (Date.now() >= until) return '';
  return `<button type="button" class="btn small undo" data-undo="${esc(m.id)}">${esc(t('undo_until', { time: clock(new Date(until).toISOString()) }))}</button>`;
}

async function onUndo(ev) {
  const button = ev.currentTarget;
  const id = Number(button.dataset.undo);
  button.disabled = true;
  try {
    await undo(id);
    items = items.filter(m => m.id !== id);
    render();
    ctx.toast(t('undone'));
  } catch (e) {
    button.disabled = false;
    ctx.toast(undoProblem(e), 8000);
  }
}

async function onRemove(ev) {
  const removed = await remove(ev.currentTarget.dataset.remove);
  await load();
  render();
  ctx.toast(t(removed ? 'queued_removed' : 'queued_already_sent'));
}

function item(m) {
  const head = `<div class="head"><h2>${esc(m.facility_name || name(m.facility_id))}</h2>
    <p class="where">${esc(clock(m.occurred_at))} (${esc(ago(m.occurred_at))}) · ${esc(what(m))} · ${esc(t('cat_' + m.category))}</p>
    ${m.shown_status ? `<p class="where">${esc(t('shown_was', { status: t('st_' + m.shown_status) }))}</p>` : ''}</div>
    ${undoButton(m)}`;
  if (!editable(m)) {
    return `<li class="card" data-id="${esc(m.id)}" data-editable="false">${head}
      <p>${esc(t('outcome'))}: ${esc(summary(m))}</p><p class="muted">${esc(t('too_late'))}</p></li>`;
  }
  const id = esc(m.id);
  const opts = OUTCOMES.map(o => `<label class="opt"><input type="radio" name="outcome" value="${o}"${m.outcome === o ? ' checked' : ''}><span>${esc(t('o_' + o))}</span></label>`).join('');
  const until = m.outcome_editable_until ? `<p class="muted">${esc(t('editable_until', { time: clock(m.outcome_editable_until) }))}</p>` : '';
  return `<li class="card" data-id="${id}" data-editable="true">${head}
    <form class="outcome" data-id="${id}" novalidate><fieldset><legend>${esc(t('outcome'))}</legend>${opts}</fieldset>
      <p class="error" data-err="outcome" role="alert"></p>
      <label class="field"><span>${esc(t('placed_at'))}</span><select name="placed" data-loc="placed_facility_id"><option value=""></option>
        ${facilities.map(f => `<option value="${esc(f.id)}"${f.id === m.placed_facility_id ? ' selected' : ''}>${esc(f.name)} (${esc(f.city)})</option>`).join('')}</select></label>
      <p class="error" data-err="placed_facility_id" role="alert"></p>
      <div class="row"><label class="field"><span>${esc(t('calls'))}</span><input name="calls" type="number" min="0" max="99" inputmode="numeric" data-loc="calls_until_placement" value="${m.calls_until_placement ?? ''}"></label>
      <label class="field"><span>${esc(t('minutes'))}</span><input name="minutes" type="number" min="0" max="1440" inputmode="numeric" data-loc="minutes_until_placement" value="${m.minutes_until_placement ?? ''}"></label></div>
      <p class="error" data-err="calls_until_placement" role="alert"></p><p class="error" data-err="minutes_until_placement" role="alert"></p>
      ${until}<p class="error" data-err="" role="alert"></p>
      <button class="btn primary" type="submit">${esc(t('save'))}</button>
    </form></li>`;
}

function summary(m) {
  if (!m.outcome) return t('not_given');
  const parts = [t('o_' + m.outcome)];
  if (m.placed_facility_id) parts.push(name(m.placed_facility_id));
  if (m.calls_until_placement != null) parts.push(`${t('calls')}: ${m.calls_until_placement}`);
  if (m.minutes_until_placement != null) parts.push(`${t('minutes')}: ${m.minutes_until_placement}`);
  return parts.join(' · ');
}

const num = v => (v === '' ? null : /^\d+$/.test(v) ? Number(v) : v);

async function submit(ev) {
  ev.preventDefault();
  const form = ev.target;
  form.querySelectorAll('.error').forEach(el => { el.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach(el => el.removeAttribute('aria-invalid'));
  const body = {
    outcome: form.outcome.value || 'unknown',
    placed_facility_id: form.placed.value || null,
    calls_until_placement: num(form.calls.value),
    minutes_until_placement: num(form.minutes.value),
  };
  try {
    const saved = await api(`/api/v1/refusals/${encodeURIComponent(form.dataset.id)}`, { method: 'PATCH', body });
    const m = items.find(x => String(x.id) === form.dataset.id);
    if (m) Object.assign(m, body, saved || {});
    store.set('mine', items.slice(0, 50));
    ctx.toast(t('outcome_saved'));
  } catch (e) {
    // A 422 names its field: the message goes beside it; anything else under the form.
    let placed = false;
    for (const [key, msg] of Object.entries(e.fields || {})) {
      const el = form.querySelector(`[data-err="${CSS.escape(key)}"]`);
      if (!el) continue;
      el.textContent = msg;
      const input = form.querySelector(`[data-loc="${CSS.escape(key)}"]`);
      if (input) input.setAttribute('aria-invalid', 'true');
      placed = true;
    }
    if (!placed) form.querySelector('[data-err=""]').textContent = e.offline ? t('offline_save') : t('error', { msg: e.message });
  }
}
