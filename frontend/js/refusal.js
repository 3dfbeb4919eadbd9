// Record a refusal from a card: open (1), reason (2), save (3). Type and gestational band are optional.
import { t, esc } from './i18n.js';
import { api, session, store } from './api.js';

const REASONS = ['no_bed', 'no_nurse', 'no_obstetrician', 'neonatal_full', 'stop', 'other'];
const TYPES = ['non_medical', 'medical', 'acute', 'antenatal_transfer', 'neonatal_transfer'];
const BANDS = ['<24', '24-27', '28-31', '32-33', '34-36', '>=37'];
const CATS = ['delivery_room', 'maternity_bed', 'obstetric_high_care', 'neonatal_high_care', 'nicu'];

// One token groups the refusals of one search (a few hours). The server issues it (128 random
// bits, valid for its own account only): nothing typed, so nothing about the woman, can be one.
const SEARCH_MS = 3 * 3600e3;
async function episode(fresh = false) {
  const who = session.get()?.username;
  const e = store.get('episode');
  if (!fresh && e && e.who === who && Date.now() - e.at < SEARCH_MS && Date.parse(e.expires_at) > Date.now() + 60e3) return e.token;
  const d = await api('/api/v1/episodes', { method: 'POST' });
  store.set('episode', { token: d.episode, expires_at: d.expires_at, who, at: Date.now() });
  return d.episode;
}

function radios(name, values, label, checked) {
  return values.map(v => `<label class="opt"><input type="radio" name="${name}" value="${esc(v)}"${v === checked ? ' checked' : ''}><span>${esc(label(v))}</span></label>`).join('');
}

export function openRefusal(f, entry, ctx) {
  let dlg = document.getElementById('refusal');
  if (dlg) dlg.remove();
  dlg = document.createElement('dialog');
  dlg.id = 'refusal';
  dlg.className = 'sheet';
  const cats = CATS.filter(c => f.categories.includes(c));
  // No default request type: an unchosen type is sent as null, so the statistics are not biased.
  // Her previous choice is preselected, but named in the summary line she sees before saving.
  const lastType = TYPES.includes(localStorage.getItem('cap.rtype')) ? localStorage.getItem('cap.rtype') : '';
  dlg.innerHTML = `<form method="dialog" class="pad" novalidate>
    <h2 id="refusal-title">${esc(t('refusal_title', { name: f.name }))}</h2>
    <fieldset class="reasons"><legend>${esc(t('reason_q'))}</legend>
      ${radios('reason', REASONS, r => t('r_' + r), null)}</fieldset>
    <details class="more"><summary>${esc(t('optional'))}: <span id="refusal-choice"></span></summary>
      <fieldset class="small"><legend>${esc(t('category_q'))}</legend>${radios('category', cats, c => t('cat_' + c), 'delivery_room')}</fieldset>
      <fieldset class="small"><legend>${esc(t('request_type_q'))}</legend>${radios('request_type', ['', ...TYPES], r => t(r ? 'rt_' + r : 'not_given'), lastType)}</fieldset>
      <fieldset class="small"><legend>${esc(t('ga_q'))}</legend>${radios('band', ['', ...BANDS], b => b ? b.replace('>=', '≥') : t('not_given'), '')}</fieldset>
    </details>
    <p class="error" role="alert" id="refusal-error"></p>
    <div class="row">
      <button type="button" class="btn" value="cancel" id="refusal-cancel">${esc(t('cancel'))}</button>
      <button type="submit" class="btn primary big" id="refusal-save" disabled>${esc(t('save'))}</button>
    </div>
  </form>`;
  const form = dlg.querySelector('form');
  const choice = () => {
    const rt = form.request_type.value;
    const parts = [t('cat_' + (form.category.value || 'delivery_room'))];
    parts.push(`${t('request_type_q')}: ${rt ? t('rt_' + rt) + (rt === lastType ? ` (${t('previous_choice')})` : '') : t('not_given')}`);
    if (form.band.value) parts.push(`${form.band.value.replace('>=', '≥')} ${t('weeks')}`);
    dlg.querySelector('#refusal-choice').textContent = parts.join(' · ');
  };
  choice();
  dlg.setAttribute('aria-labelledby', 'refusal-title');
  document.body.append(dlg);
  const save = dlg.querySelector('#refusal-save');
  form.addEventListener('change', () => { save.disabled = !form.reason.value; choice(); });
  dlg.querySelector('#refusal-cancel').addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => dlg.remove());
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    if (!form.reason.value) return;
    save.disabled = true;
    const body = {
      occurred_at: new Date().toISOString(),
      facility_id: f.id,
      category: form.category.value || 'delivery_room',
      request_type: form.request_type.value || null,
      reason: form.reason.value,
      gestational_age_band: form.band.value || null,
      indication: null,
    };
    try {
      body.episode = await episode();
      let rec;
      try {
        rec = await api('/api/v1/refusals', { method: 'POST', body });
      } catch (e) {
        if (!(e.status === 422 && 'episode' in e.fields)) throw e;
        body.episode = await episode(true);  // expired, or issued before another sign-in
        rec = await api('/api/v1/refusals', { method: 'POST', body });
      }
      if (body.request_type) localStorage.setItem('cap.rtype', body.request_type);
      else localStorage.removeItem('cap.rtype');
      const mine = store.get('mine') || [];
      mine.unshift({ ...body, id: rec.id, shown_status: rec.shown_status, facility_name: f.name, outcome: null });
      store.set('mine', mine.slice(0, 50));
      dlg.close();
      ctx.toast(t('saved_refusal'));
    } catch (e) {
      save.disabled = false;
      dlg.querySelector('#refusal-error').textContent = e.offline ? t('saved_offline') : t('error', { msg: e.message });
    }
  });
  dlg.showModal();
  dlg.querySelector('input[name=reason]').focus();
}
