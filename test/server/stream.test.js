// The live stream route: SSE framing, resume by Last-Event-ID across
// rotations and server restarts, heartbeats, the named `error` event, one
// shared watcher for many clients, and shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, ExecLogWriter, TextLogWriter } from '../../dist/index.js';
import { watchedDirectoryCount } from '../../dist/engine/watch.js';
import { tempSandbox, waitFor, DEADLINE_MS } from '../helpers.js';
import { request, openEventStream, entriesOf } from './http.js';

function writeMany(writer, from, to, session = 1) {
  for (let i = from; i < to; i++) writer.write('stdout', `line ${i}\n`, session);
  writer.flush();
}

const bodies = (events) => entriesOf(events).map((entry) => entry.d);
const range = (from, to) => Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`);

test('each entry is one event whose id is its cursor; the data is the --json shape', async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir);
  t.after(() => writer.close());
  writeMany(writer, 0, 3);
  const server = await startServer({ home, port: 0 });
  t.after(() => server.close());
  const stream = await openEventStream(server.url, '/api/sandboxes/web/logs/stream');
  t.after(() => stream.close());
  assert.equal(stream.status, 200);
  assert.match(stream.headers['content-type'], /^text\/event-stream/);
  assert.equal(stream.headers['cache-control'], 'no-store');
  assert.equal(stream.headers['x-content-type-options'], 'nosniff');
  const events = await stream.waitForEvents(3);
  assert.match(stream.body, /^retry: \d+\n/);
  for (const event of events) {
    const entry = JSON.parse(event.data);
    assert.equal(event.event, 'message');
    assert.equal(event.id, entry.cursor);
    assert.deepEqual(Object.keys(entry), ['t', 's', 'd', 'id', 'e', 'cursor']);
  }
  writeMany(writer, 3, 5);
  await stream.waitForEvents(5);
  assert.deepEqual(bodies(stream.events), range(0, 5));
});

test('resuming by Last-Event-ID across rotations and a server restart loses and repeats nothing', async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  // Small files: the 150 entries below rotate the log several times (4 rotated files are kept).
  const writer = new ExecLogWriter(logDir, { maxBytes: 1500 });
  t.after(() => writer.close());
  writeMany(writer, 0, 30);

  let server = await startServer({ home, port: 0 });
  const port = server.port;
  const first = await openEventStream(server.url, '/api/sandboxes/web/logs/stream');
  await first.waitForEvents(30);
  writeMany(writer, 30, 45);
  await first.waitForEvents(45);
  const rotationsBefore = writer.rotations;
  // The server goes away mid-stream: the client sees the connection end, with no `end` event.
  await server.close();
  await first.waitForEnd();
  assert.equal(first.events.filter((event) => event.event !== 'message').length, 0);
  const lastId = first.events.at(-1).id;

  writeMany(writer, 45, 100);
  server = await startServer({ home, port });
  t.after(() => server.close());
  const second = await openEventStream(server.url, '/api/sandboxes/web/logs/stream', {
    headers: { 'last-event-id': lastId },
  });
  t.after(() => second.close());
  await second.waitForEvents(55);
  writeMany(writer, 100, 150);
  await second.waitForEvents(105);
  assert.ok(
    writer.rotations - rotationsBefore >= 2,
    `expected rotations while disconnected and after, got ${writer.rotations}`,
  );
  assert.deepEqual([...bodies(first.events), ...bodies(second.events)], range(0, 150));
});

test('Last-Event-ID wins over after, since and tail in the URL (an EventSource reconnects with its first URL)', async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir);
  t.after(() => writer.close());
  writeMany(writer, 0, 10);
  const server = await startServer({ home, port: 0 });
  t.after(() => server.close());
  const all = (await request(server.url, '/api/sandboxes/web/logs')).json.entries;
  const stream = await openEventStream(
    server.url,
    `/api/sandboxes/web/logs/stream?tail=2&since=1h&after=${encodeURIComponent(all[1].cursor)}`,
    {
      headers: { 'last-event-id': all[6].cursor },
    },
  );
  t.after(() => stream.close());
  await stream.waitForEvents(3);
  assert.deepEqual(bodies(stream.events), range(7, 10));
  const byAfter = await openEventStream(
    server.url,
    `/api/sandboxes/web/logs/stream?after=${encodeURIComponent(all[7].cursor)}`,
  );
  t.after(() => byAfter.close());
  await byAfter.waitForEvents(2);
  assert.deepEqual(bodies(byAfter.events), range(8, 10));
  const byTail = await openEventStream(server.url, '/api/sandboxes/web/logs/stream?tail=1');
  t.after(() => byTail.close());
  await byTail.waitForEvents(1);
  assert.deepEqual(bodies(byTail.events), range(9, 10));
});

test('with every source, a resumed stream continues each file exactly (a cursor of three positions)', async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir);
  const runtime = new TextLogWriter(logDir);
  t.after(() => {
    writer.close();
    runtime.close();
  });
  writer.write('stdout', 'exec 0\n', 1);
  writer.flush();
  runtime.append('runtime 0');
  const server = await startServer({ home, port: 0 });
  t.after(() => server.close());
  const first = await openEventStream(server.url, '/api/sandboxes/web/logs/stream?source=all');
  await first.waitForEvents(2);
  first.close();
  writer.write('stdout', 'exec 1\n', 1);
  writer.flush();
  runtime.append('runtime 1');
  const second = await openEventStream(server.url, '/api/sandboxes/web/logs/stream?source=all', {
    headers: { 'last-event-id': first.events.at(-1).id },
  });
  t.after(() => second.close());
  await second.waitForEvents(2);
  const seen = [...bodies(first.events), ...bodies(second.events)].sort();
  assert.deepEqual(seen, ['exec 0\n', 'exec 1\n', 'runtime 0\n', 'runtime 1\n']);
  assert.equal(Buffer.from(second.events[0].id, 'base64')[0], 3);
});

test('source and grep filter the stream', async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir);
  t.after(() => writer.close());
  writer.write('stdout', 'out apple\n', 1);
  writer.write('stderr', 'err apple\n', 1);
  writer.write('stderr', 'err pear\n', 1);
  writer.flush();
  const server = await startServer({ home, port: 0 });
  t.after(() => server.close());
  const stream = await openEventStream(server.url, '/api/sandboxes/web/logs/stream?source=stderr&grep=apple');
  t.after(() => stream.close());
  writer.write('stderr', 'err apple again\n', 1);
  writer.write('stdout', 'out apple again\n', 1);
  writer.flush();
  await stream.waitForEvents(2);
  assert.deepEqual(bodies(stream.events), ['err apple\n', 'err apple again\n']);
});

// A server over a sandbox, and the cursor of an entry whose file has since rotated out of retention.
async function serverWithLostCursor(t) {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir, { maxBytes: 300, maxFiles: 1 });
  t.after(() => writer.close());
  writeMany(writer, 0, 2);
  const server = await startServer({ home, port: 0 });
  t.after(() => server.close());
  const early = (await request(server.url, '/api/sandboxes/web/logs')).json.entries[0].cursor;
  // Enough to push the file holding `early` out of retention.
  writeMany(writer, 2, 40);
  return { server, early };
}

test('a cursor that cannot be used becomes a named error event, then the stream ends', async (t) => {
  const { server, early } = await serverWithLostCursor(t);
  for (const headers of [{ 'last-event-id': early }, { 'last-event-id': 'garbage!' }, {}]) {
    const path =
      headers['last-event-id'] === undefined
        ? '/api/sandboxes/web/logs/stream?after=AQ%3D%3D'
        : '/api/sandboxes/web/logs/stream';
    const stream = await openEventStream(server.url, path, { headers });
    t.after(() => stream.close());
    assert.equal(stream.status, 200);
    await stream.waitForEnd();
    assert.equal(stream.events.length, 1, stream.body);
    assert.equal(stream.events[0].event, 'error');
    const payload = JSON.parse(stream.events[0].data);
    assert.equal(payload.error, 'INVALID_CURSOR');
    assert.equal(typeof payload.message, 'string');
  }
});

test('a client that is not an EventSource gets 400 for an unusable cursor on the stream route, before any stream', async (t) => {
  const { server, early } = await serverWithLostCursor(t);
  for (const headers of [{ 'last-event-id': early }, { 'last-event-id': 'garbage!' }]) {
    const response = await request(server.url, '/api/sandboxes/web/logs/stream', { headers });
    assert.equal(response.status, 400);
    assert.equal(response.json.error, 'INVALID_CURSOR');
    assert.match(response.json.message, /invalid cursor/);
  }
});

test('a quiet stream sends comment heartbeats', async (t) => {
  const { home } = tempSandbox(t, 'web');
  const server = await startServer({ home, port: 0, heartbeatMs: 30 });
  t.after(() => server.close());
  const stream = await openEventStream(server.url, '/api/sandboxes/web/logs/stream');
  t.after(() => stream.close());
  await stream.waitFor((client) => client.comments >= 3, { what: 'three heartbeats' });
  assert.equal(stream.events.length, 0);
});

test('many clients of one sandbox share one directory watcher, released when they leave', async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir);
  t.after(() => writer.close());
  const server = await startServer({ home, port: 0 });
  t.after(() => server.close());
  const before = watchedDirectoryCount();
  const clients = await Promise.all(
    Array.from({ length: 20 }, () => openEventStream(server.url, '/api/sandboxes/web/logs/stream')),
  );
  t.after(() =>
    clients.forEach((client) => {
      client.close();
    }),
  );
  await waitFor(() => server.app.activeStreams === 20, { what: '20 live streams' });
  writeMany(writer, 0, 5);
  await Promise.all(clients.map((client) => client.waitForEvents(5)));
  assert.equal(watchedDirectoryCount() - before, 1);
  for (const client of clients) assert.deepEqual(bodies(client.events), range(0, 5));
  clients.forEach((client) => {
    client.close();
  });
  await waitFor(() => server.app.activeStreams === 0 && watchedDirectoryCount() === before, {
    what: 'streams and watcher released',
  });
});

test('the stream ends with an `end` event when the sandbox goes away', async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir);
  writeMany(writer, 0, 1);
  writer.close();
  const server = await startServer({ home, port: 0 });
  t.after(() => server.close());
  const stream = await openEventStream(server.url, '/api/sandboxes/web/logs/stream');
  t.after(() => stream.close());
  await stream.waitForEvents(1);
  const { rmSync } = await import('node:fs');
  rmSync(join(home, 'sandboxes', 'web'), { recursive: true, force: true });
  await stream.waitForEnd(DEADLINE_MS);
  assert.equal(stream.events.at(-1).event, 'end');
});

test('closing the server ends live streams (clients reconnect elsewhere) and frees them', async (t) => {
  const { home } = tempSandbox(t, 'web');
  const server = await startServer({ home, port: 0 });
  const streams = await Promise.all([1, 2, 3].map(() => openEventStream(server.url, '/api/sandboxes/web/logs/stream')));
  await waitFor(() => server.app.activeStreams === 3, { what: 'three live streams' });
  await server.close();
  await Promise.all(streams.map((stream) => stream.waitForEnd()));
  assert.equal(server.app.activeStreams, 0);
  for (const stream of streams) assert.equal(stream.events.length, 0);
});
