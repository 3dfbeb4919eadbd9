// What the person changed on the ward screen, on which version of the facility that was based,
// and what others (the hospital system, a colleague) changed meanwhile. No DOM here.
//
// Untouched categories follow every newer entry (live stream, 412 answer). A touched category
// keeps the person's figures; if someone else changes it meanwhile, that is a conflict: shown
// beside the person's figures, and the save's If-Match stays on the version the person saw, so
// the service answers 412 instead of overwriting the other's change.
const same = (a, b) => (a && a.updated_at) === (b && b.updated_at)
  && (a && a.available) === (b && b.available) && (a && a.staffed) === (b && b.staffed);

export class Edits {
  constructor(entry) { this.reset(entry); }

  // A fresh start from an entry the person now sees in full (load, a successful save).
  reset(entry) {
    this.entry = entry;
    this.base = entry.version;          // the version the person's edits are based on (If-Match)
    this.orig = { ...entry.categories }; // per category: the figure the person's edit started from
    this.touched = new Map();           // category -> {available, staffed} as typed
    this.conflicts = {};                // touched category -> the other's figure (null: removed)
    this.by = this.by || {};            // category -> {who, at}: who changed it last, when seen
  }

  touch(c, fig) {
    if (!this.touched.has(c)) this.orig[c] = this.entry.categories[c];
    this.touched.set(c, fig);
  }

  // Drop the person's edit of c: it shows the current figure again.
  untouch(c) {
    this.touched.delete(c);
    delete this.conflicts[c];
    this.orig[c] = this.entry.categories[c];
    if (!this.moved().length) this.base = this.entry.version;
  }

  // A newer entry; returns the categories whose figures changed, or null if it is not newer.
  follow(entry) {
    if (entry.version <= this.entry.version) return null;
    const names = new Set([...Object.keys(entry.categories), ...Object.keys(this.entry.categories)]);
    const changed = [...names].filter(c => !same(entry.categories[c], this.entry.categories[c]));
    for (const c of changed) {
      const fig = entry.categories[c];
      this.by[c] = { who: entry.updated_by, at: fig ? fig.updated_at : null };
    }
    this.entry = entry;
    const moved = this.moved();
    for (const c of moved) this.conflicts[c] = entry.categories[c] || null;
    // Nothing the person edits was changed by another: the edits hold on the new version too.
    if (!moved.length) this.base = entry.version;
    return changed;
  }

  // Touched categories that someone else changed since the person's edit started from them.
  moved() {
    return [...this.touched.keys()].filter(c => !same(this.entry.categories[c], this.orig[c]));
  }

  // The service said 412 with its current entry: the person is now shown the other's figures,
  // and a save made after this is based on them.
  // Returns the touched categories the other changed (none: the edits can simply be sent again).
  rebase(entry) {
    this.follow(entry);
    const moved = this.moved();
    for (const c of this.touched.keys()) this.orig[c] = this.entry.categories[c];
    this.base = this.entry.version;
    return moved;
  }

  // The request body: only what the person touched.
  body() {
    const categories = {};
    for (const [c, fig] of this.touched) categories[c] = { ...fig };
    return { categories };
  }
}
