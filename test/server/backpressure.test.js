// A client that stops reading must not make the server buffer the log: the
// server stops pulling entries while the socket is full. The server runs in a
// child process that reports its live memory (after a forced GC, so garbage
// does not count); the measurement is taken once a second, reading client has
// received the whole log — by then a server without backpressure would be
// holding all of it for the stalled client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { ExecLogWriter } from '../../dist/index.js';
import { DEADLINE_MS, tempSandbox, withTimeout } from '../helpers.js';
import { exited, startMeasuredServer } from './http.js';

const MiB = 1024 * 1024;
const LOG_BYTES = 64 * MiB;
// Generous: an engine batch, a write chunk and the socket's buffers — far below the log's size.
const GROWTH_LIMIT_BYTES = 32 * MiB;
const MARKER = 'END-OF-THE-LOG-MARKER';

/** Sends a raw stream request; returns the socket. */
function rawStream(port, name) {
  const socket = connect(port, '127.0.0.1');
  socket.write(
    `GET /api/sandboxes/${name}/logs/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`,
  );
  return socket;
}

function readUntilMarker(socket) {
  let bytes = 0;
  let tail = '';
  return new Promise((resolve) => {
    socket.on('data', (chunk) => {
      bytes += chunk.length;
      const text = tail + chunk.toString('latin1');
      if (text.includes(MARKER)) resolve(bytes);
      tail = text.slice(-MARKER.length);
    });
  });
}

test("a stalled client does not grow the server's memory with the log", { timeout: 120_000 }, async (t) => {
  const { home, logDir } = tempSandbox(t, 'big');
  const writer = new ExecLogWriter(logDir, { maxBytes: 16 * MiB });
  const body = `${'x'.repeat(1000)}\n`;
  const records = Math.ceil(LOG_BYTES / (body.length + 60));
  for (let i = 0; i < records; i++) writer.write('stdout', body, 1);
  writer.write('stdout', `${MARKER}\n`, 1);
  writer.close();

  // No stall timeout: the stalled client must still be there when the reader is done, however long that takes.
  const server = await startMeasuredServer(home, { stallTimeoutMs: 0 });
  t.after(() => server.child.kill('SIGKILL'));
  const before = await server.memory();

  const stalled = rawStream(server.port, 'big');
  t.after(() => stalled.destroy());
  await withTimeout(
    new Promise((resolve) =>
      stalled.once('data', () => {
        // From here on it reads nothing: the kernel's buffers fill and the server's writes report a full socket.
        stalled.pause();
        resolve();
      }),
    ),
    DEADLINE_MS,
    'the first bytes of the stalled stream',
  );

  const reader = rawStream(server.port, 'big');
  t.after(() => reader.destroy());
  const readerBytes = await withTimeout(readUntilMarker(reader), 90_000, 'the reading client getting the whole log');
  reader.destroy();
  // Measured once the server has let go of the reader's stream: what remains is what the stalled client costs.
  let after = await server.memory();
  const deadline = Date.now() + DEADLINE_MS;
  while (after.activeStreams > 1) {
    if (Date.now() > deadline)
      throw new Error(`the server did not notice the reader leave within ${DEADLINE_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    after = await server.memory();
  }
  assert.equal(after.activeStreams, 1);
  const growth = after.live - before.live;
  t.diagnostic(
    `server live memory ${(before.live / MiB).toFixed(1)} → ${(after.live / MiB).toFixed(1)} MiB, ` +
      `RSS ${(before.rss / MiB).toFixed(1)} → ${(after.rss / MiB).toFixed(1)} MiB; the log is ${(readerBytes / MiB).toFixed(0)} MiB as events`,
  );
  assert.ok(readerBytes > LOG_BYTES, `the reader got ${readerBytes} bytes`);
  assert.ok(
    growth < GROWTH_LIMIT_BYTES,
    `server memory grew by ${(growth / MiB).toFixed(1)} MiB while a client was stalled`,
  );

  // The stalled stream is intact: reading again resumes it.
  const more = new Promise((resolve) => stalled.once('data', resolve));
  stalled.resume();
  await withTimeout(more, DEADLINE_MS, 'the stalled client getting data after resuming');

  server.child.kill('SIGTERM');
  assert.deepEqual(await exited(server.child), { code: 0, signal: null });
});
