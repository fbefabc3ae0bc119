// The server's API as the page uses it: JSON requests with the token, the
// URLs of a view's reads (one sandbox's routes, or the merged /api/logs for
// several), and the live stream.
//
// Live stream: an EventSource from a cursor. Each event's id is a cursor, so
// when the connection drops the browser reconnects with Last-Event-ID and the
// server continues exactly after the last entry received. When the browser
// gives up (it does on an HTTP error status), the stream reconnects itself
// with after=<last cursor>, backing off while the server is away, and stops
// (saying why) on 400, 401, 404 or the server's own `error` event.

import { isMerged, timeBounds } from './state.js';

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 8000;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const auth = {
  token: sessionStorage.getItem('sandlog-token'),
  onUnauthorized: () => {},
};

/** Sets the bearer token (kept for this tab only) and who is told of a 401. */
export function setToken(token) {
  auth.token = token;
  sessionStorage.setItem('sandlog-token', token);
}

export function onUnauthorized(callback) {
  auth.onUnauthorized = callback;
}

/** A token handed over in the URL fragment (never sent to the server) is kept for this tab and taken out of the address. */
export function takeTokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) return false;
  setToken(token);
  history.replaceState(null, '', location.pathname + location.search);
  return true;
}

/** GET a JSON route; rejects with an ApiError (status undefined when the server did not answer). */
export async function api(path) {
  const headers = auth.token ? { authorization: `Bearer ${auth.token}` } : {};
  let response;
  try {
    response = await fetch(path, { headers, cache: 'no-store' });
  } catch (error) {
    throw new ApiError(undefined, 'NETWORK', error.message);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    if (response.status === 401) auth.onUnauthorized();
    throw new ApiError(response.status, body?.error ?? 'HTTP', body?.message ?? `HTTP ${response.status}`);
  }
  return body;
}

/** The parameters naming what a merged read reads: sandbox=… (repeated) or pattern=…. */
function selectionParameters(view) {
  const parameters = new URLSearchParams();
  if (view.pattern !== '') parameters.set('pattern', view.pattern);
  else for (const name of view.sandboxes) parameters.append('sandbox', name);
  return parameters;
}

/**
 * Path of a view's read: `kind` is 'logs' or 'stream'. `filters` says which of
 * since/until go along ('both', 'until' or 'none': a cursor and `since` conflict).
 */
export function readPath(view, kind, extra = {}, filters = 'both') {
  const merged = isMerged(view);
  const parameters = merged ? selectionParameters(view) : new URLSearchParams();
  for (const source of view.sources) parameters.append('source', source);
  if (view.grep !== '') parameters.set('grep', view.grep);
  const { since, until } = timeBounds(view);
  if (since !== '' && filters === 'both') parameters.set('since', since);
  if (until !== '' && filters !== 'none') parameters.set('until', until);
  for (const [key, value] of Object.entries(extra))
    if (value !== undefined && value !== '') parameters.set(key, String(value));
  const suffix = kind === 'stream' ? '/stream' : '';
  const base = merged ? `/api/logs${suffix}` : `/api/sandboxes/${encodeURIComponent(view.sandboxes[0])}/logs${suffix}`;
  return `${base}?${parameters}`;
}

/** The query of the view's histogram (what the API is asked, without `buckets`). */
export function histogramQuery(view) {
  const parameters = selectionParameters(view);
  for (const source of view.sources) parameters.append('source', source);
  if (view.grep !== '') parameters.set('grep', view.grep);
  const { since, until } = timeBounds(view);
  if (since !== '') parameters.set('since', since);
  if (until !== '') parameters.set('until', until);
  return parameters.toString();
}

/**
 * A live stream of a view from a cursor. Callbacks: onEntries(entries),
 * onStatus(kind, text), onStop(message, offerRestart), onSandbox(event, name).
 */
export class LiveStream {
  constructor(view, cursor, callbacks) {
    this.view = view;
    this.cursor = cursor;
    this.callbacks = callbacks;
    this.events = null;
    this.timer = 0;
    this.delay = RECONNECT_MIN_MS;
    this.closed = false;
    this.connect();
  }

  close() {
    this.closed = true;
    this.events?.close();
    this.events = null;
    clearTimeout(this.timer);
  }

  connect() {
    const extra = { after: this.cursor ?? '' };
    // EventSource cannot send an Authorization header: the stream route takes the token in its URL.
    if (auth.token) extra.token = auth.token;
    const events = new EventSource(readPath(this.view, 'stream', extra, 'none'));
    this.events = events;
    const current = () => !this.closed && this.events === events;
    events.addEventListener('open', () => {
      if (!current()) return;
      this.delay = RECONNECT_MIN_MS;
      this.callbacks.onStatus('live', 'live');
    });
    events.addEventListener('message', (event) => {
      if (!current()) return;
      this.cursor = event.lastEventId;
      let entry;
      try {
        entry = JSON.parse(event.data);
      } catch {
        return;
      }
      this.callbacks.onEntries([entry]);
    });
    for (const name of ['sandbox-added', 'sandbox-removed']) {
      events.addEventListener(name, (event) => {
        if (!current()) return;
        try {
          this.callbacks.onSandbox(name, JSON.parse(event.data).sandbox);
        } catch {
          // an unreadable notice changes nothing
        }
      });
    }
    events.addEventListener('end', () => {
      if (!current()) return;
      this.close();
      this.callbacks.onStatus('ended', 'ended');
      this.callbacks.onStop("The stream ended: the sandbox's log directory is gone.", false);
    });
    events.addEventListener('error', (event) => {
      if (!current()) return;
      if (event instanceof MessageEvent) {
        // The server's own `error` event (invalid cursor, missed rotation): reconnecting would fail the same way.
        this.close();
        let info = {};
        try {
          info = JSON.parse(event.data);
        } catch {
          // keep the generic text
        }
        this.callbacks.onStatus('stopped', 'stopped');
        this.callbacks.onStop(`The stream stopped: ${info.message ?? 'server error'}`, true);
        return;
      }
      if (events.readyState === EventSource.CLOSED) {
        // The browser gave up (an HTTP error status, or a failed reconnect): take over.
        this.events = null;
        events.close();
        this.scheduleReconnect();
      } else {
        this.callbacks.onStatus('reconnecting', 'reconnecting…');
      }
    });
  }

  scheduleReconnect() {
    this.callbacks.onStatus('reconnecting', 'reconnecting…');
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, RECONNECT_MAX_MS);
    this.timer = setTimeout(async () => {
      if (this.closed) return;
      // Ask the snapshot route why the stream failed: it answers with a status where EventSource gives none.
      try {
        await api(readPath(this.view, 'logs', { tail: 0 }, 'none'));
      } catch (error) {
        if (this.closed || error.status === 401) return;
        if (error.status === 404 || error.status === 400) {
          this.callbacks.onStatus('stopped', 'stopped');
          this.callbacks.onStop(error.message, true);
          return;
        }
        this.scheduleReconnect();
        return;
      }
      if (!this.closed) this.connect();
    }, delay);
  }
}
