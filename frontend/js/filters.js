// What the midwife looks for: the category she needs (remembered), which facilities she sees (her
// region and, within reach, its neighbours'), and in which order (room first, then nearest).
import { trip } from './geo.js';

export const CATS = ['delivery_room', 'maternity_bed', 'obstetric_high_care', 'neonatal_high_care', 'nicu'];
// Dutch policy: a unit with acute obstetrics within 45 minutes. Facilities of another region
// within that drive are shown too; further ones belong to that region's own list.
export const REACH_MIN = 45;
const CAT_KEY = 'cap.cat';

export function chosenCat() {
  const c = localStorage.getItem(CAT_KEY);
  return CATS.includes(c) ? c : 'delivery_room';
}

export function chooseCat(c) {
  if (CATS.includes(c)) localStorage.setItem(CAT_KEY, c);
}

/** Facilities of other regions within REACH_MIN of the position (none without a position). */
export function neighbours(facilities, pos, region) {
  if (!pos) return [];
  return facilities.filter(f => f.region !== region && trip(pos, f).min <= REACH_MIN);
}

/** The regions whose live stream the page needs: her region first, then the neighbours'. */
export function streamRegions(facilities, pos, region) {
  return [region, ...new Set(neighbours(facilities, pos, region).map(f => f.region))];
}

/**
 * The cards in order: room in the chosen category first, then units that offer it, nearest first,
 * then most free, then by name. `status(f, e)` is the colour the card shows for that category.
 */
export function ordered({ facilities, entries, pos, region, cat, status }) {
  const shown = facilities.filter(f => f.region === region).concat(neighbours(facilities, pos, region));
  const list = shown.map(f => {
    const e = entries[f.id];
    const fig = e && e.categories[cat];
    const s = status(f, e);
    return {
      f, e, s, trip: trip(pos, f), offered: f.categories.includes(cat), ok: s === 'green' || s === 'orange',
      free: fig ? fig.available : -1, away: f.region !== region,
    };
  });
  list.sort((a, b) => (b.ok - a.ok) || (b.offered - a.offered)
    || (a.trip && b.trip ? a.trip.min - b.trip.min : 0)
    || (a.ok ? b.free - a.free : 0)
    || a.f.name.localeCompare(b.f.name, 'nl'));
  return list;
}
