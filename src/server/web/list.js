// The log list: every loaded entry in memory (oldest first, contiguous), and
// a window of them in the DOM. The window holds at most WINDOW_ROWS rows and
// moves as the reader scrolls: near its top it takes rows from memory, or
// asks for the page of history before the oldest loaded entry; near its
// bottom it takes the newer rows. While following (not paused) new entries
// are drawn in one batch at most every FLUSH_INTERVAL_MS at the bottom and
// the oldest rows leave the DOM in batches — but not memory, which keeps up
// to MEMORY_ENTRIES (beyond, the oldest are forgotten and fetched again as
// history when scrolled to). The scroll position is kept by hand when rows
// come or go above it (overflow-anchor is off).

import { matchCount, renderRow } from './render.js';

export const WINDOW_ROWS = 2000;
// While following, rows leave the top in batches (down to WINDOW_ROWS - TRIM_SLACK_ROWS), not a few every frame.
const TRIM_SLACK_ROWS = 500;
// New entries are drawn at most this often: at 1,000 entries/s a redraw per frame would spend the tab on layout.
const FLUSH_INTERVAL_MS = 100;
const SHIFT_ROWS = 500;
const EDGE_PX = 400;
const MEMORY_ENTRIES = 250_000;

export class LogList {
  /**
   * `element`: the scrolling container. `hooks`: { onNeedOlder(), onPosition(),
   * onPausedChange(paused), linkFor(entry) }.
   */
  constructor(element, hooks) {
    this.element = element;
    this.hooks = hooks;
    this.merged = false;
    this.pattern = null;
    this.paused = false;
    this.target = null;
    this.clear();
    element.addEventListener('scroll', () => this.onScroll(), { passive: true });
  }

  /** Forgets everything (a new view). */
  clear() {
    this.entries = [];
    this.lo = 0;
    this.hi = 0;
    this.startReached = false;
    this.received = 0;
    this.matches = 0;
    this.current = null;
    clearTimeout(this.frame);
    this.frame = 0;
    this.lastFlush = 0;
    this.loadingOlder = false;
    this.target = null;
    this.element.replaceChildren();
  }

  /** How rows are drawn: with a name column (merged) and the grep highlighted. */
  configure({ merged, pattern }) {
    this.merged = merged;
    this.pattern = pattern;
    this.element.classList.toggle('merged', merged);
  }

  row(entry) {
    const row = renderRow(entry, { merged: this.merged, pattern: this.pattern, linkFor: this.hooks.linkFor });
    if (entry === this.target) row.classList.add('target');
    return row;
  }

  countMatches(entries) {
    if (this.pattern === null) return;
    for (const entry of entries) this.matches += matchCount(entry, this.pattern);
  }

  /** The first entries of a view. With `target` (an index), the window opens there, paused. */
  load(entries, { startReached, target = -1 }) {
    this.entries = entries.slice();
    this.received += entries.length;
    this.startReached = startReached;
    this.countMatches(entries);
    if (target >= 0 && target < entries.length) {
      this.target = entries[target];
      this.setPaused(true, false);
      this.showIndex(target, 'start');
    } else {
      this.hi = this.entries.length;
      this.lo = Math.max(0, this.hi - WINDOW_ROWS);
      this.redraw();
      this.element.scrollTop = this.element.scrollHeight;
    }
    this.update();
  }

  /** Live entries: kept, and drawn with the next batch while following. */
  append(entries) {
    if (entries.length === 0) return;
    for (const entry of entries) this.entries.push(entry);
    this.received += entries.length;
    this.countMatches(entries);
    if (this.frame !== 0) return;
    const wait = Math.max(0, this.lastFlush + FLUSH_INTERVAL_MS - performance.now());
    this.frame = setTimeout(() => requestAnimationFrame(() => this.flush()), wait);
  }

  /** A page of history (oldest first) before the oldest loaded entry. */
  prepend(entries, startReached) {
    this.loadingOlder = false;
    this.startReached = startReached;
    if (entries.length > 0) {
      this.entries.unshift(...entries);
      this.lo += entries.length;
      this.hi += entries.length;
      this.received += entries.length;
      this.countMatches(entries);
    }
    this.update();
    // The reader may still be at the top: keep going.
    this.onScroll();
  }

  flush() {
    this.frame = 0;
    this.lastFlush = performance.now();
    const element = this.element;
    if (!this.paused && this.hi < this.entries.length) {
      const end = this.entries.length;
      if (end - this.hi >= WINDOW_ROWS) {
        this.hi = end;
        this.lo = end - WINDOW_ROWS;
        this.redraw();
      } else {
        const fragment = document.createDocumentFragment();
        for (let i = this.hi; i < end; i++) fragment.append(this.row(this.entries[i]));
        element.append(fragment);
        this.hi = end;
        // Scrolled to the bottom right after: no need to keep the position.
        if (this.hi - this.lo > WINDOW_ROWS) this.removeTop(this.hi - this.lo - (WINDOW_ROWS - TRIM_SLACK_ROWS), false);
      }
      element.scrollTop = element.scrollHeight;
    }
    this.forget();
    this.update();
  }

  /** Memory is bounded too: the oldest entries, far from the window, are forgotten. */
  forget() {
    const excess = Math.min(this.entries.length - MEMORY_ENTRIES, this.lo);
    if (excess <= 0) return;
    this.entries.splice(0, excess);
    this.lo -= excess;
    this.hi -= excess;
    this.startReached = false;
  }

  redraw() {
    const fragment = document.createDocumentFragment();
    for (let i = this.lo; i < this.hi; i++) fragment.append(this.row(this.entries[i]));
    this.element.replaceChildren(fragment);
  }

  removeTop(count, keepPosition = true) {
    if (count <= 0) return;
    const element = this.element;
    const before = keepPosition ? element.scrollHeight : 0;
    const range = document.createRange();
    range.setStartBefore(element.firstElementChild);
    range.setEndAfter(element.children[count - 1]);
    range.deleteContents();
    this.lo += count;
    if (keepPosition) element.scrollTop -= before - element.scrollHeight;
  }

  removeBottom(count) {
    if (count <= 0) return;
    const element = this.element;
    const range = document.createRange();
    range.setStartBefore(element.children[element.childElementCount - count]);
    range.setEndAfter(element.lastElementChild);
    range.deleteContents();
    this.hi -= count;
  }

  /** Moves the window up by up to SHIFT_ROWS rows from memory, keeping what is on screen in place. */
  shiftUp() {
    const count = Math.min(SHIFT_ROWS, this.lo);
    if (count === 0) return false;
    const element = this.element;
    const fragment = document.createDocumentFragment();
    for (let i = this.lo - count; i < this.lo; i++) fragment.append(this.row(this.entries[i]));
    const before = element.scrollHeight;
    element.prepend(fragment);
    element.scrollTop += element.scrollHeight - before;
    this.lo -= count;
    this.removeBottom(this.hi - this.lo - WINDOW_ROWS);
    return true;
  }

  shiftDown() {
    const count = Math.min(SHIFT_ROWS, this.entries.length - this.hi);
    if (count === 0) return false;
    const fragment = document.createDocumentFragment();
    for (let i = this.hi; i < this.hi + count; i++) fragment.append(this.row(this.entries[i]));
    this.element.append(fragment);
    this.hi += count;
    this.removeTop(this.hi - this.lo - WINDOW_ROWS);
    return true;
  }

  onScroll() {
    const element = this.element;
    const fits = element.scrollHeight <= element.clientHeight;
    // Only a reader who scrolled back (paused), or a screen not yet full, pulls older rows in.
    if (element.scrollTop < EDGE_PX && (this.paused || fits)) {
      if (this.shiftUp()) this.update();
      else if (!this.startReached && !this.loadingOlder && this.entries.length > 0) {
        this.loadingOlder = true;
        this.element.dataset.loading = 'true';
        this.hooks.onNeedOlder(this.entries[0]);
      }
    } else if (
      element.scrollHeight - element.scrollTop - element.clientHeight < EDGE_PX &&
      this.hi < this.entries.length &&
      this.paused
    ) {
      if (this.shiftDown()) this.update();
    }
    this.hooks.onPosition();
  }

  /** Older history failed to load: allow another try on the next scroll. */
  olderFailed() {
    this.loadingOlder = false;
    this.update();
  }

  /** Rebuilds the window around entry `index` and scrolls it into view ('start' or 'center'). */
  showIndex(index, block) {
    this.lo = Math.max(0, Math.min(index - WINDOW_ROWS / 2, this.entries.length - WINDOW_ROWS));
    this.hi = Math.min(this.entries.length, this.lo + WINDOW_ROWS);
    this.redraw();
    const row = this.element.children[index - this.lo];
    if (row) row.scrollIntoView({ block });
  }

  /** The entry at the top of the screen (the view's position), or null. */
  topEntry() {
    const rows = this.element.children;
    if (rows.length === 0) return null;
    const top = this.element.scrollTop;
    let low = 0;
    let high = rows.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      const row = rows[middle];
      if (row.offsetTop + row.offsetHeight <= top) low = middle + 1;
      else high = middle;
    }
    return this.entries[this.lo + low] ?? null;
  }

  setPaused(paused, scroll = true) {
    if (this.paused === paused) return;
    this.paused = paused;
    this.hooks.onPausedChange(paused);
    if (!paused && scroll) this.bottom();
  }

  /** The newest entry, following again. */
  bottom() {
    this.paused = false;
    this.hooks.onPausedChange(false);
    if (this.hi < this.entries.length || this.entries.length - this.lo > WINDOW_ROWS) {
      this.hi = this.entries.length;
      this.lo = Math.max(0, this.hi - WINDOW_ROWS);
      this.redraw();
    }
    this.element.scrollTop = this.element.scrollHeight;
    this.update();
  }

  /** The top of what is loaded (pausing); scrolling there fetches older pages. */
  top() {
    this.setPaused(true);
    if (this.lo > 0) {
      // Half a window: the rows above come in as the page before is fetched.
      this.lo = 0;
      this.hi = Math.min(this.entries.length, WINDOW_ROWS / 2);
      this.redraw();
    }
    this.element.scrollTop = 0;
    this.onScroll();
  }

  /** Moves to the next (1) or previous (-1) grep match; returns false when there is none. */
  nextMatch(direction) {
    if (this.pattern === null || this.matches === 0) return false;
    const entries = this.entries;
    let index = this.current === null ? -1 : entries.indexOf(this.current.entry);
    let occurrence = this.current?.occurrence ?? -1;
    if (index < 0) {
      const top = this.topEntry();
      index = top === null ? 0 : entries.indexOf(top);
      occurrence = direction > 0 ? -1 : matchCount(entries[index], this.pattern);
    }
    occurrence += direction;
    for (let steps = 0; steps <= entries.length; steps++) {
      const count = matchCount(entries[index], this.pattern);
      if (occurrence >= 0 && occurrence < count) {
        this.current = { entry: entries[index], occurrence };
        this.setPaused(true, false);
        if (index < this.lo || index >= this.hi) this.showIndex(index, 'center');
        this.markCurrent(index);
        this.update();
        return true;
      }
      index = (index + direction + entries.length) % entries.length;
      occurrence = direction > 0 ? 0 : matchCount(entries[index], this.pattern) - 1;
    }
    return false;
  }

  markCurrent(index) {
    for (const mark of this.element.querySelectorAll('mark.current')) mark.classList.remove('current');
    const row = this.element.children[index - this.lo];
    const mark = row?.querySelectorAll('mark.match')[this.current.occurrence];
    if (mark) {
      mark.classList.add('current');
      mark.scrollIntoView({ block: 'center' });
    }
  }

  /** 1-based number of the current match among all loaded, or 0. */
  currentOrdinal() {
    if (this.current === null) return 0;
    let ordinal = 0;
    for (const entry of this.entries) {
      if (entry === this.current.entry) return ordinal + this.current.occurrence + 1;
      ordinal += matchCount(entry, this.pattern);
    }
    return 0;
  }

  update() {
    const dataset = this.element.dataset;
    dataset.shown = String(this.element.childElementCount);
    dataset.loaded = String(this.entries.length);
    dataset.start = String(this.startReached);
    dataset.loading = String(this.loadingOlder);
    this.hooks.onCount?.();
  }
}
