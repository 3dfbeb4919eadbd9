// How fresh the ward's figures are, in words: each category's age and time, and a warning (text,
// not colour alone) when a figure is stale, about to be, or was never reported; the whole ward is
// overdue when no figure is fresh (midwives then see it as unknown everywhere).
// The freshness limit is the region's: the service says when each figure turns stale (stale_at).
import { t, esc, clock, ago } from './i18n.js';

const DEFAULT_LIMIT_MS = 4 * 3600e3;  // an older service without stale_at: its default limit
const SOON_MS = 30 * 60e3;            // warn this long before (at most a quarter of the limit)

const limitMs = cur => (cur.stale_at ? Date.parse(cur.stale_at) - Date.parse(cur.updated_at) : DEFAULT_LIMIT_MS);

// 'never' | 'stale' | 'soon' | 'fresh'
export function freshness(cur, now = Date.now()) {
  if (!cur) return 'never';
  const limit = limitMs(cur), left = Date.parse(cur.updated_at) + limit - now;
  if (cur.stale || left <= 0) return 'stale';
  return left <= Math.min(SOON_MS, limit / 4) ? 'soon' : 'fresh';
}

function span(ms) {
  const m = Math.max(1, Math.round(ms / 60000)), h = Math.floor(m / 60);
  if (m < 60) return t('n_min', { n: m });
  return m % 60 ? t('n_h_min', { h, n: m % 60 }) : t('n_h', { n: h });
}

// The category's freshness line and its warning, as HTML; `by` is the author already in words.
export function freshHtml(cur, by, now = Date.now()) {
  const state = freshness(cur, now);
  if (state === 'never') return `<p class="never" data-fresh="never" role="note">⚠ ${esc(t('never_reported'))}</p>`;
  const line = t('updated', { ago: ago(cur.updated_at, now), time: clock(cur.updated_at) }) + (by ? ` ${t('by_who', { who: by })}` : '');
  let warn = '';
  if (state === 'stale') warn = `<p class="stalewarn" role="note">⚠ ${esc(t('stale_warn', { limit: span(limitMs(cur)) }))}</p>`;
  if (state === 'soon') {
    const left = Date.parse(cur.updated_at) + limitMs(cur) - now;
    warn = `<p class="soonwarn" role="note">⏱ ${esc(t('soon_warn', { left: span(left) }))}</p>`;
  }
  return `<p class="fresh" data-fresh="${state}">${esc(line)}</p>${warn}`;
}

// Overdue: the ward offers categories, and not one of them has a fresh figure.
export function overdue(entry, cats, now = Date.now()) {
  return cats.length > 0 && cats.every(c => ['never', 'stale'].includes(freshness(entry.categories[c], now)));
}
