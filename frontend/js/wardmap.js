// A facility's ward map: which ward codes of the hospital's bed list count for which category.
// mountWardMap(container, facility, ctx) draws it into `container` (the admin screen mounts it
// beside the numbers); one Save replaces the whole map (PUT /api/v1/facilities/{id}/wards).
import { t, esc } from './i18n.js';
import { api } from './api.js';

const url = fid => `/api/v1/facilities/${encodeURIComponent(fid)}/wards`;
const kept = {};  // facility id -> rows being edited, kept across redraws of the admin screen

export async function mountWardMap(container, facility, ctx) {
  const fid = facility.id;
  if (kept[fid]) { draw(container, facility, ctx); return; }
  try {
    kept[fid] = (await api(url(fid))).wards.map(w => ({ ...w }));
  } catch (e) {
    container.innerHTML = `<p class="error">${esc(e.offline ? t('offline_save') : t('error', { msg: e.message }))}</p>`;
    return;
  }
  if (container.isConnected) draw(container, facility, ctx);
}

function row(w, i, cats) {
  return `<li class="wm-row" data-row="${i}">
    <label class="field" for="wm-ward-${i}"><span>${esc(t('wm_ward'))}</span>
      <input id="wm-ward-${i}" name="ward" maxlength="32" autocomplete="off" autocapitalize="characters" spellcheck="false" value="${esc(w.ward)}"></label>
    <label class="field" for="wm-cat-${i}"><span>${esc(t('wm_category'))}</span>
      <select id="wm-cat-${i}" name="category">${cats.map(c => `<option value="${c}"${c === w.category ? ' selected' : ''}>${esc(t('cat_' + c))}</option>`).join('')}</select></label>
    <button type="button" class="btn small" data-wm="remove" aria-label="${esc(t('wm_remove', { ward: w.ward || '…' }))}">✕</button>
    <p class="error wm-err" role="alert" data-wm-err="${i}"></p>
  </li>`;
}

function draw(box, facility, ctx) {
  const rows = kept[facility.id], cats = facility.categories;
  box.innerHTML = `<h2>${esc(t('wm_title'))}</h2><p class="muted">${esc(t('wm_intro'))}</p>
    <form class="wardmap" novalidate>
      ${rows.length ? '' : `<p class="muted">${esc(t('wm_none'))}</p>`}
      <ul class="wm-list">${rows.map((w, i) => row(w, i, cats)).join('')}</ul>
      <button type="button" class="btn small" data-wm="add">${esc(t('wm_add'))}</button>
      <p class="error" role="alert" data-wm-err="form"></p>
      <button class="btn primary" type="submit">${esc(t('wm_save'))}</button>
    </form>`;
  const form = box.querySelector('form');
  form.addEventListener('input', ev => {
    const li = ev.target.closest('[data-row]');
    if (li) rows[Number(li.dataset.row)][ev.target.name] = ev.target.value;
  });
  form.addEventListener('click', ev => {
    const b = ev.target.closest('[data-wm]');
    if (!b) return;
    if (b.dataset.wm === 'add') rows.push({ ward: '', category: cats[0] });
    else rows.splice(Number(b.closest('[data-row]').dataset.row), 1);
    draw(box, facility, ctx);
    if (b.dataset.wm === 'add') box.querySelector(`#wm-ward-${rows.length - 1}`).focus();
  });
  form.addEventListener('submit', ev => { ev.preventDefault(); save(box, facility, ctx); });
}

async function save(box, facility, ctx) {
  const rows = kept[facility.id], form = box.querySelector('form');
  form.querySelectorAll('.error').forEach(el => { el.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach(el => el.removeAttribute('aria-invalid'));
  const sent = rows.map(w => ({ ward: w.ward.trim(), category: w.category }));
  const btn = form.querySelector('[type=submit]');
  btn.disabled = true;
  try {
    const answer = await api(url(facility.id), { method: 'PUT', body: { wards: sent } });
    kept[facility.id] = answer.wards.map(w => ({ ...w }));
    if (box.isConnected) draw(box, facility, ctx);
    ctx.toast(t('wm_saved'));
  } catch (e) {
    let placed = false;
    for (const [key, msg] of Object.entries(e.fields || {})) {
      const [, i, column] = key.split('.');
      const err = form.querySelector(`[data-wm-err="${CSS.escape(String(i))}"]`);
      if (!err || i === undefined) continue;
      err.textContent = msg;
      const input = form.querySelector(`#wm-${column === 'category' ? 'cat' : 'ward'}-${i}`);
      if (input) input.setAttribute('aria-invalid', 'true');
      placed = true;
    }
    if (!placed) form.querySelector('[data-wm-err="form"]').textContent = e.offline ? t('offline_save') : t('error', { msg: e.message });
  } finally {
    btn.disabled = false;
  }
}
