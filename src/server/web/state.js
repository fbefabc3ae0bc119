// The view and its address. A view is what the page shows: which sandboxes
// (names, or one shell-style pattern), which sources, the grep, the time
// range and, when the reader has scrolled back or paused, the position (the
// cursor of the entry at the top). The address bar holds all of it, so a
// reload, a copied link and the back button give the same view. This module
// only translates between views and addresses; nothing here touches the DOM.

/** The sources a read gives when none are named (the server's default too). */
export const DEFAULT_SOURCES = Object.freeze(['stdout', 'stderr', 'output']);
export const ALL_SOURCES = Object.freeze(['stdout', 'stderr', 'output', 'system']);
/** Relative ranges of the picker: address value → the server's `since`. */
export const RELATIVE_RANGES = Object.freeze({ '5m': '5m', '1h': '1h', '24h': '24h' });

/**
 * A view: { sandboxes: string[], pattern: string, sources: string[], grep: string,
 * range: 'all' | '5m' | '1h' | '24h' | 'custom', since: string, until: string, at: string }.
 */
export function emptyView() {
  return {
    sandboxes: [],
    pattern: '',
    sources: [...DEFAULT_SOURCES],
    grep: '',
    range: 'all',
    since: '',
    until: '',
    at: '',
  };
}

/** Reads a view from an address's query string. Unknown values fall back to the defaults. */
export function parseAddress(search) {
  const query = new URLSearchParams(search);
  const view = emptyView();
  view.sandboxes = [...new Set(query.getAll('sandbox').filter((name) => name !== ''))];
  view.pattern = query.get('pattern') ?? '';
  if (query.has('source')) {
    const named = query.getAll('source').flatMap((value) => value.split(','));
    view.sources = named.includes('all') ? [...ALL_SOURCES] : ALL_SOURCES.filter((source) => named.includes(source));
  }
  view.grep = query.get('grep') ?? '';
  const range = query.get('range') ?? '';
  if (range in RELATIVE_RANGES) view.range = range;
  const since = query.get('since') ?? '';
  const until = query.get('until') ?? '';
  if (since !== '' || until !== '') {
    view.range = 'custom';
    view.since = since;
    view.until = until;
  }
  view.at = (query.get('at') ?? '').replace(/ /g, '+');
  return view;
}

/** The query string ("?…", or "" for the empty view) that {@link parseAddress} reads back as `view`. */
export function formatAddress(view) {
  const query = new URLSearchParams();
  for (const name of view.sandboxes) query.append('sandbox', name);
  if (view.pattern !== '') query.set('pattern', view.pattern);
  const defaults =
    view.sources.length === DEFAULT_SOURCES.length && DEFAULT_SOURCES.every((source) => view.sources.includes(source));
  // No source ticked is a view too (it shows nothing): `source=none` keeps it apart from the default.
  if (!defaults)
    query.set(
      'source',
      view.sources.length === 0 ? 'none' : ALL_SOURCES.filter((source) => view.sources.includes(source)).join(','),
    );
  if (view.grep !== '') query.set('grep', view.grep);
  if (view.range in RELATIVE_RANGES) query.set('range', view.range);
  if (view.range === 'custom') {
    if (view.since !== '') query.set('since', view.since);
    if (view.until !== '') query.set('until', view.until);
  }
  if (view.at !== '') query.set('at', view.at);
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

/** Whether two views select the same entries (the position aside). */
export function sameSelection(a, b) {
  const strip = (view) => formatAddress({ ...view, at: '' });
  return strip(a) === strip(b);
}

/** Whether the view reads more than one sandbox (a pattern, or several names): the merged API then. */
export function isMerged(view) {
  return view.pattern !== '' || view.sandboxes.length > 1;
}

/** Whether the view selects anything to read. */
export function hasSelection(view) {
  return view.pattern !== '' || view.sandboxes.length > 0;
}

/** The server's `since` and `until` for the view's range ('' when open). */
export function timeBounds(view) {
  if (view.range in RELATIVE_RANGES) return { since: RELATIVE_RANGES[view.range], until: '' };
  if (view.range === 'custom') return { since: view.since, until: view.until };
  return { since: '', until: '' };
}

/** Writes the view into the address bar: a new history entry when `push`, else in place. */
export function writeAddress(view, { push }) {
  const address = location.pathname + formatAddress(view);
  if (address === location.pathname + location.search) return;
  if (push) history.pushState(null, '', address);
  else history.replaceState(null, '', address);
}
