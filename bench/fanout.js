// Scenario 6: fan-out. One process follows 1,000 sandboxes; a producer
// appends one record per sandbox per second. Measured in the follower: CPU %
// while nothing is written (after start-up), CPU % and RSS under the load,
// and wake latency (write → delivery). Peers: one GNU `tail -F` over the same
// 1,000 files (CPU and RSS from /proc; its output goes to /dev/null), and the
// floor of a Node follower (lib/fanout-floor.js: one fs.watch and a readSync
// per event, measured the same way as sandlog).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIB, ROOT, fmt, haveProgram, percentile, report, sized, sleep, spawnCollect, waitFor } from './lib/common.js';

const SANDBOXES = sized(10, 1000);
const IDLE_SECONDS = sized(0.3, 6);
const LOAD_SECONDS = sized(1, 10);
const consumerScript = join(ROOT, 'bench', 'lib', 'fanout-consumer.js');
const floorScript = join(ROOT, 'bench', 'lib', 'fanout-floor.js');
const writerScript = join(ROOT, 'bench', 'lib', 'fanout-writer.js');

const home = mkdtempSync(join(tmpdir(), 'sandlog-bench-fanout-'));
const files = [];
for (let i = 0; i < SANDBOXES; i++) {
  const logDir = join(home, 'sandboxes', `box-${i}`, 'logs');
  mkdirSync(logDir, { recursive: true });
  const file = join(logDir, 'exec.log');
  writeFileSync(file, `{"t":"${new Date().toISOString()}","s":"stdout","d":"started\\n","id":1}\n`);
  files.push(file);
}

function lineReader(stream) {
  let pending = '';
  const waiting = [];
  const lines = [];
  stream.on('data', (chunk) => {
    pending += chunk;
    for (let cut = pending.indexOf('\n'); cut >= 0; cut = pending.indexOf('\n')) {
      lines.push(pending.slice(0, cut));
      pending = pending.slice(cut + 1);
    }
    while (waiting.length > 0 && lines.length > 0) waiting.shift()(lines.shift());
  });
  return () => (lines.length > 0 ? Promise.resolve(lines.shift()) : new Promise((resolve) => waiting.push(resolve)));
}

// CPU ms (user + system) and RSS of another process, from /proc.
function procSample(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuMs: (ticks * 1000) / 100, rssBytes: rssKb * 1024 };
}

async function follower(script) {
  const child = spawn(process.execPath, [script, home, String(SANDBOXES)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let ready = false;
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (String(chunk).includes('ready')) ready = true;
  });
  const nextLine = lineReader(child.stdout);
  await waitFor(() => ready, 60_000, 'the fan-out follower to start');
  await sleep(sized(100, 3000)); // start-up reads and first batches settle
  child.stdin.write('mark\n');
  await sleep(IDLE_SECONDS * 1000);
  child.stdin.write('report\n');
  const idle = JSON.parse(await nextLine());
  child.stdin.write('mark\n');
  await spawnCollect(process.execPath, [writerScript, home, String(SANDBOXES), String(LOAD_SECONDS)]).done;
  await sleep(200);
  child.stdin.write('report\n');
  const load = JSON.parse(await nextLine());
  child.stdin.write('exit\n');
  await new Promise((resolve) => child.on('close', resolve));
  if (stderr.replace('ready\n', '').trim() !== '') process.stderr.write(stderr);
  return { idle, load };
}

async function gnuTail() {
  const child = spawn('tail', ['-q', '-n', '0', '-F', ...files], { stdio: ['ignore', 'ignore', 'ignore'] });
  await sleep(sized(100, 2000));
  const idleStart = procSample(child.pid);
  await sleep(IDLE_SECONDS * 1000);
  const idleEnd = procSample(child.pid);
  const loadStart = procSample(child.pid);
  const started = Date.now();
  await spawnCollect(process.execPath, [writerScript, home, String(SANDBOXES), String(LOAD_SECONDS)]).done;
  const loadEnd = procSample(child.pid);
  const loadMs = Date.now() - started;
  child.kill();
  return {
    idleCpu: (100 * (idleEnd.cpuMs - idleStart.cpuMs)) / (IDLE_SECONDS * 1000),
    loadCpu: (100 * (loadEnd.cpuMs - loadStart.cpuMs)) / loadMs,
    rssBytes: loadEnd.rssBytes,
  };
}

try {
  const own = await follower(consumerScript);
  const floor = await follower(floorScript);
  const peer = haveProgram('tail') ? await gnuTail() : undefined;
  const idleCpu = (100 * own.idle.cpuMs) / own.idle.wallMs;
  const loadCpu = (100 * own.load.cpuMs) / own.load.wallMs;
  const floorCpu = (100 * floor.load.cpuMs) / floor.load.wallMs;
  const p99 = percentile(own.load.delays, 99);
  const rss = own.load.rssBytes;
  const rows = [
    {
      name: 'sandlog: CPU while idle (no writes)',
      value: fmt(idleCpu, 2),
      unit: '%',
      note: `${IDLE_SECONDS} s window, ${own.idle.delays.length} records`,
    },
    { name: `sandlog: CPU under ${SANDBOXES} records/s`, value: fmt(loadCpu, 2), unit: '%', note: `${LOAD_SECONDS} s` },
    { name: 'sandlog: RSS', value: fmt(rss / MIB), unit: 'MiB' },
    {
      name: 'sandlog: wake latency p50 / p99 / max',
      value: `${fmt(percentile(own.load.delays, 50), 2)} / ${fmt(p99, 2)} / ${fmt(Math.max(...own.load.delays), 2)}`,
      unit: 'ms',
      note: `${own.load.delays.length} of ${SANDBOXES * LOAD_SECONDS} records delivered`,
    },
  ];
  rows.push({
    name: 'Node floor (fs.watch + readSync per directory): CPU under load',
    value: fmt(floorCpu, 2),
    unit: '%',
    note: `${floor.load.delays.length} records delivered; p99 ${fmt(percentile(floor.load.delays, 99), 2)} ms`,
  });
  if (peer !== undefined) {
    rows.push({
      name: 'GNU tail -F (all files, one process): CPU idle / under load',
      value: `${fmt(peer.idleCpu, 2)} / ${fmt(peer.loadCpu, 2)}`,
      unit: '%',
    });
    rows.push({ name: 'GNU tail -F: RSS', value: fmt(peer.rssBytes / MIB), unit: 'MiB' });
  }
  report({
    scenario: 'fanout',
    title: `Fan-out: ${SANDBOXES} sandboxes followed by one process, one record per sandbox per second`,
    rows,
    bars: [
      { bar: 'CPU < 1% while idle between writes', measured: `${fmt(idleCpu, 2)}%`, met: idleCpu < 1 },
      { bar: 'RSS < 150 MiB', measured: `${fmt(rss / MIB)} MiB`, met: rss < 150 * MIB },
      { bar: 'wake latency p99 ≤ 20 ms', measured: `${fmt(p99, 2)} ms`, met: p99 <= 20 },
      {
        bar: 'CPU under load < 5% (issue 12)',
        measured: `${fmt(loadCpu, 2)}% (Node floor ${fmt(floorCpu, 2)}%, ${fmt(loadCpu / floorCpu, 2)}×)`,
        met: loadCpu < 5,
      },
    ],
    notes: [
      `idle CPU covers ${IDLE_SECONDS} s without writes (the 2 s safety poll of every directory included); load CPU covers the producer's ${LOAD_SECONDS} s`,
    ],
  });
} finally {
  rmSync(home, { recursive: true, force: true });
}
