// Record a hospital's answer from a card. Refused: open (1), reason (2), save (3); accepted: open
// (1), "Geaccepteerd" (2), save (3). Type and gestational band are optional. The record goes
// through the outbox (kept on the device, sent, queued without a connection); once stored, the
// toast offers to undo it.
import { t, esc } from './i18n.js';
import { submit, undo, undoProblem, uuid } from './outbox.js';

const REASONS = ['no_bed', 'no_nurse', 'no_obstetrician', 'neonatal_full', 'stop', 'other'];
const TYPES = ['non_medical', 'medical', 'acute', 'antenatal_transfer', 'neonatal_transfer'];
const BANDS = ['<24', '24-27', '28-31', '32-33', '34-36', '>=37'];
const CATS = ['delivery_room', 'maternity_bed', 'obstetric_high_care', 'neonatal_high_care', 'nicu'];

function radios(name, values, label, checked) {
  return values.map(v => `<label class="opt"><input type="radio" name="${name}" value="${esc(v)}"${v === checked ? ' checked' : ''}><span>${esc(label(v))}</span></label>`).join('');
}

// cat: the category she is looking for (the page's chooser); the record is about that one.
export function openRefusal(f, entry, ctx, cat = 'delivery_room') {
  let dlg = document.getElementById('refusal');
  if (dlg) dlg.remove();
  dlg = document.createElement('dialog');
  dlg.id = 'refusal';
  dlg.className = 'sheet';
  const cats = CATS.filter(c => f.categories.includes(c));
  const asked = cats.includes(cat) ? cat : 'delivery_room';
  // No default request type: an unchosen type is sent as null, so the statistics are not biased.
  // Her previous choice is preselected, but named in the summary line she sees before saving.
  const lastType = TYPES.includes(localStorage.getItem('cap.rtype')) ? localStorage.getItem('cap.rtype') : '';
  dlg.innerHTML = `<form method="dialog" class="pad" novalidate>
    <h2 id="refusal-title">${esc(t('refusal_title', { name: f.name }))}</h2>
    <fieldset class="decide"><legend>${esc(t('decision_q'))}</legend>
      ${radios('decision', ['refused', 'accepted'], d => t('d_' + d), null)}</fieldset>
    <fieldset class="reasons"><legend>${esc(t('reason_q'))}</legend>
      ${radios('reason', REASONS, r => t('r_' + r), null)}</fieldset>
    <details class="more"><summary>${esc(t('optional'))}: <span id="refusal-choice"></span></summary>
      <fieldset class="small"><legend>${esc(t('category_q'))}</legend>${radios('category', cats, c => t('cat_' + c), asked)}</fieldset>
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
    const parts = [t('cat_' + (form.category.value || asked))];
    parts.push(`${t('request_type_q')}: ${rt ? t('rt_' + rt) + (rt === lastType ? ` (${t('previous_choice')})` : '') : t('not_given')}`);
    if (form.band.value) parts.push(`${form.band.value.replace('>=', '≥')} ${t('weeks')}`);
    dlg.querySelector('#refusal-choice').textContent = parts.join(' · ');
  };
  choice();
  dlg.setAttribute('aria-labelledby', 'refusal-title');
  document.body.append(dlg);
  const save = dlg.querySelector('#refusal-save');
  const reasons = dlg.querySelector('.reasons');
  // A reason means refused; "accepted" needs none, so the reasons go away (and are cleared).
  form.addEventListener('change', ev => {
    if (ev.target.name === 'reason') form.decision.value = 'refused';
    const accepted = form.decision.value === 'accepted';
    if (accepted) form.querySelectorAll('input[name=reason]').forEach(i => { i.checked = false; });
    reasons.hidden = accepted;
    save.disabled = !(accepted || form.reason.value);
    save.textContent = t(accepted ? 'save_accept' : form.reason.value ? 'save_refusal' : 'save');
    choice();
  });
  dlg.querySelector('#refusal-cancel').addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => dlg.remove());
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const decision = form.decision.value || (form.reason.value ? 'refused' : '');
    if (!decision || (decision === 'refused' && !form.reason.value)) return;
    save.disabled = true;
    const body = {
      occurred_at: new Date().toISOString(),  // when she tapped, however late it is sent
      facility_id: f.id,
      category: form.category.value || asked,
      request_type: form.request_type.value || null,
      decision,
      reason: decision === 'refused' ? form.reason.value : null,
      gestational_age_band: form.band.value || null,
      indication: null,
      client_key: uuid(),
    };
    try {
      const { rec, queued } = await submit(body, f.name);
      if (body.request_type) localStorage.setItem('cap.rtype', body.request_type);
      else localStorage.removeItem('cap.rtype');
      dlg.close();
      if (queued) ctx.toast(t('saved_queued'), 8000);
      else recorded(rec, f, ctx);
    } catch (e) {
      save.disabled = false;
      dlg.querySelector('#refusal-error').textContent = t('error', { msg: e.message });
    }
  });
  dlg.showModal();
  dlg.querySelector('input[name=decision]').focus();
}

// "Vastgelegd", with the undo at hand for the next seconds (the list offers it for 15 minutes).
function recorded(rec, f, ctx) {
  if (!rec) { ctx.toast(t('recorded')); return; }  // another tab sent it meanwhile
  const what = t(rec.decision === 'accepted' ? 'recorded_accept' : 'recorded_refusal', { name: f.name });
  ctx.toast(what, 10000, {
    label: t('undo'),
    run: async () => {
      try {
        await undo(rec.id);
        ctx.toast(t('undone'));
      } catch (e) {
        ctx.toast(undoProblem(e), 8000);
      }
    },
  });
}
