// Scenario 9: the server. SSE entries/s from `sandlog serve` to 1 client and
// to 100 clients on loopback (clients in their own process), and the server's
// RSS while one client has stopped reading a large log. Needs `sandlog
// serve`: until the CLI has it, the scenario reports "not available".
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, MIB, ROOT, cliHasCommand, fmt, report, sized, sleep, spawnCollect, waitFor } from './lib/common.js';
import { dataset } from './lib/data.js';

const TITLE = 'Server: SSE to 1 and 100 clients, RSS with a stalled client';
if (!cliHasCommand('serve')) {
  report({
    scenario: 'server',
    title: TITLE,
    available: false,
    rows: [{ name: '`sandlog serve`', value: 'not available', unit: '' }],
    bars: [{ bar: 'SSE entries/s, 1 and 100 clients; RSS with one stalled client', measured: 'not available (`sandlog serve --help` fails in this build)', met: null }],
  });
  process.exit(0);
}

const data = dataset();
const CLIENTS = sized(5, 100);
const clientsScript = join(ROOT, 'bench', 'lib', 'sse-clients.js');

// Two sandboxes: `one` holds the newest 10 MiB file of the chain, `small` about 2 MiB of it (for 100 clients).
const home = mkdtempSync(join(tmpdir(), 'sandlog-bench-server-'));
function sandbox(name, bytes) {
  const logDir = join(home, 'sandboxes', name, 'logs');
  mkdirSync(logDir, { recursive: true });
  const source = readFileSync(data.execFiles[data.execFiles.length - 1]);
  const trimmed = source.subarray(0, source.lastIndexOf(10, Math.min(bytes, source.length) - 1) + 1);
  writeFileSync(join(logDir, 'exec.log'), trimmed);
  // What the stream delivers: the default sources (stdout, stderr, output).
  let entries = 0;
  for (const line of trimmed.toString('utf8').split('\n')) if (line !== '' && !line.includes('"s":"system"')) entries += 1;
  return { entries, bytes: trimmed.length };
}
const one = sandbox('one', sized(64 * 1024, 10 * MIB));
const small = sandbox('small', sized(16 * 1024, 2 * MIB));

const server = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
let url;
server.stdout.on('data', (chunk) => {
  url ??= /https?:\/\/\S+/.exec(String(chunk))?.[0];
});
try {
  await waitFor(() => url !== undefined, 20_000, 'sandlog serve to listen');
  const base = new URL(url);
  const streamUrl = (name) => `http://${base.host}/api/sandboxes/${name}/logs/stream`;
  const rssOf = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]) * 1024;

  async function clients(name, count, expected) {
    const result = await spawnCollect(process.execPath, [clientsScript, streamUrl(name), String(count), String(expected)]).done;
    return JSON.parse(result.stdout.trim().split('\n').pop());
  }
  await clients('small', 1, small.entries); // warm-up
  const single = await clients('one', 1, one.entries);
  const many = await clients('small', CLIENTS, small.entries);

  // A client that connects and never reads: the server must hold a bounded amount for it.
  await sleep(sized(50, 500));
  const rssBefore = rssOf();
  const socket = connect({ host: base.hostname, port: Number(base.port) });
  socket.write(`GET /api/sandboxes/one/logs/stream HTTP/1.1\r\nHost: ${base.host}\r\n\r\n`);
  socket.pause();
  await sleep(sized(200, 3000));
  const rssStalled = rssOf();
  socket.destroy();

  const singleRate = single.events / (single.ms / 1000);
  const manyRate = many.events / (many.ms / 1000);
  report({
    scenario: 'server',
    title: TITLE,
    available: true,
    rows: [
      { name: `1 client, ${one.entries} entries (${fmt(one.bytes / MIB)} MiB log)`, value: fmt(singleRate / 1000), unit: 'k entries/s', note: `${fmt(single.ms, 0)} ms` },
      { name: `${CLIENTS} clients, ${small.entries} entries each (${fmt(small.bytes / MIB)} MiB log)`, value: fmt(manyRate / 1000), unit: 'k entries/s in all', note: `${fmt(many.ms, 0)} ms, ${fmt(manyRate / CLIENTS / 1000, 2)} k entries/s per client` },
      { name: 'server RSS before / with one stalled client', value: `${fmt(rssBefore / MIB)} / ${fmt(rssStalled / MIB)}`, unit: 'MiB' },
    ],
    bars: [{ bar: 'measure SSE entries/s (1 and 100 clients) and RSS with one stalled client (no numeric bar)', measured: `${fmt(singleRate / 1000)}k/s, ${fmt(manyRate / 1000)}k/s, stalled RSS ${fmt(rssStalled / MIB)} MiB`, met: null }],
    notes: ['server and clients are separate processes on the same 2 cores; clients count `id:` lines of the event stream'],
  });
} finally {
  server.kill();
  rmSync(home, { recursive: true, force: true });
}
