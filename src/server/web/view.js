// The viewer's controller: opens a view (from the address, a control or the
// back button) — the first entries (the newest, or those around the view's
// position), then the live stream from their cursor — feeds the list and the
// histogram, fetches history pages when the list asks, and keeps the
// position (the cursor of the entry at the top) in the address while the
// reader is scrolled back or paused.

import { api, LiveStream, readPath } from './api.js';
import { Histogram } from './histogram.js';
import { LogList } from './list.js';
import { emptyView, formatAddress, hasSelection, isMerged, sameSelection, timeBounds, writeAddress } from './state.js';

const INITIAL_TAIL = 1000;
/** Entries per history page. */
export const PAGE_ENTRIES = 1000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 8000;
const POSITION_WRITE_MS = 300;

/** The grep as a global RegExp for highlighting (the server's flags: 'u' when it compiles), or null. */
function grepPattern(grep) {
  if (grep === '') return null;
  for (const flags of ['gu', 'g']) {
    try {
      return new RegExp(grep, flags);
    } catch {
      // try the next flags
    }
  }
  return null;
}

/** Entries at or after `since` (a relative `since` is left to the server's reads of the range). */
function sinceFilter(view) {
  const { since } = timeBounds(view);
  const bound = since === '' ? NaN : Date.parse(since);
  return Number.isNaN(bound)
    ? (entries) => entries
    : (entries) => entries.filter((entry) => Date.parse(entry.t) >= bound);
}

export class Viewer {
  /** `ui`: { log, histogram, setStatus(kind, text), showMessage(text, offerRestart), hideMessage(), onView(view), onCount(), onPaused(paused), onSandbox(event, name) }. */
  constructor(ui) {
    this.ui = ui;
    this.view = emptyView();
    this.generation = 0;
    this.stream = null;
    this.retryDelay = RETRY_MIN_MS;
    this.retryTimer = 0;
    this.positionTimer = 0;
    this.opening = false;
    this.list = new LogList(ui.log, {
      onNeedOlder: (first) => this.loadOlder(first),
      onPosition: () => this.schedulePosition(),
      onPausedChange: (paused) => {
        ui.onPaused(paused);
        this.schedulePosition();
      },
      onCount: () => ui.onCount(),
      // Built for every row drawn: the view's part of the address is formatted once per view.
      linkFor: (entry) => `${this.linkBase()}at=${encodeURIComponent(entry.cursor)}`,
    });
    this.histogram = new Histogram(ui.histogram, (since, until) => this.change({ range: 'custom', since, until }));
  }

  /** The address of this view without a position, ready for `at=…` (`at` is the last parameter). */
  linkBase() {
    if (this.linkBaseFor !== this.view) {
      const address = formatAddress({ ...this.view, at: '' });
      this.linkBaseCache = `${location.pathname}${address}${address === '' ? '?' : '&'}`;
      this.linkBaseFor = this.view;
    }
    return this.linkBaseCache;
  }

  /** Changes part of the view (a control was used): a new history entry, and the list opens afresh. */
  change(part) {
    this.open({ ...this.view, ...part, at: '' }, { push: true });
  }

  /** Opens a view; `push` adds a history entry, else the address is replaced (or, from popstate, left alone). */
  open(view, { push = false, replace = true } = {}) {
    const same = sameSelection(view, this.view) && view.at === this.view.at && this.generation > 0;
    this.view = view;
    if (push || replace) writeAddress(view, { push });
    this.ui.onView(view);
    if (!same) this.start();
  }

  /** Starts the view again from the newest entries (after the stream stopped). */
  restart() {
    this.view = { ...this.view, at: '' };
    writeAddress(this.view, { push: false });
    this.start();
  }

  stop() {
    this.stream?.close();
    this.stream = null;
    clearTimeout(this.retryTimer);
  }

  async start() {
    const generation = ++this.generation;
    const view = this.view;
    this.stop();
    this.ui.hideMessage();
    this.list.clear();
    this.list.configure({ merged: isMerged(view), pattern: grepPattern(view.grep) });
    this.list.setPaused(false, false);
    this.histogram.show(view);
    if (!hasSelection(view)) {
      this.ui.setStatus('idle', 'idle');
      return;
    }
    if (view.sources.length === 0) {
      this.ui.setStatus('idle', 'no source selected');
      return;
    }
    this.ui.setStatus('loading', 'loading…');
    let cursor;
    // Until the first entries are in, the list's position is not the view's: the address keeps its `at`.
    this.opening = true;
    try {
      cursor = view.at === '' ? await this.loadNewest(view) : await this.loadAround(view);
    } catch (error) {
      if (generation !== this.generation || error.status === 401) return;
      if (error.status === undefined) {
        // The server is not answering: try again later.
        this.ui.setStatus('reconnecting', 'reconnecting…');
        this.retryTimer = setTimeout(() => generation === this.generation && this.start(), this.retryDelay);
        this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
        return;
      }
      this.ui.setStatus('stopped', 'stopped');
      this.ui.showMessage(error.message, view.at !== '');
      return;
    }
    if (generation !== this.generation) return;
    this.opening = false;
    this.retryDelay = RETRY_MIN_MS;
    if (timeBounds(view).until !== '') {
      // A range with an end is history: nothing live to follow.
      this.ui.setStatus('range', 'range');
      return;
    }
    this.stream = new LiveStream(view, cursor, {
      onEntries: (entries) => {
        this.list.append(entries);
        this.histogram.add(entries);
      },
      onStatus: (kind, text) => this.ui.setStatus(kind, text),
      onStop: (text, offerRestart) => this.ui.showMessage(text, offerRestart),
      onSandbox: (event, name) => this.ui.onSandbox(event, name),
    });
  }

  /** The newest entries of the view; returns the cursor after them. */
  async loadNewest(view) {
    const generation = this.generation;
    if (isMerged(view)) {
      // A merged tail is per sandbox: a busy sandbox's entries between the tails could never be scrolled back to.
      // The newest page of the merged history is one window over all of them, and every entry's cursor names them all.
      const page = await api(readPath(view, 'logs', { before: 'end', limit: INITIAL_TAIL }));
      if (generation === this.generation) this.list.load(page.entries, { startReached: page.start === true });
      return page.entries.at(-1)?.cursor;
    }
    const snapshot = await api(readPath(view, 'logs', { tail: INITIAL_TAIL }));
    if (generation === this.generation)
      this.list.load(snapshot.entries, { startReached: snapshot.entries.length < INITIAL_TAIL });
    return snapshot.cursor;
  }

  /** The page before the view's position, then everything from it on; the list opens at that entry, paused. */
  async loadAround(view) {
    const generation = this.generation;
    const inRange = sinceFilter(view);
    const before = await api(readPath(view, 'logs', { before: view.at, limit: PAGE_ENTRIES }, 'none'));
    const older = inRange(before.entries);
    const previous = before.entries.at(-1)?.cursor;
    const rest = await api(readPath(view, 'logs', { after: previous }, 'until'));
    if (generation !== this.generation) return rest.cursor;
    const newer = inRange(rest.entries);
    const startReached = before.start === true || older.length < before.entries.length;
    this.list.load(older.concat(newer), { startReached, target: newer.length > 0 ? older.length : -1 });
    return rest.cursor;
  }

  async loadOlder(first) {
    const generation = this.generation;
    const view = this.view;
    let page;
    try {
      page = await api(readPath(view, 'logs', { before: first.cursor, limit: PAGE_ENTRIES }, 'none'));
    } catch (error) {
      if (generation !== this.generation) return;
      this.list.olderFailed();
      if (error.status !== undefined && error.status !== 401)
        this.ui.showMessage(`Could not load older entries: ${error.message}`);
      return;
    }
    if (generation !== this.generation) return;
    const older = sinceFilter(view)(page.entries);
    this.list.prepend(older, page.start === true || page.entries.length === 0 || older.length < page.entries.length);
  }

  /** Keeps the position in the address (replacing, not adding, history entries) while scrolled back. */
  schedulePosition() {
    if (this.positionTimer !== 0) return;
    this.positionTimer = setTimeout(() => {
      this.positionTimer = 0;
      if (this.opening) return;
      const top = this.list.paused ? this.list.topEntry() : null;
      const at = top === null ? '' : String(top.cursor);
      if (at === this.view.at) return;
      this.view = { ...this.view, at };
      writeAddress(this.view, { push: false });
    }, POSITION_WRITE_MS);
  }

  /** The whole selection of the view (every entry, no tail), for a download. */
  async selection() {
    const snapshot = await api(readPath(this.view, 'logs'));
    return snapshot.entries;
  }
}
