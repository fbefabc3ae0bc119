// The sandlog viewer: plain browser JavaScript, no build step, nothing
// loaded from elsewhere. Log text only ever enters the page as text nodes
// (textContent / createTextNode), never as markup; SGR colours become class
// names and CSSOM colour values.
//
// Live view: a snapshot of the last entries (GET …/logs?tail=) gives the rows
// and the cursor after them; an EventSource on …/logs/stream?after=<cursor>
// continues from there. Each event's id is the entry's cursor, so when the
// connection drops the browser reconnects with Last-Event-ID and the server
// continues exactly after the last entry received. When the browser gives up
// (it does on an HTTP error status), the page reconnects itself with
// after=<last cursor>, backing off while the server is away.
//
// The DOM holds at most MAX_ROWS rows: older rows are removed as new ones
// arrive (the count says how many), and entries that arrive faster than
// frames are drawn are queued and trimmed to what would be kept anyway, so
// 100,000 entries cost parsing, not layout.

const MAX_ROWS = 5000;
const INITIAL_TAIL = 1000;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 8000;
const GREP_DEBOUNCE_MS = 300;
const SOURCES = new Set(['stdout', 'stderr', 'output', 'system']);

const $ = (id) => document.getElementById(id);
const elements = {
  sandboxes: $('sandboxes'),
  noSandboxes: $('no-sandboxes'),
  refresh: $('refresh'),
  current: $('current'),
  status: $('status'),
  auth: $('auth'),
  token: $('token'),
  sources: $('sources'),
  grep: $('grep'),
  timestamps: $('timestamps'),
  sessions: $('sessions'),
  pause: $('pause'),
  bottom: $('bottom'),
  count: $('count'),
  message: $('message'),
  messageText: $('message-text'),
  restart: $('restart'),
  log: $('log'),
};

const state = {
  token: sessionStorage.getItem('sandlog-token'),
  sandbox: null,
  // Bumped whenever the view restarts: callbacks of an older view see a different number and do nothing.
  generation: 0,
  events: null,
  lastCursor: null,
  queue: [],
  frame: 0,
  received: 0,
  dropped: 0,
  paused: false,
  reconnectDelay: RECONNECT_MIN_MS,
  reconnectTimer: 0,
  grepTimer: 0,
};

// A token handed over in the URL fragment (never sent to the server) is kept for this tab only.
function takeTokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) return false;
  state.token = token;
  sessionStorage.setItem('sandlog-token', token);
  history.replaceState(null, '', location.pathname + location.search);
  return true;
}
takeTokenFromFragment();

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path) {
  const headers = state.token ? { authorization: `Bearer ${state.token}` } : {};
  const response = await fetch(path, { headers, cache: 'no-store' });
  let body;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    if (response.status === 401) showAuth();
    throw new ApiError(response.status, body?.error ?? 'HTTP', body?.message ?? `HTTP ${response.status}`);
  }
  return body;
}

function logsPath(name, suffix = '') {
  return `/api/sandboxes/${encodeURIComponent(name)}/logs${suffix}`;
}

function setStatus(kind, text = kind) {
  elements.status.dataset.state = kind;
  elements.status.textContent = text;
}

function showMessage(text, offerRestart = false) {
  elements.messageText.textContent = text;
  elements.restart.hidden = !offerRestart;
  elements.message.hidden = false;
}

function hideMessage() {
  elements.message.hidden = true;
}

function showAuth() {
  elements.auth.hidden = false;
  setStatus('locked', 'token needed');
  elements.token.focus();
}

// ---- sandbox list -------------------------------------------------------

function formatBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

async function loadSandboxes() {
  let list;
  try {
    list = await api('/api/sandboxes');
  } catch (error) {
    // A server that is away (restarting) is shown by the status badge; the next refresh tries again.
    if (error.status !== undefined && error.status !== 401) showMessage(`Could not list sandboxes: ${error.message}`);
    return;
  }
  const items = list.map((sandbox) => {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sandbox';
    button.dataset.name = sandbox.name;
    if (sandbox.name === state.sandbox) button.setAttribute('aria-current', 'true');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = sandbox.name;
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = `${formatBytes(sandbox.bytes)} · ~${sandbox.entriesEstimate} entries${sandbox.lastEntry ? ` · ${sandbox.lastEntry.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}` : ''}`;
    button.append(name, meta);
    button.addEventListener('click', () => select(sandbox.name));
    item.append(button);
    return item;
  });
  elements.sandboxes.replaceChildren(...items);
  elements.noSandboxes.hidden = list.length > 0;
}

function select(name) {
  state.sandbox = name;
  for (const button of elements.sandboxes.querySelectorAll('button.sandbox')) {
    if (button.dataset.name === name) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
  }
  elements.current.textContent = name;
  restart();
}

// ---- the live view --------------------------------------------------------

function selectedSources() {
  return [...elements.sources.querySelectorAll('input[name=source]:checked')].map((input) => input.value);
}

function filterParameters() {
  const parameters = new URLSearchParams();
  const sources = selectedSources();
  // None ticked shows nothing rather than the server's default set.
  for (const source of sources) parameters.append('source', source);
  const grep = elements.grep.value;
  if (grep !== '') parameters.set('grep', grep);
  return { parameters, empty: sources.length === 0 };
}

function stopStream() {
  state.events?.close();
  state.events = null;
  clearTimeout(state.reconnectTimer);
}

async function restart({ keepDelay = false } = {}) {
  const generation = ++state.generation;
  const delay = state.reconnectDelay;
  stopStream();
  hideMessage();
  state.queue = [];
  state.received = 0;
  state.dropped = 0;
  state.lastCursor = null;
  state.reconnectDelay = keepDelay ? delay : RECONNECT_MIN_MS;
  elements.log.replaceChildren();
  updateCount();
  const name = state.sandbox;
  if (name === null) return;
  const { parameters, empty } = filterParameters();
  if (empty) {
    setStatus('idle', 'no source selected');
    return;
  }
  setStatus('loading', 'loading…');
  parameters.set('tail', String(INITIAL_TAIL));
  let snapshot;
  try {
    snapshot = await api(`${logsPath(name)}?${parameters}`);
  } catch (error) {
    if (generation !== state.generation) return;
    if (error.status === 401) return;
    if (error.status === undefined) {
      // The server is not answering: try again later.
      scheduleReconnect(generation, true);
      return;
    }
    setStatus('stopped', 'stopped');
    showMessage(error.message);
    return;
  }
  if (generation !== state.generation) return;
  enqueue(snapshot.entries);
  state.lastCursor = snapshot.cursor;
  connect(generation);
}

function connect(generation) {
  const { parameters } = filterParameters();
  if (state.lastCursor) parameters.set('after', state.lastCursor);
  // EventSource cannot send an Authorization header: the stream route takes the token in its URL.
  if (state.token) parameters.set('token', state.token);
  const events = new EventSource(`${logsPath(state.sandbox, '/stream')}?${parameters}`);
  state.events = events;
  const current = () => generation === state.generation && state.events === events;
  events.addEventListener('open', () => {
    if (!current()) return;
    state.reconnectDelay = RECONNECT_MIN_MS;
    setStatus('live', 'live');
  });
  events.addEventListener('message', (event) => {
    if (!current()) return;
    state.lastCursor = event.lastEventId;
    let entry;
    try {
      entry = JSON.parse(event.data);
    } catch {
      return;
    }
    enqueue([entry]);
  });
  events.addEventListener('end', () => {
    if (!current()) return;
    stopStream();
    setStatus('ended', 'ended');
    showMessage('The stream ended: the sandbox\'s log directory is gone.');
  });
  events.addEventListener('error', (event) => {
    if (!current()) return;
    if (event instanceof MessageEvent) {
      // The server's own `error` event (invalid cursor, missed rotation): reconnecting would fail the same way.
      stopStream();
      let info = {};
      try {
        info = JSON.parse(event.data);
      } catch {
        // keep the generic text
      }
      setStatus('stopped', 'stopped');
      showMessage(`The stream stopped: ${info.message ?? 'server error'}`, true);
      return;
    }
    if (events.readyState === EventSource.CLOSED) {
      // The browser gave up (an HTTP error status, or a failed reconnect): take over.
      stopStream();
      scheduleReconnect(generation, false);
    } else {
      setStatus('reconnecting', 'reconnecting…');
    }
  });
}

function scheduleReconnect(generation, fromScratch) {
  setStatus('reconnecting', 'reconnecting…');
  const delay = state.reconnectDelay;
  state.reconnectDelay = Math.min(state.reconnectDelay * 2, RECONNECT_MAX_MS);
  state.reconnectTimer = setTimeout(async () => {
    if (generation !== state.generation) return;
    if (fromScratch || state.lastCursor === null) {
      restart({ keepDelay: true });
      return;
    }
    // Ask the snapshot route why the stream failed: it answers with a status where EventSource gives none.
    try {
      await api(`${logsPath(state.sandbox)}?tail=0`);
    } catch (error) {
      if (generation !== state.generation) return;
      if (error.status === 401) return;
      if (error.status === 404 || error.status === 400) {
        setStatus('stopped', 'stopped');
        showMessage(error.message);
        return;
      }
      scheduleReconnect(generation, false);
      return;
    }
    if (generation === state.generation) connect(generation);
  }, delay);
}

// ---- rendering --------------------------------------------------------------

function enqueue(entries) {
  if (entries.length === 0) return;
  state.received += entries.length;
  for (const entry of entries) state.queue.push(entry);
  // Only the newest MAX_ROWS can end up on screen: do not keep more waiting for a frame.
  if (state.queue.length > 2 * MAX_ROWS) {
    const excess = state.queue.length - MAX_ROWS;
    state.queue.splice(0, excess);
    state.dropped += excess;
  }
  if (state.frame === 0) state.frame = requestAnimationFrame(flush);
}

function flush() {
  state.frame = 0;
  const entries = state.queue;
  state.queue = [];
  const log = elements.log;
  const first = Math.max(0, entries.length - MAX_ROWS);
  state.dropped += first;
  const fragment = document.createDocumentFragment();
  for (let i = first; i < entries.length; i++) fragment.append(renderRow(entries[i]));
  log.append(fragment);
  const excess = log.childElementCount - MAX_ROWS;
  if (excess > 0) {
    const before = log.scrollHeight;
    const range = document.createRange();
    range.setStartBefore(log.firstElementChild);
    range.setEndAfter(log.children[excess - 1]);
    range.deleteContents();
    state.dropped += excess;
    // Keep what a paused reader is looking at in place while rows leave above it.
    if (state.paused) log.scrollTop -= before - log.scrollHeight;
  }
  if (!state.paused) log.scrollTop = log.scrollHeight;
  updateCount();
}

function updateCount() {
  const shown = elements.log.childElementCount;
  elements.count.dataset.shown = String(shown);
  elements.count.dataset.received = String(state.received);
  let text = `${shown.toLocaleString('en')} ${shown === 1 ? 'entry' : 'entries'} shown`;
  if (state.dropped > 0) text += ` (last ${MAX_ROWS.toLocaleString('en')} of ${state.received.toLocaleString('en')} received)`;
  elements.count.textContent = text;
}

function bodyText(entry) {
  let text = entry.d;
  if (entry.e === 'b64') {
    const binary = atob(entry.d);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    text = new TextDecoder('utf-8').decode(bytes);
  }
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
}

function renderRow(entry) {
  const row = document.createElement('div');
  const source = SOURCES.has(entry.s) ? entry.s : 'system';
  const session = Number.isInteger(entry.id) ? entry.id : null;
  row.className = session === null ? `row src-${source}` : `row src-${source} session-${session % 8}`;
  const time = document.createElement('span');
  time.className = 'time';
  time.textContent = String(entry.t);
  const label = document.createElement('span');
  label.className = 'src';
  label.textContent = source;
  const id = document.createElement('span');
  id.className = 'sid';
  id.textContent = session === null ? '' : `#${session}`;
  const body = document.createElement('span');
  body.className = 'body';
  appendAnsi(body, bodyText(entry));
  row.append(time, label, id, body);
  return row;
}

// ---- SGR colours ------------------------------------------------------------

// An SGR sequence (kept as style), any other escape sequence, or a control character other than tab and newline (dropped).
const SEQUENCES =
  /\x1b\[([0-9;:]*)m|\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[\]PX^_][\s\S]*?(?:\x07|\x1b\\|$)|\x1b[ -/]*[0-~]?|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

function newStyle() {
  return { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false };
}

function paletteColor(index) {
  if (index < 16) return index;
  if (index < 232) {
    const n = index - 16;
    const level = (v) => (v === 0 ? 0 : 55 + v * 40);
    return `rgb(${level(Math.floor(n / 36))}, ${level(Math.floor(n / 6) % 6)}, ${level(n % 6)})`;
  }
  const gray = 8 + (index - 232) * 10;
  return `rgb(${gray}, ${gray}, ${gray})`;
}

function extendedColor(codes, at) {
  // 38;5;N or 38;2;R;G;B. Returns [colour or null, codes consumed after the 38/48].
  if (codes[at + 1] === 5 && codes[at + 2] >= 0 && codes[at + 2] <= 255) return [paletteColor(codes[at + 2]), 2];
  if (codes[at + 1] === 2) {
    const [r, g, b] = [codes[at + 2], codes[at + 3], codes[at + 4]];
    if ([r, g, b].every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) return [`rgb(${r}, ${g}, ${b})`, 4];
    return [null, 4];
  }
  return [null, 1];
}

function applySgr(style, parameters) {
  const codes = parameters === '' ? [0] : parameters.split(/[;:]/).map((code) => (code === '' ? 0 : Number(code)));
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code === 0) Object.assign(style, newStyle());
    else if (code === 1) style.bold = true;
    else if (code === 2) style.dim = true;
    else if (code === 3) style.italic = true;
    else if (code === 4) style.underline = true;
    else if (code === 7) style.inverse = true;
    else if (code === 9) style.strike = true;
    else if (code === 22) style.bold = style.dim = false;
    else if (code === 23) style.italic = false;
    else if (code === 24) style.underline = false;
    else if (code === 27) style.inverse = false;
    else if (code === 29) style.strike = false;
    else if (code >= 30 && code <= 37) style.fg = code - 30;
    else if (code >= 90 && code <= 97) style.fg = code - 90 + 8;
    else if (code === 39) style.fg = null;
    else if (code >= 40 && code <= 47) style.bg = code - 40;
    else if (code >= 100 && code <= 107) style.bg = code - 100 + 8;
    else if (code === 49) style.bg = null;
    else if (code === 38 || code === 48) {
      const [color, consumed] = extendedColor(codes, i);
      if (code === 38) style.fg = color;
      else style.bg = color;
      i += consumed;
    }
  }
}

function isPlain(style) {
  return style.fg === null && style.bg === null && !style.bold && !style.dim && !style.italic && !style.underline && !style.inverse && !style.strike;
}

function appendStyled(parent, text, style) {
  if (text === '') return;
  if (isPlain(style)) {
    parent.append(document.createTextNode(text));
    return;
  }
  const span = document.createElement('span');
  span.textContent = text;
  const fg = style.inverse ? style.bg : style.fg;
  const bg = style.inverse ? style.fg : style.bg;
  const classes = [];
  if (typeof fg === 'number') classes.push(`fg${fg}`);
  else if (typeof fg === 'string') span.style.color = fg;
  else if (style.inverse) classes.push('fg-inverse');
  if (typeof bg === 'number') classes.push(`bg${bg}`);
  else if (typeof bg === 'string') span.style.backgroundColor = bg;
  else if (style.inverse) classes.push('bg-inverse');
  if (style.bold) classes.push('bold');
  if (style.dim) classes.push('dim');
  if (style.italic) classes.push('italic');
  if (style.underline) classes.push('underline');
  if (style.strike) classes.push('strike');
  span.className = classes.join(' ');
  parent.append(span);
}

function appendAnsi(parent, text) {
  const style = newStyle();
  let at = 0;
  SEQUENCES.lastIndex = 0;
  for (let match = SEQUENCES.exec(text); match !== null; match = SEQUENCES.exec(text)) {
    appendStyled(parent, text.slice(at, match.index), style);
    if (match[1] !== undefined) applySgr(style, match[1]);
    at = match.index + match[0].length;
    if (match[0].length === 0) SEQUENCES.lastIndex += 1;
  }
  appendStyled(parent, text.slice(at), style);
}

// ---- controls -------------------------------------------------------------------

function setPaused(paused) {
  state.paused = paused;
  elements.pause.textContent = paused ? 'Resume auto-scroll' : 'Pause auto-scroll';
  elements.pause.setAttribute('aria-pressed', String(paused));
  if (!paused) elements.log.scrollTop = elements.log.scrollHeight;
}

elements.pause.addEventListener('click', () => setPaused(!state.paused));
elements.bottom.addEventListener('click', () => setPaused(false));
elements.log.addEventListener('wheel', (event) => {
  // Scrolling up to read pauses auto-scroll; "Jump to bottom" resumes it.
  if (event.deltaY < 0 && !state.paused) setPaused(true);
});
elements.sources.addEventListener('change', () => restart());
elements.grep.addEventListener('input', () => {
  clearTimeout(state.grepTimer);
  state.grepTimer = setTimeout(() => restart(), GREP_DEBOUNCE_MS);
});
elements.timestamps.addEventListener('change', () => elements.log.classList.toggle('timestamps', elements.timestamps.checked));
elements.sessions.addEventListener('change', () => elements.log.classList.toggle('sessions', elements.sessions.checked));
elements.refresh.addEventListener('click', () => loadSandboxes());
elements.restart.addEventListener('click', () => restart());
function useNewToken() {
  elements.auth.hidden = true;
  setStatus('idle', 'idle');
  loadSandboxes();
  if (state.sandbox !== null) restart();
}

elements.auth.addEventListener('submit', (event) => {
  event.preventDefault();
  state.token = elements.token.value.trim();
  sessionStorage.setItem('sandlog-token', state.token);
  elements.token.value = '';
  useNewToken();
});
// Pasting a URL with #token=… into the address bar of an open page does not reload it.
window.addEventListener('hashchange', () => {
  if (takeTokenFromFragment()) useNewToken();
});

loadSandboxes();
setInterval(() => {
  if (!document.hidden && elements.auth.hidden) loadSandboxes();
}, 10_000);
