// The multi-sandbox API (GET /api/logs, /api/logs/stream, /api/histogram) and
// history pages (before=…&limit=N), over real HTTP on a real server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, ExecLogWriter } from '../../dist/index.js';
import { at, recordLine, tempDir, tempSandbox, waitFor, writeLines } from '../helpers.js';
import { request, openEventStream, entriesOf } from './http.js';

function homeWith(t, sandboxes) {
  const home = tempDir(t);
  for (const [name, records] of Object.entries(sandboxes)) {
    const logDir = join(home, 'sandboxes', name, 'logs');
    mkdirSync(logDir, { recursive: true });
    writeLines(
      join(logDir, 'exec.log'),
      records.map(([seconds, body, source = 'stdout']) => recordLine(at(seconds), source, body, 1)),
    );
  }
  return home;
}

function append(home, name, records) {
  appendFileSync(
    join(home, 'sandboxes', name, 'logs', 'exec.log'),
    records.map(([seconds, body]) => `${recordLine(at(seconds), 'stdout', body, 1)}\n`).join(''),
  );
}

async function serve(t, home) {
  const server = await startServer({ home, port: 0 });
  t.after(() => server.close());
  return server;
}

const q = encodeURIComponent;
const labels = (entries) => entries.map((entry) => `${entry.sandbox}:${entry.d.trim()}`);

test('GET /api/logs merges sandboxes by time and tags each entry with its sandbox and a multi-cursor', async (t) => {
  const home = homeWith(t, {
    a: [
      [1, 'a1\n'],
      [3, 'a2\n'],
      [5, 'a3\n'],
    ],
    b: [
      [2, 'b1\n'],
      [3, 'b2\n'],
    ],
    c: [[0, 'c1\n']],
  });
  const server = await serve(t, home);
  const response = await request(server.url, '/api/logs?sandbox=b&sandbox=a');
  assert.equal(response.status, 200, response.body);
  assert.deepEqual(labels(response.json.entries), ['a:a1', 'b:b1', 'a:a2', 'b:b2', 'a:a3']);
  assert.deepEqual(Object.keys(response.json.entries[0]), ['t', 's', 'd', 'id', 'e', 'cursor', 'sandbox']);
  assert.deepEqual(response.json.sandboxes, ['a', 'b']);
  assert.match(response.json.cursor, /^[A-Za-z0-9_-]+$/);
  // An entry's cursor resumes every sandbox right after it.
  const after = await request(server.url, `/api/logs?sandbox=a&sandbox=b&after=${q(response.json.entries[2].cursor)}`);
  assert.deepEqual(labels(after.json.entries), ['b:b2', 'a:a3']);
  // The response's cursor is after everything: new entries only.
  append(home, 'b', [[9, 'b3\n']]);
  const more = await request(server.url, `/api/logs?sandbox=a&sandbox=b&after=${q(response.json.cursor)}`);
  assert.deepEqual(labels(more.json.entries), ['b:b3']);

  const pattern = await request(server.url, `/api/logs?pattern=${q('[ab]')}&tail=1`);
  assert.deepEqual(labels(pattern.json.entries), ['a:a3', 'b:b3']);
  const all = await request(server.url, '/api/logs?all=1&grep=1');
  assert.deepEqual(labels(all.json.entries), ['c:c1', 'a:a1', 'b:b1']);
});

test('GET /api/logs answers a bad selection with a JSON error and an empty pattern with no entries', async (t) => {
  const home = homeWith(t, { a: [[1, 'a1\n']] });
  const server = await serve(t, home);
  const cases = [
    ['/api/logs', 400, 'BAD_REQUEST'],
    ['/api/logs?sandbox=a&sandbox=nope', 404, 'SANDBOX_NOT_FOUND'],
    ['/api/logs?sandbox=..', 400, 'INVALID_SANDBOX_NAME'],
    ['/api/logs?all=1&sandbox=a', 400, 'BAD_REQUEST'],
    ['/api/logs?all=yes', 400, 'BAD_REQUEST'],
    ['/api/logs?sandbox=a&after=garbage!', 400, 'INVALID_CURSOR'],
    ['/api/logs?sandbox=a&before=end&tail=3', 400, 'BAD_REQUEST'],
    ['/api/logs?sandbox=a&before=end&limit=0', 400, 'INVALID_OPTIONS'],
    ['/api/logs?sandbox=a&bogus=1', 400, 'BAD_REQUEST'],
    ['/api/histogram?sandbox=a&buckets=-1', 400, 'BAD_REQUEST'],
  ];
  for (const [path, status, code] of cases) {
    const response = await request(server.url, path);
    assert.equal(response.status, status, `${path}: ${response.body}`);
    assert.equal(response.json.error, code, path);
  }
  const empty = await request(server.url, `/api/logs?pattern=${q('web-*')}`);
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.json.entries, []);
  const post = await request(server.url, '/api/logs?all=1', { method: 'POST' });
  assert.equal(post.status, 405);
});

test('the multi routes need the token like every /api route; the stream also takes it in the URL', async (t) => {
  const home = homeWith(t, { a: [[1, 'a1\n']] });
  const server = await startServer({ home, port: 0, token: 'secret' });
  t.after(() => server.close());
  for (const path of ['/api/logs?all=1', '/api/histogram?all=1', '/api/logs/stream?all=1']) {
    assert.equal((await request(server.url, path)).status, 401, path);
  }
  assert.equal(
    (await request(server.url, '/api/logs?all=1', { headers: { authorization: 'Bearer secret' } })).status,
    200,
  );
  const stream = await openEventStream(server.url, '/api/logs/stream?all=1&token=secret');
  t.after(() => stream.close());
  assert.equal(stream.status, 200);
  await stream.waitForEvents(1);
});

test('history pages walk one sandbox back across rotations to the first retained entry, with no gap or repeat, while entries arrive', async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir, { maxBytes: 4000 });
  t.after(() => writer.close());
  for (let i = 0; i < 200; i++)
    writer.write(i % 5 === 0 ? 'stderr' : 'stdout', `line ${String(i).padStart(5, '0')}\n`, 1);
  writer.flush();
  const server = await serve(t, home);
  const forward = (await request(server.url, '/api/sandboxes/web/logs')).json.entries;
  assert.ok(forward.length > 100);

  let page = (await request(server.url, '/api/sandboxes/web/logs?before=end&limit=37')).json;
  assert.deepEqual(page.entries, forward.slice(-37));
  const collected = [...page.entries];
  let pages = 1;
  while (!page.start) {
    // Live entries keep arriving (and rotating) meanwhile; the walk back is not disturbed.
    writer.write('stdout', `live ${pages}\n`, 2);
    writer.flush();
    page = (await request(server.url, `/api/sandboxes/web/logs?before=${q(page.cursor)}&limit=37`)).json;
    collected.unshift(...page.entries);
    assert.ok(++pages < 50, 'too many pages');
  }
  assert.deepEqual(
    collected.map((entry) => entry.d),
    forward.map((entry) => entry.d),
  );
  // Each page's entries carry the cursors a forward read gives them.
  assert.deepEqual(
    collected.map((entry) => entry.cursor),
    forward.map((entry) => entry.cursor),
  );
  const none = (await request(server.url, `/api/sandboxes/web/logs?before=${q(collected[0].cursor)}&limit=5`)).json;
  assert.deepEqual(none.entries, []);
  assert.equal(none.start, true);
});

test('history respects source and grep, and a cursor whose file left retention is 410', async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir, { maxBytes: 600, maxFiles: 1 });
  t.after(() => writer.close());
  for (let i = 0; i < 12; i++) writer.write(i % 2 ? 'stderr' : 'stdout', `n${i}\n`, 1);
  writer.flush();
  const server = await serve(t, home);
  const forward = (await request(server.url, '/api/sandboxes/web/logs?source=stderr&grep=n1')).json.entries;
  const page = (await request(server.url, '/api/sandboxes/web/logs?source=stderr&grep=n1&before=&limit=100')).json;
  // Same entries (a forward read may put a cursor after the filtered lines that follow an entry: both resume alike).
  const shape = (entries) => entries.map(({ t, s, d }) => ({ t, s, d }));
  assert.deepEqual(shape(page.entries), shape(forward));
  assert.equal(page.start, true);
  const oldest = (await request(server.url, '/api/sandboxes/web/logs')).json.entries[0].cursor;
  for (let i = 0; i < 40; i++) writer.write('stdout', `push ${i} out of retention\n`, 1);
  writer.flush();
  const gone = await request(server.url, `/api/sandboxes/web/logs?before=${q(oldest)}&limit=5`);
  assert.equal(gone.status, 410, `${gone.body} ${oldest}`);
  assert.equal(gone.json.error, 'HISTORY_GONE');
});

test('merged history pages over several sandboxes equal the merged forward read', async (t) => {
  const records = (name, times) => times.map((s, i) => [s, `${name}${i}\n`]);
  const home = homeWith(t, {
    a: records('a', [1, 2, 2, 5, 8, 8, 9, 12, 13, 20]),
    b: records('b', [2, 3, 8, 8, 11, 14]),
    c: records('c', [0, 2, 30]),
  });
  const server = await serve(t, home);
  const forward = (await request(server.url, '/api/logs?all=1')).json.entries;
  assert.equal(forward.length, 19);
  let page = (await request(server.url, '/api/logs?all=1&before=end&limit=4')).json;
  const collected = [...page.entries];
  while (!page.start) {
    page = (await request(server.url, `/api/logs?all=1&before=${q(page.cursor)}&limit=4`)).json;
    collected.unshift(...page.entries);
  }
  assert.deepEqual(labels(collected), labels(forward));
  // The newest page's last cursor is where a live read continues: nothing repeated, nothing missed.
  const newest = (await request(server.url, '/api/logs?all=1&limit=4')).json;
  assert.deepEqual(labels(newest.entries), labels(forward.slice(-4)));
  const follow = newest.entries.at(-1).cursor;
  assert.deepEqual((await request(server.url, `/api/logs?all=1&after=${q(follow)}`)).json.entries, []);
  append(home, 'c', [[31, 'c3\n']]);
  append(home, 'a', [[32, 'a10\n']]);
  assert.deepEqual(labels((await request(server.url, `/api/logs?all=1&after=${q(follow)}`)).json.entries), [
    'c:c3',
    'a:a10',
  ]);
  // A page's first cursor resumes forward exactly after that entry.
  const from = collected[6];
  const rest = (await request(server.url, `/api/logs?all=1&after=${q(from.cursor)}`)).json.entries;
  assert.deepEqual(labels(rest), [...labels(forward.slice(7)), 'c:c3', 'a:a10']);
});

test("a histogram's counts equal what /api/logs returns for each bucket's range", async (t) => {
  const home = homeWith(t, {
    a: Array.from({ length: 40 }, (_, i) => [i * 7, `a${i}\n`, i % 3 === 0 ? 'stderr' : 'stdout']),
    b: Array.from({ length: 25 }, (_, i) => [i * 11 + 0.5, `b${i}\n`, i % 4 === 0 ? 'stderr' : 'output']),
  });
  const server = await serve(t, home);
  for (const filter of ['', '&grep=1', `&since=${q(at(20))}&until=${q(at(200))}`]) {
    const histogram = (await request(server.url, `/api/histogram?all=1&buckets=9${filter}`)).json;
    assert.ok(histogram.buckets.length >= 1 && histogram.buckets.length <= 9, JSON.stringify(histogram));
    let total = 0;
    const to = Date.parse(histogram.to);
    for (const bucket of histogram.buckets) {
      const start = Date.parse(bucket.t);
      const end = Math.min(start + histogram.bucketMs, to);
      const extra = filter.includes('grep') ? '&grep=1' : '';
      const entries = (
        await request(
          server.url,
          `/api/logs?all=1${extra}&since=${q(new Date(start).toISOString())}&until=${q(new Date(end).toISOString())}`,
        )
      ).json.entries;
      const counts = { stdout: 0, stderr: 0, output: 0, system: 0 };
      for (const entry of entries) counts[entry.s] += 1;
      assert.deepEqual(bucket.counts, counts, `bucket ${bucket.t}${filter}`);
      total += entries.length;
    }
    const everything = (await request(server.url, `/api/logs?all=1${filter}`)).json.entries.length;
    assert.equal(total, everything, filter);
  }
  const empty = (await request(server.url, `/api/histogram?pattern=${q('zz*')}`)).json;
  assert.deepEqual(empty, { from: null, to: null, bucketMs: 0, buckets: [] });
});

test('the multi stream tags events with sandboxes, reports sandboxes added and removed, and Last-Event-ID resumes each exactly', async (t) => {
  const home = homeWith(t, { 'web-1': [[1, 'w1 a\n']], 'web-2': [[2, 'w2 a\n']], db: [[3, 'db a\n']] });
  const server = await serve(t, home);
  const stream = await openEventStream(server.url, `/api/logs/stream?pattern=${q('web-*')}`);
  t.after(() => stream.close());
  assert.equal(stream.status, 200);
  await stream.waitForEvents(2);
  assert.deepEqual(labels(entriesOf(stream.events)), ['web-1:w1 a', 'web-2:w2 a']);
  assert.equal(stream.events[1].id, JSON.parse(stream.events[1].data).cursor);

  const logDir = join(home, 'sandboxes', 'web-3', 'logs');
  mkdirSync(logDir, { recursive: true });
  writeLines(join(logDir, 'exec.log'), [recordLine(at(4), 'stdout', 'w3 a\n', 1)]);
  await stream.waitFor((client) => entriesOf(client.events).some((entry) => entry.sandbox === 'web-3'), {
    what: 'the new sandbox',
    timeoutMs: 15_000,
  });
  const added = stream.events.findIndex((event) => event.event === 'sandbox-added');
  assert.ok(added >= 0);
  assert.deepEqual(JSON.parse(stream.events[added].data), { sandbox: 'web-3' });
  assert.ok(added < stream.events.findIndex((event) => event.data.includes('w3 a')));

  append(home, 'web-1', [[5, 'w1 b\n']]);
  await stream.waitFor((client) => client.events.some((event) => event.data.includes('w1 b')), {
    what: 'a live entry',
  });
  const lastId = stream.events.filter((event) => event.event === 'message').at(-1).id;
  rmSync(join(home, 'sandboxes', 'web-2'), { recursive: true, force: true });
  await stream.waitFor((client) => client.events.some((event) => event.event === 'sandbox-removed'), {
    what: 'sandbox-removed',
    timeoutMs: 15_000,
  });
  assert.deepEqual(JSON.parse(stream.events.find((event) => event.event === 'sandbox-removed').data), {
    sandbox: 'web-2',
  });
  stream.close();

  // Reconnect with the last id: only what came after, for every sandbox.
  append(home, 'web-1', [[6, 'w1 c\n']]);
  append(home, 'web-3', [[7, 'w3 b\n']]);
  const resumed = await openEventStream(server.url, `/api/logs/stream?pattern=${q('web-*')}`, {
    headers: { 'last-event-id': lastId },
  });
  t.after(() => resumed.close());
  await resumed.waitForEvents(2);
  assert.deepEqual(labels(entriesOf(resumed.events)), ['web-1:w1 c', 'web-3:w3 b']);
});

test('a multi stream over named sandboxes ends with an end event when they are gone; a bad Last-Event-ID is an error event', async (t) => {
  const home = homeWith(t, { a: [[1, 'a1\n']], b: [[2, 'b1\n']] });
  const server = await serve(t, home);
  const bad = await openEventStream(server.url, '/api/logs/stream?sandbox=a&sandbox=b', {
    headers: { 'last-event-id': 'garbage!' },
  });
  t.after(() => bad.close());
  await bad.waitForEnd();
  assert.equal(bad.events.length, 1);
  assert.equal(bad.events[0].event, 'error');
  assert.equal(JSON.parse(bad.events[0].data).error, 'INVALID_CURSOR');
  const plain = await request(server.url, '/api/logs/stream?sandbox=a', { headers: { 'last-event-id': 'garbage!' } });
  assert.equal(plain.status, 400);

  const stream = await openEventStream(server.url, '/api/logs/stream?sandbox=a&sandbox=b');
  t.after(() => stream.close());
  await stream.waitForEvents(2);
  rmSync(join(home, 'sandboxes', 'a'), { recursive: true, force: true });
  rmSync(join(home, 'sandboxes', 'b'), { recursive: true, force: true });
  await waitFor(() => stream.ended, { what: 'the stream to end', timeoutMs: 20_000 });
  assert.equal(stream.events.at(-1).event, 'end', stream.events.at(-1).data);
});

test('closing the server ends live multi streams', async (t) => {
  const home = homeWith(t, { a: [[1, 'a1\n']], b: [[2, 'b1\n']] });
  const server = await startServer({ home, port: 0 });
  const stream = await openEventStream(server.url, '/api/logs/stream?all=1');
  t.after(() => stream.close());
  await stream.waitForEvents(2);
  await server.close();
  await stream.waitForEnd();
  assert.ok(
    stream.events.every((event) => event.event === 'message'),
    'no end event: the client should reconnect',
  );
});
