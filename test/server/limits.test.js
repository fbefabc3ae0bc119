// The stream limits: beyond `maxStreams` the stream route answers 503 with
// Retry-After (also at the default of 512, with 512 real streams open), a
// freed slot is taken again, and a client that stops reading is cut off after
// the stall timeout (a stream's client then resumes exactly with
// Last-Event-ID; a snapshot's sees a truncated body).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { startServer, ExecLogWriter } from '../../dist/index.js';
import { runCli, tempSandbox, waitFor } from '../helpers.js';
import { entriesOf, exited, openEventStream, request, startServeProcess } from './http.js';

const STREAM = '/api/sandboxes/web/logs/stream';

function writeMany(writer, from, to, body = (i) => `line ${i}\n`) {
  for (let i = from; i < to; i++) writer.write('stdout', body(i), 1);
  writer.flush();
}

/** Opens streams one after another (each answered before the next is asked for). */
async function openStreams(t, url, count) {
  const streams = [];
  t.after(() =>
    streams.forEach((stream) => {
      stream.close();
    }),
  );
  for (let i = 0; i < count; i++) {
    const stream = await openEventStream(url, STREAM, { timeoutMs: 30_000 });
    streams.push(stream);
    assert.equal(stream.status, 200, `stream ${i + 1}`);
  }
  return streams;
}

function assertTooManyStreams(response, max) {
  assert.equal(response.status, 503);
  assert.match(response.headers['retry-after'], /^[1-9]\d*$/);
  assert.match(response.headers['content-type'], /^application\/json/);
  assert.equal(response.json.error, 'TOO_MANY_STREAMS');
  assert.match(response.json.message, new RegExp(`maximum of ${max} event streams`));
}

test('a stream beyond maxStreams gets 503 with Retry-After and a JSON body; other routes still answer; a freed slot is taken again', async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir);
  t.after(() => writer.close());
  writeMany(writer, 0, 3);
  const errors = [];
  const server = await startServer({ home, port: 0, maxStreams: 3, onError: (error) => errors.push(error) });
  t.after(() => server.close());
  const streams = await openStreams(t, server.url, 3);
  await Promise.all(streams.map((stream) => stream.waitForEvents(3)));

  assertTooManyStreams(await request(server.url, STREAM), 3);
  // An EventSource gets the status too (a browser then retries on its own schedule; the viewer backs off).
  assertTooManyStreams(
    await request(server.url, STREAM, {
      headers: { accept: 'text/event-stream', 'last-event-id': streams[0].events[0].id },
    }),
    3,
  );
  assert.equal((await request(server.url, '/api/sandboxes/web/logs')).status, 200);
  assert.equal((await request(server.url, '/api/sandboxes')).status, 200);
  // The streams that were let in go on.
  writeMany(writer, 3, 5);
  await Promise.all(streams.map((stream) => stream.waitForEvents(5)));

  streams[0].close();
  // The slot is free once the server has seen the client leave: try until it is.
  const again = await waitFor(
    async () => {
      const stream = await openEventStream(server.url, STREAM);
      if (stream.status === 200) return stream;
      stream.close();
      return undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50, what: 'a stream slot to come free' },
  );
  t.after(() => again.close());
  assert.deepEqual(
    entriesOf(await again.waitForEvents(5)).map((entry) => entry.d),
    ['line 0\n', 'line 1\n', 'line 2\n', 'line 3\n', 'line 4\n'],
  );
  assertTooManyStreams(await request(server.url, STREAM), 3);
  // Refusing a stream is the server working as configured: nothing is logged as an unexpected error.
  assert.deepEqual(errors, []);
});

test('at the default maximum the 513th concurrent stream gets 503 + Retry-After', { timeout: 240_000 }, async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir);
  t.after(() => writer.close());
  writeMany(writer, 0, 1);
  const server = await startServer({ home, port: 0 });
  t.after(() => server.close());
  const streams = await openStreams(t, server.url, 512);
  assert.equal(server.app.activeStreams, 512);
  assertTooManyStreams(await request(server.url, STREAM), 512);
  // Every admitted stream is live: a new entry reaches all 512.
  writeMany(writer, 1, 2);
  await Promise.all(streams.map((stream) => stream.waitForEvents(2, 120_000)));
});

test('bad limits are refused: OptionsError in the library, exit 2 from serve', async (t) => {
  const { home } = tempSandbox(t);
  for (const options of [
    { maxStreams: 0 },
    { maxStreams: 1.5 },
    { maxStreams: '3' },
    { stallTimeoutMs: -1 },
    { headersTimeoutMs: 0 },
    { headersTimeoutMs: 5000, requestTimeoutMs: 1000 },
    { maxHeaderBytes: 10 },
  ]) {
    await assert.rejects(
      startServer({ home, port: 0, ...options }),
      { code: 'INVALID_OPTIONS' },
      JSON.stringify(options),
    );
  }
  for (const args of [
    ['--max-streams', '0'],
    ['--max-streams', 'many'],
    ['--stall-timeout', 'soon'],
    ['--stall-timeout=-5s'],
    ['--stall-timeout', '1.5s'],
    ['--headers-timeout', '0'],
  ]) {
    const result = await runCli(['serve', '--port', '0', '--home', home, ...args]);
    assert.equal(result.code, 2, args.join(' '));
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr.split('\n')[0],
      new RegExp(`^sandlog: Expected --${args[0].slice(2).split('=')[0]} `),
      args.join(' '),
    );
  }
});

test('serve --max-streams 1 answers a second stream 503', async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir);
  writeMany(writer, 0, 1);
  writer.close();
  const server = await startServeProcess([
    '--port',
    '0',
    '--home',
    home,
    '--max-streams',
    '1',
    '--stall-timeout',
    '90s',
    '--headers-timeout',
    '5s',
  ]);
  t.after(() => server.child.kill('SIGKILL'));
  const stream = await openEventStream(server.url, STREAM);
  t.after(() => stream.close());
  assert.equal(stream.status, 200);
  assertTooManyStreams(await request(server.url, STREAM), 1);
  server.child.kill('SIGTERM');
  assert.deepEqual(await exited(server.child), { code: 0, signal: null });
});

test('a client that stops reading is cut off after the stall timeout and resumes exactly with Last-Event-ID', {
  timeout: 180_000,
}, async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir, { maxBytes: 64 * 1024 * 1024 });
  t.after(() => writer.close());
  // Far more than the socket buffers of loopback hold, so that the server's writes must wait for the client.
  const count = 12_000;
  const padding = 'x'.repeat(1000);
  writeMany(writer, 0, count, (i) => `line ${i} ${padding}\n`);
  const server = await startServer({ home, port: 0, stallTimeoutMs: 300 });
  t.after(() => server.close());

  const first = await openEventStream(server.url, STREAM);
  t.after(() => first.close());
  await first.waitForEvents(1);
  first.pause();
  await waitFor(() => server.app.activeStreams === 0, {
    timeoutMs: 60_000,
    what: 'the server to close the stalled stream',
  });
  // What reached the client before the cut is still readable; the stream then ends, with no `end` event.
  first.resume();
  await first.waitForEnd(60_000);
  const received = entriesOf(first.events);
  assert.ok(received.length < count, `the stalled client got all ${count} entries: nothing was cut`);
  assert.equal(first.events.filter((event) => event.event !== 'message').length, 0);

  // Reconnect as an EventSource does, until everything has arrived (a reconnect may itself be cut if this
  // process is too busy to read for 300 ms: resuming again is the contract being tested).
  let lastId = first.events.at(-1).id;
  let reconnects = 0;
  while (received.length < count) {
    reconnects += 1;
    assert.ok(reconnects <= 50, `${reconnects} reconnects without getting everything`);
    const next = await openEventStream(server.url, STREAM, { headers: { 'last-event-id': lastId } });
    try {
      assert.equal(next.status, 200);
      const missing = count - received.length;
      await next.waitFor((client) => client.ended || client.events.length >= missing, {
        timeoutMs: 120_000,
        what: `${missing} more entries`,
      });
    } finally {
      next.close();
    }
    received.push(...entriesOf(next.events));
    if (next.events.length > 0) lastId = next.events.at(-1).id;
  }
  t.diagnostic(`first stream cut after ${first.events.length} of ${count} entries; ${reconnects} reconnect(s)`);
  assert.equal(received.length, count);
  received.forEach((entry, i) => {
    assert.equal(entry.d, `line ${i} ${padding}\n`);
  });
});

test('a snapshot whose client stops reading is cut off after the stall timeout too', {
  timeout: 180_000,
}, async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir, { maxBytes: 64 * 1024 * 1024 });
  t.after(() => writer.close());
  const padding = 'x'.repeat(1000);
  writeMany(writer, 0, 12_000, (i) => `line ${i} ${padding}\n`);
  const server = await startServer({ home, port: 0, stallTimeoutMs: 300 });
  t.after(() => server.close());
  const connections = () =>
    new Promise((resolve, reject) =>
      server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );

  const url = new URL(server.url);
  const req = httpRequest({ host: url.hostname, port: url.port, path: '/api/sandboxes/web/logs', agent: false });
  t.after(() => req.destroy());
  const response = await new Promise((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
  assert.equal(response.statusCode, 200);
  response.pause();
  await waitFor(async () => (await connections()) === 0, {
    timeoutMs: 60_000,
    what: 'the server to close the stalled snapshot',
  });
  // Reading again gets what was on its way, then the cut: a truncated body, never a complete answer.
  let body = '';
  response.setEncoding('utf8');
  response.on('data', (text) => (body += text));
  response.resume();
  await new Promise((resolve) => response.once('close', resolve));
  assert.equal(response.complete, false);
  assert.ok(body.startsWith('{"entries":['));
  assert.throws(() => JSON.parse(body));
});
