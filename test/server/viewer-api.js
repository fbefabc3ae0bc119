// The server the viewer tests open: `createApp` (the real app, in this
// process, on 127.0.0.1 port 0) — and, while the tree being tested lacks the
// merged and history routes of issue 13 (GET /api/logs, /api/logs/stream,
// /api/histogram, and `before`/`limit` on a sandbox's logs), a plain
// reference version of exactly those routes in front of it, built on the
// public read API. It is chosen by probing: once the app answers
// /api/logs itself, the tests run against the app alone and this
// stand-in is never used. It holds whole logs in memory and is meant for
// tests only.
//
// Its contract (the one the viewer is built against):
// - GET /api/logs?sandbox=a&sandbox=b | pattern=web-* | all=1, with source,
//   grep, since, until, tail, after → { entries: [{ …, sandbox }], cursor };
//   each entry's `cursor` is the merged cursor just after it.
// - GET /api/logs/stream?… → SSE, id = merged cursor, data has `sandbox`,
//   events `sandbox-added` / `sandbox-removed` with data {"sandbox": name}.
// - `before=<cursor>&limit=N` on both logs routes → { entries (the N before
//   the entry whose cursor that is, oldest first), cursor, start }; `end` = the newest N.
// - GET /api/histogram?sandbox=…|pattern=…&source&grep&since&until&buckets=N
//   → { from, to, bucketMs, buckets: [{ t, counts: { stdout, stderr, output, system } }] }.
import { createServer } from 'node:http';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createApp, parseTimeArgument, streamLogs } from '../../dist/index.js';
import { request } from './http.js';

const POLL_MS = 100;

function glob(pattern) {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

function encodeMulti(positions) {
  const canonical = Object.fromEntries(Object.entries(positions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return Buffer.from(JSON.stringify(canonical)).toString('base64url');
}

function decodeMulti(text) {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // fall through
  }
  throw Object.assign(new Error('invalid cursor: not a merged cursor'), { status: 400 });
}

class ReferenceApi {
  constructor(home) {
    this.home = home;
    this.logs = new Map();
  }

  names() {
    try {
      return readdirSync(join(this.home, 'sandboxes'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    } catch {
      return [];
    }
  }

  selected(query) {
    const known = this.names();
    if (query.get('all') === '1') return known;
    if (query.has('pattern')) return known.filter((name) => glob(query.get('pattern')).test(name));
    return query.getAll('sandbox');
  }

  /** Every entry of one sandbox matching source and grep, read incrementally. */
  async entries(name, query) {
    const sources = query.getAll('source').join(',') || undefined;
    const grep = query.get('grep') || undefined;
    const key = JSON.stringify([name, sources, grep]);
    let log = this.logs.get(key);
    if (log === undefined) {
      log = { list: [], cursor: undefined, busy: Promise.resolve() };
      this.logs.set(key, log);
    }
    const read = log.busy.then(async () => {
      const handle = streamLogs({ name, home: this.home }, { sources, grep, ...(log.cursor ? { afterCursor: log.cursor } : {}) });
      for await (const batch of handle.batches()) for (const entry of batch) log.list.push({ ...entry.toJSON(), sandbox: name });
      log.cursor = handle.cursor;
      await handle.close();
    });
    log.busy = read.catch(() => {});
    await read;
    return log.list;
  }

  inRange(query) {
    const since = query.get('since') ? parseTimeArgument(query.get('since')).getTime() : -Infinity;
    const until = query.get('until') ? parseTimeArgument(query.get('until')).getTime() : Infinity;
    return (entry) => {
      const time = Date.parse(entry.t);
      return time >= since && time < until;
    };
  }

  /** The merged list, each entry with its merged cursor. */
  async merged(names, query) {
    const lists = await Promise.all(names.map((name) => this.entries(name, query)));
    const all = lists.flatMap((list, index) => list.map((entry, at) => ({ entry, index, at })));
    all.sort((a, b) => Date.parse(a.entry.t) - Date.parse(b.entry.t) || a.index - b.index || a.at - b.at);
    const positions = {};
    return all.map(({ entry }) => {
      positions[entry.sandbox] = entry.cursor;
      return { ...entry, own: entry.cursor, cursor: encodeMulti(positions) };
    });
  }

  async handle(request, response) {
    const url = new URL(request.url, 'http://localhost');
    const query = url.searchParams;
    const single = /^\/api\/sandboxes\/([^/]+)\/logs$/.exec(url.pathname);
    try {
      if (single !== null && query.has('before')) return await this.history(response, await this.entries(decodeURIComponent(single[1]), query), query, (entry) => entry.cursor, (list) => list.at(-1)?.cursor ?? '', (entry) => {
        const { sandbox, ...rest } = entry;
        return rest;
      });
      if (url.pathname === '/api/logs') {
        const list = await this.merged(this.selected(query), query);
        if (query.has('before')) return await this.history(response, list, query, (entry) => entry.cursor, (all) => all.at(-1)?.cursor ?? '', strip);
        return this.snapshot(response, list, query);
      }
      if (url.pathname === '/api/logs/stream') return await this.stream(request, response, query);
      if (url.pathname === '/api/histogram') return await this.histogram(response, query);
    } catch (error) {
      response.writeHead(error.status ?? 500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'BAD_REQUEST', message: error.message }));
      return true;
    }
    return false;
  }

  history(response, list, query, cursorOf, lastCursor, shape) {
    const before = query.get('before').replace(/ /g, '+');
    const limit = Number(query.get('limit') ?? 100);
    const index = before === 'end' ? list.length : list.findIndex((entry) => cursorOf(entry) === before);
    if (index < 0) throw Object.assign(new Error('invalid cursor: no such entry'), { status: 400 });
    const first = Math.max(0, index - limit);
    sendJson(response, { entries: list.slice(first, index).map(shape), cursor: lastCursor(list), start: first === 0 });
    return true;
  }

  snapshot(response, list, query) {
    let entries = list;
    if (query.has('after')) {
      const after = decodeMulti(query.get('after'));
      entries = list.filter((entry) => {
        const mark = after[entry.sandbox];
        return mark === undefined || entriesAfter(list, entry, mark);
      });
    }
    entries = entries.filter(this.inRange(query));
    if (query.has('tail')) entries = entries.slice(Math.max(0, entries.length - Number(query.get('tail'))));
    sendJson(response, { entries: entries.map(strip), cursor: list.at(-1)?.cursor ?? encodeMulti({}) });
    return true;
  }

  async stream(request, response, query) {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    response.write(': stream\n\n');
    let positions = {};
    const from = request.headers['last-event-id'] || query.get('after');
    if (from) positions = decodeMulti(from.replace(/ /g, '+'));
    const sent = new Map();
    let known = null;
    let closed = false;
    response.on('close', () => (closed = true));
    const parameters = new URLSearchParams(query);
    parameters.delete('after');
    while (!closed) {
      const names = this.selected(parameters);
      if (known !== null) {
        for (const name of names) if (!known.includes(name)) response.write(`event: sandbox-added\ndata: ${JSON.stringify({ sandbox: name })}\n\n`);
        for (const name of known) if (!names.includes(name)) response.write(`event: sandbox-removed\ndata: ${JSON.stringify({ sandbox: name })}\n\n`);
      }
      known = names;
      const fresh = [];
      for (const name of names) {
        const list = await this.entries(name, parameters);
        let at = sent.get(name);
        if (at === undefined) at = positions[name] === undefined ? 0 : list.findIndex((entry) => entry.cursor === positions[name]) + 1;
        for (let i = at; i < list.length; i++) fresh.push(list[i]);
        sent.set(name, list.length);
      }
      fresh.sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
      let chunk = '';
      for (const entry of fresh) {
        positions = { ...positions, [entry.sandbox]: entry.cursor };
        const cursor = encodeMulti(positions);
        chunk += `id: ${cursor}\ndata: ${JSON.stringify({ ...entry, cursor })}\n\n`;
      }
      if (chunk !== '') response.write(chunk);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return true;
  }

  async histogram(response, query) {
    const names = query.has('pattern') || query.get('all') === '1' ? this.selected(query) : query.getAll('sandbox');
    const lists = await Promise.all(names.map((name) => this.entries(name, query)));
    const entries = lists.flat().filter(this.inRange(query));
    if (lists.length > 1) entries.sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
    const count = Number(query.get('buckets') ?? 60);
    const from = query.get('since') ? parseTimeArgument(query.get('since')).getTime() : entries.length > 0 ? Date.parse(entries[0].t) : Date.now();
    const to = query.get('until') ? parseTimeArgument(query.get('until')).getTime() : Date.now() + 1;
    const bucketMs = Math.max(1, Math.ceil((to - from) / count));
    const buckets = Array.from({ length: count }, (_, i) => ({ t: new Date(from + i * bucketMs).toISOString(), counts: { stdout: 0, stderr: 0, output: 0, system: 0 } }));
    for (const entry of entries) {
      const bucket = buckets[Math.floor((Date.parse(entry.t) - from) / bucketMs)];
      if (bucket) bucket.counts[entry.s] += 1;
    }
    sendJson(response, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucketMs, buckets });
    return true;
  }
}

function entriesAfter(list, entry, mark) {
  const own = list.findIndex((candidate) => candidate.sandbox === entry.sandbox && candidate.own === mark);
  return list.indexOf(entry) > own;
}

function strip(entry) {
  const { own, ...rest } = entry;
  return rest;
}

function sendJson(response, value) {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify(value));
}

/**
 * Serves `home` on 127.0.0.1 port 0: { url, reference (true when the stand-in
 * routes are in use), close() }.
 */
export async function startViewerServer(t, home) {
  const app = createApp({ home, heartbeatMs: 5000 });
  let reference = null;
  const server = createServer((req, res) => {
    if (reference === null) return app.handle(req, res);
    reference.handle(req, res).then((handled) => handled || app.handle(req, res), (error) => res.destroy(error));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const probe = await request(url, '/api/logs?all=1&tail=0');
  if (probe.status === 404) reference = new ReferenceApi(home);
  const close = async () => {
    server.closeAllConnections();
    await app.close();
    await new Promise((resolve) => server.close(resolve));
  };
  t.after(close);
  return { url, reference: reference !== null, close };
}
