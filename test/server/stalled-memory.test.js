// The memory bound for stalled clients (README, `sandlog serve`, "Limits"):
// with clients that stopped reading, the server's RSS stays under its idle
// RSS + 64 MiB + 2 MiB per stalled stream. The server runs in a child process
// that measures itself after a forced GC; 100 clients each read the start of
// a 16 MiB log, then stop, and the measurement is taken once the server has
// seen every one of their sockets fill up. The bound is generous (about 1.5
// MiB per stalled stream is typical, see bench/server.js for the numbers):
// it holds whatever the machine's load, since it is about what is kept, not
// how fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { ExecLogWriter } from '../../dist/index.js';
import { tempSandbox, waitFor } from '../helpers.js';
import { exited, startMeasuredServer } from './http.js';

const MiB = 1024 * 1024;
const CLIENTS = 100;
const FIXED_BYTES = 64 * MiB;
const PER_STALLED_STREAM_BYTES = 2 * MiB;

/** A raw stream request whose socket reads its first bytes, then nothing more. */
function stalledClient(port) {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(
    `GET /api/sandboxes/big/logs/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`,
  );
  socket.once('data', () => socket.pause());
  return socket;
}

test(`server RSS with ${CLIENTS} stalled clients stays under the documented bound`, { timeout: 300_000 }, async (t) => {
  const { home, logDir } = tempSandbox(t, 'big');
  const writer = new ExecLogWriter(logDir, { maxBytes: 64 * MiB });
  const body = `${'x'.repeat(1000)}\n`;
  for (let i = 0; i < (16 * MiB) / body.length; i++) writer.write('stdout', body, 1);
  writer.close();

  // No stall timeout: the clients must still be connected when measured, however slow the machine.
  const server = await startMeasuredServer(home, { stallTimeoutMs: 0 });
  t.after(() => server.child.kill('SIGKILL'));
  const idle = await server.memory();

  const sockets = Array.from({ length: CLIENTS }, () => stalledClient(server.port));
  t.after(() =>
    sockets.forEach((socket) => {
      socket.destroy();
    }),
  );
  const stalled = await waitFor(
    async () => {
      const memory = await server.memory();
      return memory.fullSockets === CLIENTS ? memory : undefined;
    },
    { timeoutMs: 240_000, intervalMs: 500, what: `all ${CLIENTS} sockets to fill up` },
  );
  const bound = idle.rss + FIXED_BYTES + CLIENTS * PER_STALLED_STREAM_BYTES;
  t.diagnostic(
    `RSS idle ${(idle.rss / MiB).toFixed(1)} MiB, with ${CLIENTS} stalled clients ${(stalled.rss / MiB).toFixed(1)} MiB ` +
      `(bound ${(bound / MiB).toFixed(1)} MiB); live heap + external ${(idle.live / MiB).toFixed(1)} → ${(stalled.live / MiB).toFixed(1)} MiB`,
  );
  assert.equal(stalled.activeStreams, CLIENTS);
  assert.ok(
    stalled.rss < bound,
    `RSS ${(stalled.rss / MiB).toFixed(1)} MiB is over the bound of ${(bound / MiB).toFixed(1)} MiB`,
  );

  server.child.kill('SIGTERM');
  assert.deepEqual(await exited(server.child, 60_000), { code: 0, signal: null });
});
