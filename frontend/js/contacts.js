// Tap-to-call on a midwife's card: each of the facility's numbers as a big tel: link with its
// type; without any, whom to call instead (the region's coordination). Demo numbers say so.
import { t, esc } from './i18n.js';

export const TYPES = ['verloskunde', 'neonatologie', 'coordinator'];
export const ICO = '<svg class="ico" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2c.3-.3.7-.4 1-.2 1.1.4 2.3.6 3.6.6.6 0 1 .4 1 1V20c0 .6-.4 1-1 1A17 17 0 0 1 3 4c0-.6.4-1 1-1h3.5c.6 0 1 .4 1 1 0 1.3.2 2.5.6 3.6.1.3 0 .7-.2 1z"/></svg>';

export const byType = list => [...(list || [])].sort((a, b) => TYPES.indexOf(a.type) - TYPES.indexOf(b.type));

function link(phone, demo, label, aria, cls) {
  const tag = demo ? ` <span class="demo">${esc(t('demo_number'))}</span>` : '';
  return `<a class="btn call ${cls}" href="tel:${esc(phone.replace(/[^+0-9]/g, ''))}" aria-label="${esc(aria + (demo ? ` (${t('demo_aria')})` : ''))}">${ICO}<span class="ctxt"><span class="ctype">${esc(label)}</span>
    <span class="num">${esc(phone)}</span>${tag}</span></a>`;
}

// f: a facility of GET /facilities (with `contacts`); region: its entry of GET /regions;
// cat: the category she is looking for; for a cot (NICU, neonatal HC) neonatology is called first.
const NEONATAL = ['nicu', 'neonatal_high_care'];
export function callsHtml(f, region, cat) {
  const list = byType(f.contacts);
  if (NEONATAL.includes(cat)) list.sort((a, b) => (b.type === 'neonatologie') - (a.type === 'neonatologie'));
  if (!list.length && f.phone) list.push({ type: 'verloskunde', phone: f.phone, demo: false });
  let html = list.map(c => link(c.phone, c.demo, t('ct_' + c.type),
    t('call_type', { type: t('ct_' + c.type), name: f.name }), 'ct-' + c.type)).join('');
  if (!html && region && region.coordination_phone) {
    html = `<p class="nonum">${esc(t('no_phone'))}</p>` + link(region.coordination_phone, region.coordination_demo,
      t('call_region'), t('call_region_aria', { name: region.name }), 'ct-region');
  }
  return `<div class="calls">${html || `<span class="btn call disabled" aria-disabled="true">${ICO} ${esc(t('no_phone'))}</span>`}</div>`;
}
