// The region on a map without a tile server: the outline of the Netherlands (nl-outline.js, same
// linear projection) and one marker per facility shown, coloured and marked as its card is for the
// chosen category. Markers are buttons: a tap (or Enter) opens that facility's card.
import { t, esc } from './i18n.js';
import { BOX, OUTLINE } from './nl-outline.js';

const ICON = { green: '✓', orange: '!', red: '✕', stop: '⊘', unknown: '?' };
const LEGEND = ['green', 'orange', 'red', 'stop', 'unknown'];

export function project({ lat, lon }) {
  return [(lon - BOX.west) * BOX.cos * BOX.scale, (BOX.north - lat) * BOX.scale];
}

// What to show: the facilities (and her position) with a margin, at least ~60 km across, a bit
// taller than wide as a phone is.
function view(points) {
  const xs = points.map(p => p[0]), ys = points.map(p => p[1]);
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const pad = Math.max(8, (x1 - x0) * 0.08, (y1 - y0) * 0.08);
  x0 -= pad; x1 += pad; y0 -= pad; y1 += pad;
  let w = Math.max(x1 - x0, 55), h = Math.max(y1 - y0, 55);
  if (h < w * 1.1) h = w * 1.1; else w = Math.max(w, h / 1.4);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  return [cx - w / 2, cy - h / 2, w, h];
}

// Markers at (almost) the same place are set apart, so each can be tapped.
function spread(points, gap) {
  const placed = [];
  return points.map(([x, y]) => {
    let p = [x, y];
    for (let i = 1; placed.some(q => Math.hypot(q[0] - p[0], q[1] - p[1]) < gap) && i < 12; i++) {
      const a = i * 2.4;
      p = [x + Math.cos(a) * gap * (0.6 + i * 0.25), y + Math.sin(a) * gap * (0.6 + i * 0.25)];
    }
    placed.push(p);
    return p;
  });
}

function regionLabels(regions, facilities, box, size) {
  const [x0, y0, w, h] = box;
  return regions.map(r => {
    const own = facilities.filter(f => f.region === r.id).map(project);
    if (!own.length) return '';
    const x = own.reduce((s, p) => s + p[0], 0) / own.length, y = own.reduce((s, p) => s + p[1], 0) / own.length;
    if (x < x0 || x > x0 + w || y < y0 || y > y0 + h) return '';
    return `<text class="rl" x="${x.toFixed(1)}" y="${(y + size * 1.8).toFixed(1)}" font-size="${size.toFixed(1)}" text-anchor="middle">${esc(r.name)}</text>`;
  }).join('');
}

export function drawMap(el, { items, pos, regions, facilities, cat, label, onPick }) {
  const at = items.map(i => project(i.f));
  const box = view(pos ? [...at, project(pos)] : at.length ? at : [[0, 0], [BOX.width, BOX.height]]);
  const w = box[2];
  const r = w * 0.03, hit = w * 0.065, font = w * 0.035;
  const spots = spread(at, r * 2.2);
  const markers = items.map((item, i) => {
    const [x, y] = spots[i];
    return `<g class="mk s-${item.s}${item.away ? ' away' : ''}" role="button" tabindex="0" data-f="${esc(item.f.id)}"
      aria-label="${esc(label(item))}" transform="translate(${x.toFixed(1)} ${y.toFixed(1)})">
      <circle class="hit" r="${hit.toFixed(2)}"/><circle class="dot" r="${r.toFixed(2)}"/>
      <text font-size="${(r * 1.3).toFixed(2)}" text-anchor="middle" dy="0.36em">${ICON[item.s]}</text></g>`;
  }).join('');
  const you = pos ? (() => {
    const [x, y] = project(pos);
    return `<circle class="you" cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${(r * 0.6).toFixed(2)}"><title>${esc(t('you_are_here'))}</title></circle>`;
  })() : '';
  const title = t('map_title', { cat: t('cat_' + cat).replace('\u00ad', '') });
  // Redrawn on every change: a keyboard user stays on the marker she was on.
  const focused = el.contains(document.activeElement) && document.activeElement.dataset.f;
  el.innerHTML = `<svg viewBox="${box.map(v => v.toFixed(1)).join(' ')}" role="group" aria-label="${esc(title)}">
    <path class="nl" d="${OUTLINE}" stroke-width="${(w * 0.004).toFixed(2)}"/>
    <g aria-hidden="true">${regionLabels(regions, facilities, box, font)}${you}</g>${markers}</svg>
    <ul class="legend" aria-hidden="true">${LEGEND.map(s => `<li class="s-${s}"><b>${ICON[s]}</b> ${esc(t('st_' + s))}</li>`).join('')}</ul>`;
  if (focused) { const m = el.querySelector(`[data-f="${CSS.escape(focused)}"]`); if (m) m.focus(); }
  if (el.dataset.bound) { el.onPick = onPick; return; }
  el.dataset.bound = '1';
  el.onPick = onPick;
  const pick = e => {
    const m = e.target.closest('.mk');
    if (m) { e.preventDefault(); el.onPick(m.dataset.f); }
  };
  el.addEventListener('click', pick);
  el.addEventListener('keydown', e => { if (e.key === 'Enter' || e.key === ' ') pick(e); });
}
