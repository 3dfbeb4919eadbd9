// The ROAZ analyst's screen: filters, refusal charts, hours red/stop/stale, downloads and reports.
import { t, esc, lang } from './i18n.js';
import { api, store } from './api.js';
import { hbars, heatmap } from './charts.js';
import { mountOverdue } from './alertsadmin.js';

const REASONS = ['no_bed', 'no_nurse', 'no_obstetrician', 'neonatal_full', 'stop', 'other'];
let st = null;
let mounts = 0;

// The local date (statistics count Dutch days): the UTC date was yesterday's between
// midnight and 01:00/02:00, and the day's refusals were missing from the default range.
const iso = d => new Date(d.getTime() - d.getTimezoneOffset() * 6e4).toISOString().slice(0, 10);

export async function mount(root, ctx) {
  const turn = ++mounts;
  const s = ctx.session;
  const to = new Date(), from = new Date(Date.now() - 29 * 864e5);
  // Built aside and published whole: a load() still running from an earlier mount reads the
  // shared state, and must never see it without its region (it asked for region=null).
  const next = { root, ctx, region: s.region_id, fixed: s.role === 'analyst' && !!s.region_id, from: iso(from), to: iso(to), regions: [], names: {} };
  try { next.regions = await api('/api/v1/regions'); } catch { next.regions = store.get('regions') || []; }
  const saved = localStorage.getItem('cap.region');
  if (!next.region) next.region = (next.regions.find(r => r.id === saved) || next.regions[0] || {}).id;
  try { for (const f of await api('/api/v1/facilities')) next.names[f.id] = f.name; } catch { /* ids then */ }
  if (turn !== mounts) return; // unmounted or mounted again meanwhile
  st = next;
  frame();
  await load();
}
export function unmount() { st = null; mounts++; }
export function relabel() { frame(); load(); }

function frame() {
  const regionField = st.fixed
    ? `<p class="field"><span>${esc(t('region'))}</span><b>${esc((st.regions.find(r => r.id === st.region) || {}).name || st.region)}</b></p>`
    : `<label class="field"><span>${esc(t('region'))}</span><select id="a-region">${st.regions.map(r =>
      `<option value="${esc(r.id)}"${r.id === st.region ? ' selected' : ''}>${esc(r.name)}</option>`).join('')}</select></label>`;
  st.root.innerHTML = `<div class="pad analyst"><h1>${esc(t('analyst_title'))}</h1>
    <form class="filters" id="filters">${regionField}<span></span>
      <label class="field"><span>${esc(t('from'))}</span><input type="date" id="a-from" value="${st.from}"></label>
      <label class="field"><span>${esc(t('to'))}</span><input type="date" id="a-to" value="${st.to}"></label>
      <button class="btn primary" type="submit">${esc(t('apply'))}</button></form>
    <p class="error" id="a-error" role="alert"></p>
    <div id="a-overdue"></div>
    <div id="a-body" aria-live="polite"></div></div>`;
  st.root.querySelector('#filters').addEventListener('submit', e => {
    e.preventDefault();
    const r = st.root.querySelector('#a-region');
    if (r) st.region = r.value;
    st.from = st.root.querySelector('#a-from').value;
    st.to = st.root.querySelector('#a-to').value;
    load();
  });
}

const q = () => `region=${encodeURIComponent(st.region)}&from=${st.from}&to=${st.to}`;

// Rows of the export CSV: the stats endpoint groups by one key; two-way charts are counted here.
function parseCsv(text) {
  text = text.replace(/^\ufeff/, '');
  const rows = [];
  let row = [], cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false; else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(cell); cell = ''; } else if (ch === '\n') { row.push(cell.replace(/\r$/, '')); rows.push(row); row = []; cell = ''; } else cell += ch;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  const [head, ...body] = rows;
  return body.filter(r => r.length === head.length).map(r => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

function isoWeek(d) {
  const x = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const day = x.getUTCDay() || 7;
  x.setUTCDate(x.getUTCDate() + 4 - day);
  const y0 = new Date(Date.UTC(x.getUTCFullYear(), 0, 1));
  return `${x.getUTCFullYear()}-W${String(Math.ceil(((x - y0) / 864e5 + 1) / 7)).padStart(2, '0')}`;
}

function section(title, body) { return `<section class="chart"><h2>${esc(title)}</h2>${body}</section>`; }

async function load() {
  if (!st) return;
  mountOverdue(st.root.querySelector('#a-overdue'), st.region, st.names);  // "Geen actuele cijfers"
  const body = st.root.querySelector('#a-body');
  const err = st.root.querySelector('#a-error');
  err.textContent = '';
  body.innerHTML = `<p class="muted">${esc(t('loading'))}</p>`;
  let stats, byFacility, rows = [], hours = null, reports = [];
  try {
    [stats, byFacility] = await Promise.all([
      api(`/api/v1/refusals/stats?${q()}&group_by=reason`),
      api(`/api/v1/refusals/stats?${q()}&group_by=facility`),
    ]);
    // codes and commas: the export's default is labelled for Dutch Excel
    const csv = await api(`/api/v1/refusals/export?${q()}&format=csv&codes=true&sep=,`, { raw: true });
    rows = parseCsv(await csv.text()).filter(r => !r.decision || r.decision === 'refused');
  } catch (e) {
    err.textContent = e.status === 404 ? t('not_available') : t('error', { msg: e.message });
    body.innerHTML = '';
    if (!stats) return;
  }
  try { hours = await api(`/api/v1/capacity-over-time?${q()}&period=total`); } catch { /* optional */ }
  try { reports = await api(`/api/v1/reports?region=${encodeURIComponent(st.region)}`); } catch { /* optional */ }
  if (!st) return;
  const name = id => st.names[id] || id;
  let html = `<div class="kpis"><div class="kpi"><b id="kpi-total">${stats.total}</b>${esc(t('total'))}</div>
    <div class="kpi"><b id="kpi-shown">${stats.shown_available}</b>${esc(t('shown_available'))}</div></div>`;
  if (!stats.total) html += `<p class="muted">${esc(t('no_data'))}</p>`;
  // Per week by reason (from the export rows).
  const weeks = {};
  for (const r of rows) {
    const w = isoWeek(new Date(r.occurred_at));
    weeks[w] = weeks[w] || REASONS.map(() => 0);
    const i = REASONS.indexOf(r.reason);
    weeks[w][i < 0 ? REASONS.length - 1 : i] += 1;
  }
  const reasonNames = REASONS.map(r => t('r_' + r));
  html += section(t('ch_week_reason'), rows.length ? hbars(Object.keys(weeks).sort().map(w => ({ label: w, values: weeks[w] })), reasonNames) : `<p class="muted">${esc(t('no_data'))}</p>`);
  // Per facility: refused, of which while shown available.
  const fac = byFacility.groups.filter(g => g.count > 0);
  html += section(t('ch_facility'), `<div id="chart-facility">${fac.length ? hbars(fac.map(g => ({ label: name(g.key), values: [g.shown_available, g.count - g.shown_available] })), [t('shown_available'), t('other_refusals')]) : `<p class="muted">${esc(t('no_data'))}</p>`}</div>`);
  // Hour of day × weekday heatmap (local time of the browser).
  const grid = Array.from({ length: 7 }, () => Array(24).fill(0));
  for (const r of rows) { const d = new Date(r.occurred_at); grid[(d.getDay() + 6) % 7][d.getHours()] += 1; }
  html += section(t('ch_heat'), heatmap(grid, t('wd')));
  // By reason (from the stats endpoint).
  const rs = stats.groups.filter(g => g.count > 0);
  html += section(t('ch_reason'), rs.length ? hbars(rs.map(g => ({ label: t('r_' + g.key), values: [g.count] })), [t('total')]) : `<p class="muted">${esc(t('no_data'))}</p>`);
  // Hours red / stop / stale per facility (delivery room).
  if (hours && hours.rows) {
    const hr = hours.rows.filter(r => r.category === 'delivery_room');
    html += section(`${t('ch_hours')} (${t('cat_delivery_room')})`, hr.length ? hbars(hr.map(r => ({ label: name(r.facility_id), values: [r.hours_red, r.hours_stop, r.hours_stale].map(Number) })),
      [t('st_red'), t('st_stop'), t('stale_note')]) : `<p class="muted">${esc(t('no_data'))}</p>`);
  }
  // Downloads and monthly reports.
  // Downloads are labelled in the screen's language (not the browser's Accept-Language).
  const dl = (path, label) => `<button type="button" class="btn" data-dl="${esc(path)}&lang=${lang}">⤓ ${esc(label)}</button>`;
  const thisMonth = iso(new Date()).slice(0, 7);
  html += section(t('downloads'), `<div class="downloads">
    ${dl(`/api/v1/refusals/export?${q()}&format=csv`, t('nav_analyst') + ' ' + t('csv'))}
    ${dl(`/api/v1/refusals/export?${q()}&format=xlsx`, t('nav_analyst') + ' ' + t('xlsx'))}
    ${dl(`/api/v1/capacity-over-time?${q()}&period=week&format=csv`, t('ch_hours').split(' ')[0] + ' ' + t('csv'))}
    ${dl(`/api/v1/capacity-over-time?${q()}&period=week&format=xlsx`, t('ch_hours').split(' ')[0] + ' ' + t('xlsx'))}</div>
    <h3>${esc(t('monthly'))}</h3><p class="muted">${esc(t('rep_x'))}</p>
    <form class="filters" id="rep-form"><label class="field"><span>${esc(t('rep_month'))}</span>
      <input type="month" id="rep-month" max="${thisMonth}" value="${thisMonth}" required></label>
      <button class="btn" type="submit">${esc(t('rep_make'))}</button></form>
    <ul class="reports">${(reports || []).map(r => `<li>${esc(r.month)}: <button type="button" class="btn primary" data-view="${r.id}">${esc(t('rep_view'))}</button> ${['html', 'csv', 'xlsx'].map(f => dl(`/api/v1/reports/${r.id}?format=${f}`, f.toUpperCase())).join(' ')}</li>`).join('') || `<li class="muted">${esc(t('no_data'))}</li>`}</ul>
    <div id="report-view" aria-live="polite"></div>`);
  body.innerHTML = html;
  body.querySelectorAll('[data-dl]').forEach(b => b.addEventListener('click', () => download(b.dataset.dl)));
  body.querySelectorAll('[data-view]').forEach(b => b.addEventListener('click', () => view(b.dataset.view)));
  body.querySelector('#rep-form').addEventListener('submit', async e => {
    e.preventDefault();
    const month = body.querySelector('#rep-month').value;
    try {
      const made = await api(`/api/v1/reports?region=${encodeURIComponent(st.region)}&month=${month}`, { method: 'POST' });
      st.ctx.toast(t('rep_made', { month }));
      await load();
      await view(made.id);
    } catch (err) { st.ctx.toast(t('error', { msg: err.message })); }
  });
}

// The monthly report on screen: names, labels, "x" for a suppressed cell, "n.v.t." where a
// figure does not apply, and a chart. JSON cells: {"suppressed": true}, or null (not applicable).
const hidden = v => !!(v && typeof v === 'object' && v.suppressed);
function shown(v, pct) {
  if (hidden(v)) return `<td class="num x" title="${esc(t('rep_x'))}">x</td>`;
  if (v === null || v === undefined) return `<td class="num na">${esc(t('na'))}</td>`;
  const n = pct ? `${(v * 100).toFixed(1)}%` : Number.isInteger(v) ? String(v) : v.toFixed(1);
  return `<td class="num">${esc(lang === 'nl' ? n.replace('.', ',') : n)}</td>`;
}
function reportTable(head, rows) {
  return `<div class="wide"><table class="report-table"><thead><tr>${head.map(h => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>
    <tbody>${rows.map(([label, ...cells]) => `<tr><th scope="row">${esc(label)}</th>${cells.join('')}</tr>`).join('')}</tbody></table></div>`;
}

async function view(id) {
  const out = st && st.root.querySelector('#report-view');
  if (!out) return;
  let r;
  try { r = await api(`/api/v1/reports/${id}`); } catch (e) { st.ctx.toast(t('error', { msg: e.message })); return; }
  const names = { ...st.names, ...(r.facility_names || {}) };
  const fac = r.groups.facility;
  const chartRows = fac.filter(g => hidden(g.count) || g.count > 0);
  const chart = chartRows.length ? hbars(chartRows.map(g => ({ label: names[g.key] || g.key, values: [hidden(g.count) ? 0 : g.count], note: hidden(g.count) ? 'x' : undefined })), [t('rep_refused')]) : `<p class="muted">${esc(t('no_data'))}</p>`;
  const s = r.summary;
  out.innerHTML = `<section class="chart report" id="report"><h2>${esc(t('monthly'))} ${esc(r.region_name || r.region)}, ${esc(r.month)}</h2>
    <p class="${r.in_progress ? 'warn' : 'muted'}" id="report-status">${esc(t(r.in_progress ? 'rep_in_progress' : 'rep_final'))}</p>
    <p class="muted">${esc(t('rep_x'))}<br>${esc(t('rep_na'))}</p>
    <h3>${esc(t('rep_by_facility'))}</h3><div id="report-chart">${chart}</div>
    ${reportTable([t('rep_facility'), t('rep_refused'), t('rep_accepted'), t('rep_rate'), t('rep_hours_stop'), t('rep_hours_full')],
      [...fac.map(g => [names[g.key] || g.key, shown(g.count), shown(g.accepted), shown(g.refusal_rate, true), shown(g.hours_stop), shown(g.hours_full)]),
        [t('sum'), shown(s.total), shown(s.accepted), shown(s.refusal_rate, true), '<td></td>', '<td></td>']])}
    <h3>${esc(t('rep_by_reason'))}</h3>
    ${reportTable([t('rep_reason'), t('rep_refused')], [...r.groups.reason.map(g => [t('r_' + g.key), shown(g.count)]), [t('sum'), shown(s.total)]])}
    <div class="downloads">${['html', 'csv', 'xlsx'].map(f => `<button type="button" class="btn" data-dl="/api/v1/reports/${r.id || id}?format=${f}&lang=${lang}">⤓ ${f.toUpperCase()}</button>`).join(' ')}</div></section>`;
  out.querySelectorAll('[data-dl]').forEach(b => b.addEventListener('click', () => download(b.dataset.dl)));
  out.querySelector('#report').scrollIntoView();
}

// Downloads need the bearer token, so they go through fetch and a temporary object URL.
async function download(path) {
  try {
    const res = await api(path, { raw: true });
    const cd = res.headers.get('Content-Disposition') || '';
    const m = /filename="?([^";]+)"?/.exec(cd);
    const blob = await res.blob();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = m ? m[1] : path.split('/').pop().split('?')[0] + (path.includes('format=html') ? '.html' : '');
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  } catch (e) {
    st.ctx.toast(t('error', { msg: e.message }));
  }
}
