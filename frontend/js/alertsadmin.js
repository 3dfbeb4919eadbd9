// Alerts for those who coordinate: the dead letters with "try again" (admin screen) and the
// region's overdue reporters (analyst screen). Each mounts into a box its screen gives it.
import { t, esc, clock, ago } from './i18n.js';
import { api } from './api.js';
import { alertText } from './bell.js';

const problem = e => (e.offline ? t('offline_save') : t('error', { msg: e.message }));

// ---- dead letters (admin) ---------------------------------------------------------------------

function deadItem(a) {
  return `<li class="adm-item off" data-dead="${a.id}">
    <div class="adm-head"><b>${esc(alertText(a))}</b><span class="tag off">${esc(t('ch_' + a.channel))}</span></div>
    <p class="muted">${esc(t('rule_' + a.rule))} · <time datetime="${esc(a.created_at)}">${esc(clock(a.created_at))}</time>
      · ${esc(t('dl_attempts', { n: a.attempts }))}</p>
    ${a.last_error ? `<p class="muted mono">${esc(t('dl_error', { msg: a.last_error }))}</p>` : ''}
    <div class="adm-actions"><button type="button" class="btn small" data-retry="${a.id}">${esc(t('dl_retry'))}</button></div>
  </li>`;
}

export async function mountDeadLetters(box, ctx) {
  let dead;
  try {
    dead = await api('/api/v1/alerts/dead-letters');
  } catch (e) {
    box.innerHTML = `<p class="error" role="alert">${esc(problem(e))}</p>`;
    return;
  }
  box.innerHTML = `<p class="muted">${esc(t('dl_intro'))}</p>
    <ul class="adm-list" id="dead">${dead.map(deadItem).join('') || `<li class="muted">${esc(t('dl_none'))}</li>`}</ul>`;
  box.querySelector('#dead').addEventListener('click', async e => {
    const b = e.target.closest('[data-retry]');
    if (!b) return;
    b.disabled = true;
    try {
      await api(`/api/v1/alerts/dead-letters/${b.dataset.retry}/retry`, { method: 'POST' });
    } catch (err) {
      b.disabled = false;
      ctx.toast(problem(err));
      return;
    }
    ctx.toast(t('dl_retried'));
    ctx.announce(t('dl_retried'));
    if (box.isConnected) mountDeadLetters(box, ctx);
  });
}

// ---- overdue reporters (analyst) --------------------------------------------------------------

// The region's facilities without a current figure, and since when; names from ``names`` (id -> name).
export async function mountOverdue(box, region, names) {
  box.dataset.region = region;
  let overdue;
  try {
    overdue = await api(`/api/v1/regions/${encodeURIComponent(region)}/overdue`);
  } catch (e) {
    if (box.dataset.region === region) box.innerHTML = '';  // not this account's to see, or no connection: the rest of the screen stands
    return;
  }
  if (!box.isConnected || box.dataset.region !== region) return;  // left, or another region asked since
  box.innerHTML = `<section class="chart" id="overdue"><h2>${esc(t('ov_title'))}</h2>
    ${overdue.length ? `<ul class="adm-list">${overdue.map(o => `<li class="adm-item late"><b>${esc(names[o.facility_id] || o.facility_id)}</b>
      <p class="muted"><time datetime="${esc(o.since)}">${esc(t('ov_since', { time: clock(o.since), ago: ago(o.since) }))}</time></p></li>`).join('')}</ul>`
    : `<p class="muted">${esc(t('ov_none'))}</p>`}</section>`;
}
