// The page's controls: the sandbox list (one name, several ticked, or a
// pattern), the toolbar (sources, grep with its match counter, time range,
// wrap, timestamps, session colours, pause, top/bottom, download), the
// token form, the keyboard shortcuts and their help. Controls change the
// view through the viewer; `reflect` sets them from a view (a reload, the
// back button).

import { api } from './api.js';
import { plainText } from './ansi.js';
import { bodyText } from './render.js';
import { isMerged, RELATIVE_RANGES } from './state.js';

const GREP_DEBOUNCE_MS = 300;
const $ = (id) => document.getElementById(id);

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

/** How the API names a sandbox: its id on a fleet server (`host/name`), else its name. */
function sandboxId(sandbox) {
  return typeof sandbox.id === 'string' ? sandbox.id : sandbox.name;
}

export class Controls {
  constructor() {
    this.viewer = null;
    this.sandboxNames = [];
    this.grepTimer = 0;
    this.e = Object.fromEntries(
      [
        'sandboxes',
        'no-sandboxes',
        'refresh',
        'pattern',
        'current',
        'status',
        'auth',
        'token',
        'sources',
        'grep',
        'matches',
        'match-prev',
        'match-next',
        'range',
        'custom',
        'since',
        'until',
        'apply-range',
        'wrap',
        'timestamps',
        'sessions',
        'pause',
        'top',
        'bottom',
        'count',
        'download-text',
        'download-jsonl',
        'help',
        'help-open',
        'help-close',
        'message',
        'message-text',
        'restart',
        'notice',
        'log',
      ].map((id) => [id.replace(/-(\w)/g, (_, c) => c.toUpperCase()), $(id)]),
    );
  }

  /** Wires every control to the viewer. */
  attach(viewer) {
    this.viewer = viewer;
    const e = this.e;
    e.sources.addEventListener('change', () =>
      viewer.change({
        sources: [...e.sources.querySelectorAll('input[name=source]:checked')].map((input) => input.value),
      }),
    );
    e.grep.addEventListener('input', () => {
      clearTimeout(this.grepTimer);
      this.grepTimer = setTimeout(() => viewer.change({ grep: e.grep.value }), GREP_DEBOUNCE_MS);
    });
    e.grep.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        clearTimeout(this.grepTimer);
        if (e.grep.value !== viewer.view.grep) viewer.change({ grep: e.grep.value });
        else this.step(event.shiftKey ? -1 : 1);
      } else if (event.key === 'Escape') e.grep.blur();
    });
    e.matchPrev.addEventListener('click', () => this.step(-1));
    e.matchNext.addEventListener('click', () => this.step(1));
    e.range.addEventListener('change', () => {
      const range = e.range.value;
      e.custom.hidden = range !== 'custom';
      if (range !== 'custom') viewer.change({ range, since: '', until: '' });
      else e.since.focus();
    });
    e.applyRange.addEventListener('click', () =>
      viewer.change({ range: 'custom', since: e.since.value.trim(), until: e.until.value.trim() }),
    );
    e.wrap.addEventListener('change', () => e.log.classList.toggle('nowrap', !e.wrap.checked));
    e.timestamps.addEventListener('change', () => e.log.classList.toggle('timestamps', e.timestamps.checked));
    e.sessions.addEventListener('change', () => e.log.classList.toggle('sessions', e.sessions.checked));
    e.pause.addEventListener('click', () => viewer.list.setPaused(!viewer.list.paused));
    e.top.addEventListener('click', () => viewer.list.top());
    e.bottom.addEventListener('click', () => viewer.list.bottom());
    e.log.addEventListener(
      'wheel',
      (event) => {
        // Scrolling up to read pauses; scrolling down past the newest entry follows again.
        const list = viewer.list;
        if (event.deltaY < 0 && !list.paused) list.setPaused(true);
        const log = e.log;
        if (
          event.deltaY > 0 &&
          list.paused &&
          list.hi === list.entries.length &&
          log.scrollHeight - log.scrollTop - log.clientHeight < 2
        )
          list.setPaused(false);
      },
      { passive: true },
    );
    e.log.addEventListener('click', (event) => {
      const link = event.target.closest?.('a.link');
      if (link) this.copyLink(event, link);
    });
    e.downloadText.addEventListener('click', () => this.download('text'));
    e.downloadJsonl.addEventListener('click', () => this.download('jsonl'));
    e.refresh.addEventListener('click', () => this.loadSandboxes());
    e.pattern.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') viewer.change({ pattern: e.pattern.value.trim(), sandboxes: [] });
    });
    e.restart.addEventListener('click', () => viewer.restart());
    e.helpOpen.addEventListener('click', () => this.toggleHelp());
    e.helpClose.addEventListener('click', () => this.toggleHelp(false));
    document.addEventListener('keydown', (event) => this.onKey(event));
  }

  onKey(event) {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (
      target instanceof HTMLElement &&
      (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
    )
      return;
    // Space on a focused button or link presses it; it is not a second "pause".
    if (event.key === ' ' && target instanceof HTMLElement && ['BUTTON', 'A'].includes(target.tagName)) return;
    const list = this.viewer.list;
    const actions = {
      '/': () => {
        this.e.grep.focus();
        this.e.grep.select();
      },
      g: () => list.top(),
      G: () => list.bottom(),
      ' ': () => list.setPaused(!list.paused),
      n: () => this.step(1),
      N: () => this.step(-1),
      w: () => this.e.wrap.click(),
      t: () => this.e.timestamps.click(),
      '?': () => this.toggleHelp(),
      Escape: () => this.toggleHelp(false),
    };
    const action = actions[event.key];
    if (action === undefined) return;
    // Space and "/" would otherwise scroll the page or type into nothing.
    event.preventDefault();
    action();
  }

  toggleHelp(show = this.e.help.hidden) {
    this.e.help.hidden = !show;
  }

  step(direction) {
    this.viewer.list.nextMatch(direction);
    this.updateMatches();
  }

  async copyLink(event, link) {
    event.preventDefault();
    const address = new URL(link.getAttribute('href'), location.href).href;
    this.e.log.dataset.copied = address;
    try {
      await navigator.clipboard.writeText(address);
      this.notice('Link to this entry copied');
    } catch {
      // No clipboard (an insecure origin, or permission refused): the link is still there to copy by hand.
      this.notice(`Link: ${address}`);
    }
  }

  notice(text) {
    const notice = this.e.notice;
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => (notice.hidden = true), 4000);
  }

  async download(format) {
    let entries;
    try {
      entries = await this.viewer.selection();
    } catch (error) {
      this.notice(`Download failed: ${error.message}`);
      return;
    }
    const merged = isMerged(this.viewer.view);
    const lines = entries.map((entry) =>
      format === 'jsonl'
        ? JSON.stringify(entry)
        : `${entry.t} ${merged ? `${entry.sandbox} ` : ''}${entry.s} ${plainText(bodyText(entry))}`,
    );
    const blob = new Blob(lines.length === 0 ? [] : [lines.join('\n'), '\n'], {
      type: format === 'jsonl' ? 'application/x-ndjson' : 'text/plain',
    });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    const name =
      this.viewer.view.pattern !== ''
        ? this.viewer.view.pattern.replace(/[^\w.-]+/g, '_')
        : this.viewer.view.sandboxes.join('+').replace(/\//g, '_');
    link.download = `${name || 'sandlog'}.${format === 'jsonl' ? 'jsonl' : 'log'}`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  }

  /** Sets every control from a view. */
  reflect(view) {
    const e = this.e;
    for (const input of e.sources.querySelectorAll('input[name=source]'))
      input.checked = view.sources.includes(input.value);
    if (document.activeElement !== e.grep || e.grep.value !== view.grep) {
      clearTimeout(this.grepTimer);
      e.grep.value = view.grep;
    }
    e.range.value = view.range in RELATIVE_RANGES || view.range === 'custom' ? view.range : 'all';
    e.custom.hidden = view.range !== 'custom';
    e.since.value = view.since;
    e.until.value = view.until;
    e.pattern.value = view.pattern;
    e.current.textContent =
      view.pattern !== ''
        ? `pattern ${view.pattern}`
        : view.sandboxes.length > 0
          ? view.sandboxes.join(', ')
          : 'no sandbox selected';
    this.markSandboxes(view);
    this.updateMatches();
    document.title =
      view.sandboxes.length + (view.pattern ? 1 : 0) > 0 ? `${e.current.textContent} · sandlog` : 'sandlog';
  }

  markSandboxes(view) {
    for (const item of this.e.sandboxes.querySelectorAll('li[data-name]')) {
      const name = item.dataset.name;
      const button = item.querySelector('button.sandbox');
      if (view.pattern === '' && view.sandboxes.length === 1 && view.sandboxes[0] === name)
        button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
      item.querySelector('input.pick').checked = view.pattern === '' && view.sandboxes.includes(name);
    }
  }

  /**
   * Fetches and shows the sandbox list; resolves to the names (null when it could not be read).
   * A fleet's list (`serve --nats`) names each sandbox by its id `host/name` and is grouped by host.
   */
  async loadSandboxes() {
    let list;
    try {
      list = await api('/api/sandboxes');
    } catch (error) {
      // A server that is away (restarting) is shown by the status badge; the next refresh tries again.
      if (error.status !== undefined && error.status !== 401)
        this.viewer.ui.showMessage(`Could not list sandboxes: ${error.message}`);
      return null;
    }
    const items = list.map((sandbox) => this.sandboxItem(sandbox));
    const groups = new Map();
    list.forEach((sandbox, i) => {
      if (typeof sandbox.host !== 'string') return;
      if (!groups.has(sandbox.host)) groups.set(sandbox.host, []);
      groups.get(sandbox.host).push(items[i]);
    });
    if (groups.size === 0) this.e.sandboxes.replaceChildren(...items);
    else {
      const hostItems = [...groups].map(([host, members]) => {
        const group = document.createElement('li');
        group.className = 'host';
        group.dataset.host = host;
        const heading = document.createElement('span');
        heading.className = 'host-name';
        heading.textContent = host;
        const inner = document.createElement('ul');
        inner.className = 'host-sandboxes';
        inner.append(...members);
        group.append(heading, inner);
        return group;
      });
      this.e.sandboxes.replaceChildren(...hostItems);
    }
    this.e.noSandboxes.hidden = list.length > 0;
    this.sandboxNames = list.map(sandboxId);
    this.markSandboxes(this.viewer.view);
    return this.sandboxNames;
  }

  /** One sandbox of the list: a tick box to merge it, and a button to view it alone. */
  sandboxItem(sandbox) {
    const id = sandboxId(sandbox);
    const item = document.createElement('li');
    item.dataset.name = id;
    const pick = document.createElement('input');
    pick.type = 'checkbox';
    pick.className = 'pick';
    pick.title = 'Show in a merged view with the other ticked sandboxes';
    pick.setAttribute('aria-label', `merge ${id}`);
    pick.addEventListener('change', () => this.togglePick(id, pick.checked));
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sandbox';
    button.dataset.name = id;
    const name = document.createElement('span');
    name.className = 'name';
    // Under its host's heading, a fleet sandbox shows its own name only.
    name.textContent = sandbox.name;
    const meta = document.createElement('span');
    meta.className = 'meta';
    const size =
      typeof sandbox.bytes === 'number'
        ? `${formatBytes(sandbox.bytes)} · ~${sandbox.entriesEstimate} entries`
        : `${sandbox.entries} ${sandbox.entries === 1 ? 'entry' : 'entries'}`;
    meta.textContent = `${size}${sandbox.lastEntry ? ` · ${sandbox.lastEntry.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}` : ''}`;
    button.append(name, meta);
    button.addEventListener('click', () => this.viewer.change({ sandboxes: [id], pattern: '' }));
    item.append(pick, button);
    return item;
  }

  togglePick(name, picked) {
    const view = this.viewer.view;
    const names = new Set(view.pattern === '' ? view.sandboxes : []);
    if (picked) names.add(name);
    else names.delete(name);
    // Kept in the order of the list, so that the same choice gives the same address.
    this.viewer.change({ sandboxes: this.sandboxNames.filter((known) => names.has(known)), pattern: '' });
  }

  setStatus(kind, text) {
    this.e.status.dataset.state = kind;
    this.e.status.textContent = text;
  }

  showMessage(text, offerRestart = false) {
    this.e.messageText.textContent = text;
    this.e.restart.hidden = !offerRestart;
    this.e.message.hidden = false;
  }

  hideMessage() {
    this.e.message.hidden = true;
  }

  showAuth() {
    this.e.auth.hidden = false;
    this.setStatus('locked', 'token needed');
    this.e.token.focus();
  }

  onPaused(paused) {
    this.e.pause.textContent = paused ? 'Resume' : 'Pause';
    this.e.pause.setAttribute('aria-pressed', String(paused));
  }

  updateCount() {
    const list = this.viewer.list;
    const shown = list.element.childElementCount;
    const loaded = list.entries.length;
    const count = this.e.count;
    count.dataset.shown = String(shown);
    count.dataset.loaded = String(loaded);
    count.dataset.received = String(list.received);
    const newer = list.entries.length - list.hi;
    let text = `${shown.toLocaleString('en')} ${shown === 1 ? 'entry' : 'entries'} shown`;
    if (loaded > shown) text += ` of ${loaded.toLocaleString('en')} loaded`;
    if (list.startReached && loaded > 0) text += ' · from the start';
    if (list.paused && newer > 0) text += ` · ${newer.toLocaleString('en')} newer below`;
    count.textContent = text;
    this.updateMatches();
  }

  updateMatches() {
    const list = this.viewer?.list;
    const matches = this.e.matches;
    const on = list !== undefined && list.pattern !== null;
    matches.hidden = !on;
    this.e.matchPrev.hidden = !on;
    this.e.matchNext.hidden = !on;
    if (!on) return;
    const ordinal = list.currentOrdinal();
    matches.dataset.total = String(list.matches);
    matches.dataset.current = String(ordinal);
    matches.textContent =
      ordinal > 0 ? `${ordinal} / ${list.matches}` : `${list.matches} ${list.matches === 1 ? 'match' : 'matches'}`;
  }
}
