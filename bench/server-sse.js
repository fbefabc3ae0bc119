// SSE throughput and fan-out of `sandlog serve` on loopback.
//
//   npm run build && node bench/server-sse.js
//   ENTRIES=200000 CLIENTS=1,10,100 node bench/server-sse.js
//
// The server is a real `sandlog serve` child process; the clients are raw
// HTTP requests from this process. Scenarios:
// - catch-up: N entries already on disk, every client streams from the start;
// - live: every client is connected and idle, then a writer appends N entries
//   as fast as it can;
// - reference: the same N entries as one JSON snapshot (GET …/logs) to one client
//   (run after the catch-up rounds, so that both are measured warm).
// A client is done when it sees the last entry's marker; the rate is
// entries × clients / time until the last client is done.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExecLogWriter } from '../dist/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRIES = Number(process.env.ENTRIES ?? 100_000);
const CLIENTS = (process.env.CLIENTS ?? '1,100').split(',').map(Number);
const BODY = 'GET /api/items?page=3 200 12ms user=alice trace=4bf92f3577b34da6a3ce929d0e0e4736\n';

function startServer(home) {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.cjs'), 'serve', '--port', '0', '--home', home], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /^(http:\S+)\n/.exec(out);
      if (match) resolve({ child, url: new URL(match[1]) });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

/** Opens a request; resolves when `marker` has been seen in the body (the response may stay open). */
function readUntil(url, path, marker, onOpen) {
  const needle = Buffer.from(marker);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, agent: false }, (res) => {
      onOpen?.();
      let tail = Buffer.alloc(0);
      let bytes = 0;
      res.on('data', (chunk) => {
        bytes += chunk.length;
        // Only the seam between chunks is copied: the client should cost as little as possible.
        const seam = Buffer.concat([tail, chunk.subarray(0, needle.length)]);
        if (chunk.indexOf(needle) >= 0 || seam.indexOf(needle) >= 0) {
          resolve({ bytes, close: () => req.destroy() });
          return;
        }
        tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - needle.length)));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function writeEntries(logDir, count, marker) {
  const writer = new ExecLogWriter(logDir);
  for (let i = 0; i < count - 1; i++) {
    writer.write('stdout', BODY, 1 + (i % 4));
    if (i % 10_000 === 9_999) writer.flush();
  }
  writer.write('stdout', `${marker}\n`, 1);
  writer.close();
}

/** CPU time (user + system) the server process has used, in ms (Linux /proc). */
function serverCpuMs(child) {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function rate(entries, ms) {
  return Math.round((entries / ms) * 1000);
}

async function catchUp(server, name, marker, clients) {
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: clients }, () => readUntil(server.url, `/api/sandboxes/${name}/logs/stream`, marker)),
  );
  const ms = performance.now() - started;
  results.forEach((result) => {
    result.close();
  });
  return { ms, bytes: results.reduce((sum, result) => sum + result.bytes, 0) };
}

async function live(server, home, clients, index) {
  const name = `live-${clients}-${index}`;
  const logDir = join(home, 'sandboxes', name, 'logs');
  mkdirSync(logDir, { recursive: true });
  const marker = `LIVE-MARKER-${clients}-${index}`;
  let open = 0;
  let allOpen;
  const opened = new Promise((resolve) => (allOpen = resolve));
  const readers = Array.from({ length: clients }, () =>
    readUntil(server.url, `/api/sandboxes/${name}/logs/stream`, marker, () => {
      open += 1;
      if (open === clients) allOpen();
    }),
  );
  await opened;
  const started = performance.now();
  writeEntries(logDir, ENTRIES, marker);
  const writtenMs = performance.now() - started;
  const results = await Promise.all(readers);
  const ms = performance.now() - started;
  results.forEach((result) => {
    result.close();
  });
  return { ms, writtenMs };
}

const home = mkdtempSync(join(tmpdir(), 'sandlog-bench-sse-'));
try {
  const logDir = join(home, 'sandboxes', 'bench', 'logs');
  mkdirSync(logDir, { recursive: true });
  const marker = 'CATCH-UP-MARKER';
  writeEntries(logDir, ENTRIES, marker);
  const server = await startServer(home);
  console.log(
    `sandlog serve SSE benchmark — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${ENTRIES} entries of ${BODY.length} bytes`,
  );
  console.log('');
  console.log(
    'scenario                   clients   entries/s (all clients)   per client   wall ms   server CPU µs/entry/client',
  );
  const row = (label, clients, ms, cpuMs) =>
    console.log(
      `${label.padEnd(25)}${String(clients).padStart(8)}   ${String(rate(ENTRIES * clients, ms)).padStart(23)}   ${String(rate(ENTRIES, ms)).padStart(10)}   ${ms
        .toFixed(0)
        .padStart(7)}   ${((cpuMs * 1000) / (ENTRIES * clients)).toFixed(2).padStart(10)}`,
    );
  const measure = async (run) => {
    const cpuBefore = serverCpuMs(server.child);
    const result = await run();
    return { ...result, cpuMs: serverCpuMs(server.child) - cpuBefore };
  };

  // Warm-up (not reported): the first pass pays for compilation and the page cache.
  await catchUp(server, 'bench', marker, 1);
  for (const clients of CLIENTS) {
    const { ms, cpuMs } = await measure(() => catchUp(server, 'bench', marker, clients));
    row('SSE catch-up', clients, ms, cpuMs);
  }
  const snapshot = await measure(async () => {
    const started = performance.now();
    const result = await readUntil(server.url, '/api/sandboxes/bench/logs', marker);
    result.close();
    return { ms: performance.now() - started };
  });
  row('snapshot JSON (reference)', 1, snapshot.ms, snapshot.cpuMs);
  for (const [index, clients] of CLIENTS.entries()) {
    const { ms, writtenMs, cpuMs } = await measure(() => live(server, home, clients, index));
    row(`SSE live (writer ${Math.round(rate(ENTRIES, writtenMs) / 1000)}k/s)`, clients, ms, cpuMs);
  }
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));
} finally {
  rmSync(home, { recursive: true, force: true });
}
