// The stop (volmelding) box of the ward's screen: declare one with a reason and end, or lift it.
// Drawn again whenever the facility's stop changes, also when another screen changed it.
import { t, esc, clock } from './i18n.js';
import { api } from './api.js';
import { clearErrors, showFieldErrors } from './fielderrors.js';

export function stopHtml(stop) {
  const body = stop
    ? `<p class="stopban" role="note">⊘ ${esc(t('stop_active', { time: clock(stop.since) }))} · ${esc(t('reason_' + stop.reason))}
        · ${esc(stop.until ? t('stop_until', { time: clock(stop.until) }) : t('stop_open'))}</p>
        <button type="button" class="btn big" id="lift">${esc(t('lift_stop'))}</button>`
    : `<p class="muted">${esc(t('no_stop'))}</p><form id="stop-form" novalidate>
        <label class="field"><span>${esc(t('stop_reason'))}</span><select name="reason" id="stop-reason">
          ${['staff', 'beds', 'other'].map(r => `<option value="${r}">${esc(t('reason_' + r))}</option>`).join('')}</select></label>
        <label class="field"><span>${esc(t('stop_until_label'))}</span><input type="datetime-local" name="until" id="stop-until" aria-describedby="err-until"></label>
        <p class="error" id="err-until" data-err="until" role="alert"></p>
        <button class="btn danger big" type="submit">${esc(t('declare_stop'))}</button></form>`;
  return `<h2 id="stop-h">${esc(t('stop_title'))}</h2>${body}<p class="error" id="stop-error" role="alert"></p>`;
}

// `done(entry)` gets the facility's new entry after a declared or lifted stop.
export function wireStop(box, fid, ctx, done) {
  const url = `/api/v1/facilities/${encodeURIComponent(fid)}/stop`;
  const form = box.querySelector('#stop-form');
  if (form) {
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      clearErrors(form);
      const until = form.until.value ? new Date(form.until.value).toISOString() : null;
      try {
        done(await api(url, { method: 'PUT', body: { reason: form.reason.value, until } }));
        ctx.toast(t('stop_saved'));
      } catch (e) {
        showFieldErrors(form, e, box.querySelector('#stop-error'));
      }
    });
  }
  const lift = box.querySelector('#lift');
  if (lift) {
    lift.addEventListener('click', async () => {
      try {
        done(await api(url, { method: 'DELETE' }));
        ctx.toast(t('stop_lifted'));
      } catch (e) {
        box.querySelector('#stop-error').textContent = e.offline ? t('offline_save') : t('error', { msg: e.message });
      }
    });
  }
}
