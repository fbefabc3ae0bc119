// Scenario 9 (second half): the server's RSS while one SSE client has stopped
// reading a 10 MiB log. The entries/s to 1 and 100 clients are measured by
// bench/server-sse.js (the server's own benchmark, run by the runner too).
// Needs `sandlog serve`: until the CLI has it, the scenario reports "not
// available".
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, MIB, cliHasCommand, fmt, report, sized, sleep, waitFor } from './lib/common.js';
import { dataset } from './lib/data.js';

const TITLE = 'Server: RSS with one stalled SSE client';
if (!cliHasCommand('serve')) {
  report({
    scenario: 'server',
    title: TITLE,
    available: false,
    rows: [{ name: '`sandlog serve`', value: 'not available', unit: '' }],
    bars: [{ bar: 'server RSS with one stalled client (measured, no numeric bar)', measured: 'not available (`sandlog serve --help` fails in this build)', met: null }],
  });
  process.exit(0);
}

const data = dataset();

// A sandbox holding the newest 10 MiB file of the chain.
const home = mkdtempSync(join(tmpdir(), 'sandlog-bench-server-'));
const logDir = join(home, 'sandboxes', 'one', 'logs');
mkdirSync(logDir, { recursive: true });
const log = readFileSync(data.execFiles[data.execFiles.length - 1]);
writeFileSync(join(logDir, 'exec.log'), log);

const server = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
let url;
server.stdout.on('data', (chunk) => {
  url ??= /https?:\/\/\S+/.exec(String(chunk))?.[0];
});
try {
  await waitFor(() => url !== undefined, 20_000, 'sandlog serve to listen');
  const base = new URL(url);
  const rssOf = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]) * 1024;

  // A client that connects and never reads: the server must hold a bounded amount for it.
  await sleep(sized(50, 500));
  const rssBefore = rssOf();
  const socket = connect({ host: base.hostname, port: Number(base.port) });
  socket.write(`GET /api/sandboxes/one/logs/stream HTTP/1.1\r\nHost: ${base.host}\r\n\r\n`);
  socket.pause();
  await sleep(sized(200, 3000));
  const rssStalled = rssOf();
  socket.destroy();

  report({
    scenario: 'server',
    title: TITLE,
    available: true,
    rows: [
      { name: `server RSS before / with one stalled client (${fmt(log.length / MIB)} MiB log)`, value: `${fmt(rssBefore / MIB)} / ${fmt(rssStalled / MIB)}`, unit: 'MiB' },
    ],
    bars: [{ bar: 'server RSS with one stalled client (measured, no numeric bar)', measured: `${fmt(rssBefore / MIB)} MiB idle, ${fmt(rssStalled / MIB)} MiB with the stalled client`, met: null }],
    notes: ['the client connects to the stream route and never reads; the server must hold a bounded amount for it (one chunk plus socket buffers); SSE throughput: see bench/server-sse.js below'],
  });
} finally {
  server.kill();
  rmSync(home, { recursive: true, force: true });
}
