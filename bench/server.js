// Scenario 9 (second half): the server's limits. What clients that stopped
// reading cost — the server's RSS and live memory (after a forced GC) with 1,
// 100 and 512 (the default --max-streams) stalled SSE clients of the bench
// chain — whether the 513th stream gets 503 + Retry-After, and how soon a
// stall timeout of 2 s frees 100 stalled streams. The entries/s to 1 and 100
// clients are measured by bench/server-sse.js.
//
//   npm run build && node bench/server.js
//
// The server is `startServer` in a child process that measures itself
// (test/server/fixtures/serve-measured.js, the one the memory test uses); a
// client is stalled once the server sees its socket full (a write refused,
// no `drain`). The bound checked is the README's: idle RSS + 64 MiB + 2 MiB
// per stalled stream.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { MIB, ROOT, TINY, fmt, report, sleep, waitFor } from './lib/common.js';
import { dataset } from './lib/data.js';

const FIXED_BOUND_BYTES = 64 * MIB;
const PER_STREAM_BOUND_BYTES = 2 * MIB;
const MAX_STREAMS = 512;
const STALL_TIMEOUT_MS = 2000;
const FIXTURE = join(ROOT, 'test', 'server', 'fixtures', 'serve-measured.js');

const data = dataset();
const path = `/api/sandboxes/${data.name}/logs/stream`;

/** The measured server: { child, port, memory() } (memory after a forced GC, plus stream and socket counts). */
async function startMeasured(options) {
  const child = spawn(process.execPath, ['--expose-gc', FIXTURE, data.home, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdout.setEncoding('utf8');
  const lines = [];
  let buffered = '';
  child.stdout.on('data', (text) => {
    buffered += text;
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      lines.push(buffered.slice(0, at));
      buffered = buffered.slice(at + 1);
    }
  });
  const nextLine = async () => {
    await waitFor(() => lines.length > 0, 60_000, 'a line from the measured server');
    return lines.shift();
  };
  const port = Number(new URL(await nextLine()).port);
  return {
    child,
    port,
    async memory() {
      child.stdin.write('measure\n');
      return JSON.parse(await nextLine());
    },
  };
}

function stalledClient(port) {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`);
  socket.once('data', () => socket.pause());
  return socket;
}

/**
 * Waits until the server sees `count` full sockets, or until the number stops
 * growing for 10 s (on a loaded machine the last catch-ups can take minutes;
 * the row then says how many were full). A tiny log cannot fill a socket:
 * then it waits for the streams to be open.
 */
async function settle(server, count) {
  let best = -1;
  let still = 0;
  // Each look forces a GC in the server: look once a second, not in a tight loop.
  for (;;) {
    const memory = await server.memory();
    if (TINY ? memory.activeStreams >= count : memory.fullSockets >= count) return memory;
    if (memory.fullSockets > best) {
      best = memory.fullSockets;
      still = 0;
    } else if (++still >= 10 && !TINY) {
      return memory;
    }
    await sleep(1000);
  }
}

function status(port) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] });
    });
    req.on('error', reject);
    req.end();
  });
}

const rows = [];
const bars = [];
const row = (name, value, unit, note) => rows.push({ name, value, unit, ...(note === undefined ? {} : { note }) });

// Memory: stalled clients added in steps up to the maximum; no stall timeout, so none is cut while measuring.
const steps = TINY ? [1, 5] : [1, 100, MAX_STREAMS];
const server = await startMeasured({ stallTimeoutMs: 0, maxStreams: steps.at(-1) });
const sockets = [];
try {
  const idle = await server.memory();
  row('server RSS idle (after GC)', fmt(idle.rss / MIB), 'MiB');
  for (const count of steps) {
    while (sockets.length < count) sockets.push(stalledClient(server.port));
    const memory = await settle(server, count);
    process.stderr.write(`${count} stalled: RSS ${fmt(memory.rss / MIB)} MiB\n`);
    const bound = idle.rss + FIXED_BOUND_BYTES + count * PER_STREAM_BOUND_BYTES;
    row(
      `${count} stalled client(s) (${memory.fullSockets} sockets full): RSS / live heap+external`,
      `${fmt(memory.rss / MIB)} / ${fmt((memory.heapUsed + memory.external) / MIB)}`,
      'MiB',
      `${fmt((memory.rss - idle.rss) / MIB / count, 2)} MiB RSS per stalled stream; bound ${fmt(bound / MIB)} MiB`,
    );
    bars.push({
      bar: `RSS with ${count} stalled clients < idle + 64 MiB + 2 MiB each`,
      measured: `${fmt(memory.rss / MIB)} MiB of ${fmt(bound / MIB)}`,
      met: memory.rss < bound,
    });
  }
  const beyond = await status(server.port);
  row(
    `stream ${steps.at(-1) + 1} (beyond --max-streams ${steps.at(-1)})`,
    beyond.status,
    '',
    `Retry-After: ${beyond.retryAfter}`,
  );
  bars.push({
    bar: `stream ${steps.at(-1) + 1} gets 503 + Retry-After`,
    measured: `${beyond.status}, Retry-After ${beyond.retryAfter}`,
    met: beyond.status === 503 && beyond.retryAfter !== undefined,
  });
} finally {
  sockets.forEach((socket) => {
    socket.destroy();
  });
  server.child.kill('SIGKILL');
}

// The stall timeout: 100 stalled clients, cut off by the server (not at the tiny size: its log cannot fill a socket).
async function stallCutOff(count) {
  const server = await startMeasured({ stallTimeoutMs: STALL_TIMEOUT_MS });
  const clients = [];
  try {
    const idle = await server.memory();
    const started = performance.now();
    for (let i = 0; i < count; i++) clients.push(stalledClient(server.port));
    // Each stream first fills its socket, then is cut STALL_TIMEOUT_MS later: wait for all to have connected,
    // then for all to be closed. (On a slow machine the first are cut before the last connect: the server
    // need not see all of them at once.)
    let connected = 0;
    for (const socket of clients) socket.once('connect', () => (connected += 1));
    let peak = { rss: 0 };
    let most = 0;
    for (;;) {
      const memory = await server.memory();
      if (memory.rss > peak.rss) peak = memory;
      most = Math.max(most, memory.connections);
      // Connected is the client's side: the server may not have accepted them yet, so it must have seen some.
      if (connected === count && most > 0 && memory.connections === 0) break;
      if (performance.now() - started > 240_000)
        throw new Error(`${memory.connections} of ${count} stalled connections still open after 240 s`);
      await sleep(250);
    }
    const closedMs = performance.now() - started;
    const after = await server.memory();
    row(
      `${count} stalled clients, --stall-timeout ${STALL_TIMEOUT_MS / 1000}s: all closed`,
      fmt(closedMs / 1000, 1),
      's after connecting',
      `${most} open at once at most; live heap+external peak ${fmt((peak.heapUsed + peak.external) / MIB)} → ${fmt((after.heapUsed + after.external) / MIB)} MiB after (idle ${fmt((idle.heapUsed + idle.external) / MIB)}); RSS peak ${fmt(peak.rss / MIB)} → ${fmt(after.rss / MIB)} MiB`,
    );
  } finally {
    clients.forEach((socket) => {
      socket.destroy();
    });
    server.child.kill('SIGKILL');
  }
}
if (!TINY) await stallCutOff(100);

report({
  scenario: 'server',
  title: 'Server limits: memory with stalled SSE clients, --max-streams, --stall-timeout',
  available: true,
  rows,
  bars,
  notes: [
    `clients read the first bytes of a stream of the bench chain (${fmt(data.chainBytes / MIB)} MiB exec.log chain + runtime.log) and then nothing; RSS and live memory are the server's own after a forced GC, once it sees every socket full`,
    'kernel socket buffers are not in the RSS: up to net.ipv4.tcp_wmem[2] per connection, machine-wide net.ipv4.tcp_mem',
  ],
});
