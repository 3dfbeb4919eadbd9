// Hand-made SVG charts: horizontal bars (optionally stacked) and a heatmap. No dependencies.
import { esc, t } from './i18n.js';

export const PALETTE = ['#58a6ff', '#f0883e', '#3fb950', '#d2a8ff', '#ff7b72', '#e3b341', '#8b949e'];

// rows: [{label, values: [n, ...]}]; series: names of the values (for the legend and titles).
export function hbars(rows, series, { width = 340 } = {}) {
  if (!rows.length) return '';
  const lw = 130, bh = 22, gap = 6, w = width - lw - 36;
  const max = Math.max(1, ...rows.map(r => r.values.reduce((a, b) => a + b, 0)));
  const h = rows.length * (bh + gap);
  let out = `<svg viewBox="0 0 ${width} ${h}" role="img" aria-label="${esc(series.join(', '))}">`;
  rows.forEach((r, i) => {
    const y = i * (bh + gap);
    const label = r.label.length > 20 ? r.label.slice(0, 19) + '…' : r.label;
    out += `<text x="0" y="${y + 15}"><title>${esc(r.label)}</title>${esc(label)}</text>`;
    let x = lw;
    r.values.forEach((v, j) => {
      const bw = (v / max) * w;
      if (v > 0) out += `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(1, bw).toFixed(1)}" height="${bh}" fill="${PALETTE[j % PALETTE.length]}"><title>${esc(r.label)} · ${esc(series[j])}: ${v}</title></rect>`;
      x += bw;
    });
    const total = r.values.reduce((a, b) => a + b, 0);
    // r.note replaces the number (e.g. "x" for a suppressed cell, drawn without a bar)
    out += `<text x="${(x + 4).toFixed(1)}" y="${y + 15}">${r.note !== undefined ? esc(r.note) : Number.isInteger(total) ? total : total.toFixed(1)}</text>`;
  });
  if (series.length < 2) return out + '</svg>';
  // The split of a stacked bar is otherwise only in the tooltips: give it as a table as well.
  return out + '</svg>' + legend(series) + table(['', ...series, t('sum')],
    rows.map(r => [r.label, ...r.values, r.values.reduce((a, b) => a + b, 0)]));
}

// The numbers behind a chart, folded away, for touch screens and screen readers (no hover needed).
export function table(head, rows) {
  const cell = v => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : v);
  return `<details class="as-table"><summary>${esc(t('as_table'))}</summary><table>
    <thead><tr>${head.map(h => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>
    <tbody>${rows.map(r => `<tr><th scope="row">${esc(r[0])}</th>${r.slice(1).map(v => `<td>${esc(String(cell(v)))}</td>`).join('')}</tr>`).join('')}</tbody>
  </table></details>`;
}

// Swatch colours are classes (.sw0 ...) in app.css: the CSP allows no style attributes.
export function legend(series) {
  return `<div class="legend">${series.map((s, j) => `<span><i class="sw${j % PALETTE.length}"></i>${esc(s)}</span>`).join('')}</div>`;
}

// grid[row][col] counts; rows = weekday names, cols = 0..23.
export function heatmap(grid, rowNames, { width = 340 } = {}) {
  const lw = 26, cw = (width - lw) / 24, ch = 18;
  const max = Math.max(1, ...grid.flat());
  let out = `<svg viewBox="0 0 ${width} ${rowNames.length * ch + 14}" role="img" aria-label="heatmap">`;
  grid.forEach((row, r) => {
    out += `<text x="0" y="${r * ch + 13}">${esc(rowNames[r])}</text>`;
    row.forEach((v, c) => {
      const a = v ? 0.2 + 0.8 * (v / max) : 0.06;
      out += `<rect x="${(lw + c * cw).toFixed(1)}" y="${r * ch}" width="${(cw - 1).toFixed(1)}" height="${ch - 2}" fill="rgba(255,123,114,${a.toFixed(2)})"><title>${esc(rowNames[r])} ${String(c).padStart(2, '0')}:00 — ${v}</title></rect>`;
    });
  });
  for (const hr of [0, 6, 12, 18, 23]) out += `<text x="${(lw + hr * cw).toFixed(1)}" y="${rowNames.length * ch + 12}">${hr}</text>`;
  const cells = [];
  grid.forEach((row, r) => row.forEach((v, c) => { if (v) cells.push([`${rowNames[r]} ${String(c).padStart(2, '0')}:00`, v]); }));
  return out + '</svg>' + (cells.length ? table(['', t('sum')], cells) : '');
}
