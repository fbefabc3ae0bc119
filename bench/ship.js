// sandlog ship into NATS JetStream (issue 11): shipping throughput (entries/s, MB/s) to one node
// and to a three-node R3 cluster, side by side with the official client publishing the same
// messages (same payloads, headers and ids) in a bare pipelined loop — the ceiling; end-to-end
// latency write → visible to a fleet follower at 1,000 entries/s; and the shipper's CPU and RSS
// with many sandboxes writing 1 entry/s each. Needs Debian's nats-server.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { CLI, DIST, fmt, haveProgram, percentile, report, sized, sleep } from './lib/common.js';
import { NatsNode, freePort, startCluster } from '../test/ship/nats-support.js';

const { ExecLogWriter, readLogs } = await import(join(DIST, 'index.js'));
const { ship } = await import(join(DIST, 'ship', 'shipper.js'));
const { entrySubject, entryMessageId } = await import(join(DIST, 'ship', 'naming.js'));
const { recordDigest } = await import(join(DIST, 'format', 'record-digest.js'));

if (!haveProgram('nats-server')) {
  report({
    scenario: 'ship',
    title: 'sandlog ship into NATS JetStream',
    rows: [],
    bars: [{ bar: 'nats-server installed', measured: 'missing', met: false }],
  });
  process.exit(0);
}

// Polls every 50 ms: asking the broker for counts more often would load the machine being measured.
async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

const ENTRIES = sized(1_000, 50_000);
const WINDOW = 256;
const ROUNDS = sized(1, 5);
const dir = mkdtempSync(join(tmpdir(), 'sandlog-bench-ship-'));
const cleanups = [];
const fakeTest = { after: (fn) => cleanups.push(fn) };

async function count(nc, filter) {
  const jsm = await jetstreamManager(nc);
  try {
    const info = await jsm.streams.info('SANDLOG', { subjects_filter: filter });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  } catch {
    return 0;
  }
}

async function resetStream(nc) {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete('SANDLOG').catch(() => undefined);
  await jsm.streams.delete('BARE').catch(() => undefined);
  const { Kvm } = await import('@nats-io/kv');
  await jsm.streams.delete('KV_sandlog-checkpoints').catch(() => undefined);
  void Kvm;
}

// A home with one sandbox of ENTRIES stdout records (~100 bytes of body each).
const home = join(dir, 'home');
const logDir = join(home, 'sandboxes', 'bulk', 'logs');
mkdirSync(logDir, { recursive: true });
const writer = new ExecLogWriter(logDir);
for (let n = 0; n < ENTRIES; n++) writer.write('stdout', `entry ${n} ${'x'.repeat(90)}\n`, 1);
writer.close();
const entries = await readLogs({ logDir }, { sources: 'all' });
const messages = entries.map((entry) => ({
  subject: entrySubject('bench', 'bulk', entry.source),
  payload: Buffer.from(entry.toJsonLine()),
  id: entryMessageId('bench', 'bulk', entry.cursor, recordDigest(entry.recordLine)),
}));
const payloadBytes = messages.reduce((sum, m) => sum + m.payload.length, 0);

// Every message of the stream (it is deleted before each run): cheaper for the server than per-subject counts,
// which it would compute every 50 ms while the shipper is being measured.
async function messageCount(jsm) {
  try {
    return (await jsm.streams.info('SANDLOG')).state.messages;
  } catch {
    return 0;
  }
}

// Both runs are timed from before they connect until the last entry is stored: the shipper connects and creates
// the stream and the KV bucket itself, so the bare loop connects and creates its stream inside its time too.
async function shipperRun(servers, replicas) {
  const nc = await connect({ servers });
  await resetStream(nc);
  const jsm = await jetstreamManager(nc);
  const controller = new AbortController();
  const started = performance.now();
  const running = ship({
    servers,
    home,
    host: 'bench',
    stream: 'SANDLOG',
    replicas,
    sources: new Set(['stdout', 'stderr', 'output', 'system']),
    signal: controller.signal,
    log: () => undefined,
  });
  await waitFor(async () => (await messageCount(jsm)) >= ENTRIES, 600_000, 'shipped');
  const seconds = (performance.now() - started) / 1000;
  controller.abort();
  await running;
  await nc.close();
  return seconds;
}

async function bareRun(servers, replicas) {
  const setup = await connect({ servers });
  await resetStream(setup);
  await setup.close();
  const started = performance.now();
  // The shipper's connection options that make publishing cheaper (no per-request error stacks): the ceiling
  // must not be lowered by a setting sandlog turns off.
  const nc = await connect({ servers, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: 'SANDLOG',
    subjects: ['sandlog.>'],
    num_replicas: replicas,
    duplicate_window: 120_000_000_000,
  });
  const js = jetstream(nc);
  let inFlight = 0;
  let wake;
  let failed = 0;
  for (const message of messages) {
    while (inFlight >= WINDOW) await new Promise((resolve) => (wake = resolve));
    inFlight += 1;
    const h = headers();
    h.set('Sandlog-Host', 'bench');
    h.set('Sandlog-Sandbox', 'bulk');
    js.publish(message.subject, message.payload, { msgID: message.id, headers: h, timeout: 5_000 })
      .then(
        () => undefined,
        () => (failed += 1),
      )
      .finally(() => {
        inFlight -= 1;
        wake?.();
      });
  }
  await waitFor(() => inFlight === 0, 600_000, 'bare loop acks');
  const seconds = (performance.now() - started) / 1000;
  await nc.close();
  if (failed > 0) throw new Error(`bare loop: ${failed} publishes failed`);
  return seconds;
}

async function latencyRun(servers) {
  const nc = await connect({ servers });
  await resetStream(nc);
  const latencyHome = join(dir, 'latency');
  const latencyDir = join(latencyHome, 'sandboxes', 'paced', 'logs');
  mkdirSync(latencyDir, { recursive: true });
  const controller = new AbortController();
  const running = ship({
    servers,
    home: latencyHome,
    host: 'bench',
    stream: 'SANDLOG',
    replicas: 1,
    sources: new Set(['stdout']),
    signal: controller.signal,
    log: () => undefined,
  });
  await waitFor(
    async () => {
      const jsm = await jetstreamManager(nc);
      return jsm.streams.info('SANDLOG').then(
        () => true,
        () => false,
      );
    },
    60_000,
    'stream',
  );
  const js = jetstream(nc);
  const consumer = await js.consumers.get('SANDLOG', { filter_subjects: 'sandlog.bench.paced.stdout' });
  const delays = [];
  const total = sized(300, 5_000);
  const consuming = (async () => {
    const iterator = await consumer.consume();
    for await (const message of iterator) {
      const sent = Number(/^(\d+\.\d+)/.exec(JSON.parse(message.string()).d)[1]);
      delays.push(performance.timeOrigin + performance.now() - sent);
      if (delays.length >= total) break;
    }
  })();
  const paced = new ExecLogWriter(latencyDir);
  const startedAt = performance.now();
  for (let n = 0; n < total; n++) {
    // 1,000 entries/s: one entry per millisecond, written at its due time.
    const due = startedAt + n;
    while (performance.now() < due) await sleep(Math.max(0, due - performance.now() - 1));
    paced.write('stdout', `${(performance.timeOrigin + performance.now()).toFixed(3)} paced ${n}\n`, 1);
    paced.flush();
  }
  paced.close();
  await Promise.race([consuming, sleep(60_000)]);
  controller.abort();
  await running;
  await nc.close();
  return delays;
}

async function manySandboxes(servers) {
  const nc = await connect({ servers });
  await resetStream(nc);
  const sandboxes = sized(20, 1_000);
  const manyHome = join(dir, 'many');
  const writers = [];
  for (let i = 0; i < sandboxes; i++) {
    const sandboxDir = join(manyHome, 'sandboxes', `s${i}`, 'logs');
    mkdirSync(sandboxDir, { recursive: true });
    writers.push(new ExecLogWriter(sandboxDir));
  }
  const child = spawn(
    process.execPath,
    [CLI, 'ship', '--nats', servers.join(','), '--home', manyHome, '--host', 'bench'],
    { stdio: 'ignore' },
  );
  const cpuOf = () => {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  };
  const rssOf = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) * 1024;
  // Warm-up: every sandbox picked up (one entry each shipped).
  for (const [i, w] of writers.entries()) w.write('stdout', `warm ${i}\n`, 1);
  for (const w of writers) w.flush();
  await waitFor(async () => (await count(nc, 'sandlog.bench.*.*')) >= sandboxes, 300_000, 'every sandbox shipping');
  const seconds = sized(2, 20);
  const cpuBefore = cpuOf();
  const started = performance.now();
  let rss = 0;
  for (let s = 0; s < seconds; s++) {
    // Each sandbox writes one entry per second, spread over the second.
    for (const [i, w] of writers.entries()) {
      w.write('stdout', `tick ${s} of ${i}\n`, 1);
      w.flush();
      if (i % 50 === 49) await sleep(1000 / (sandboxes / 50));
    }
    rss = Math.max(rss, rssOf());
  }
  await waitFor(
    async () => (await count(nc, 'sandlog.bench.*.*')) >= sandboxes * (seconds + 1),
    120_000,
    'ticks shipped',
  );
  const cpuMs = cpuOf() - cpuBefore;
  const wallMs = performance.now() - started;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  for (const w of writers) w.close();
  await nc.close();
  return { sandboxes, cpuPercent: (100 * cpuMs) / wallMs, rss };
}

const rows = [];
const bars = [];
try {
  const single = new NatsNode(join(dir, 'single'), { port: await freePort() });
  await single.start();
  cleanups.push(() => single.stop('SIGKILL'));
  const targets = [['one node', [single.url], 1]];
  if (sized(false, true)) {
    const cluster = await startCluster(fakeTest, join(dir, 'cluster'));
    targets.push(['R3 cluster', cluster.map((node) => node.url), 3]);
  }
  for (const [label, servers, replicas] of targets) {
    // Rounds alternate which of the two goes first; medians of the rounds.
    const bareTimes = [];
    const shipTimes = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) bareTimes.push(await bareRun(servers, replicas));
      shipTimes.push(await shipperRun(servers, replicas));
      if (round % 2 === 1) bareTimes.push(await bareRun(servers, replicas));
    }
    const bare = percentile(bareTimes, 50);
    const shipped = percentile(shipTimes, 50);
    rows.push({
      name: `${label}: official client, bare pipelined loop`,
      value: fmt(ENTRIES / bare, 0),
      unit: 'entries/s',
      note: `${fmt(payloadBytes / bare / 1e6, 2)} MB/s; median of ${ROUNDS}`,
    });
    rows.push({
      name: `${label}: sandlog ship`,
      value: fmt(ENTRIES / shipped, 0),
      unit: 'entries/s',
      note: `${fmt(payloadBytes / shipped / 1e6, 2)} MB/s, ${fmt(bare / shipped, 2)}× the loop`,
    });
    bars.push({
      bar: `${label}: shipper ≥ 0.7× the bare official-client loop`,
      measured: `${fmt(bare / shipped, 2)}×`,
      met: bare / shipped >= 0.7,
    });
  }
  const delays = await latencyRun([single.url]);
  rows.push({
    name: 'latency write → fleet follower at 1,000 entries/s, p50',
    value: fmt(percentile(delays, 50), 2),
    unit: 'ms',
  });
  rows.push({
    name: 'latency write → fleet follower at 1,000 entries/s, p99',
    value: fmt(percentile(delays, 99), 2),
    unit: 'ms',
  });
  // The many-sandboxes part takes the most wall time; the smoke test (tiny) leaves it out.
  if (sized(false, true)) {
    const many = await manySandboxes([single.url]);
    rows.push({
      name: `${many.sandboxes} sandboxes at 1 entry/s each: shipper CPU`,
      value: fmt(many.cpuPercent, 1),
      unit: '%',
    });
    rows.push({
      name: `${many.sandboxes} sandboxes at 1 entry/s each: shipper RSS`,
      value: fmt(many.rss / 1024 / 1024, 0),
      unit: 'MiB',
    });
  }
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
}
report({
  scenario: 'ship',
  title: `sandlog ship into NATS JetStream (${ENTRIES} entries; window ${WINDOW})`,
  rows,
  bars,
  notes: [
    'both times run from before connecting until the last entry is stored (connecting and creating the stream included; the shipper also creates its KV bucket and reads the log); both publish the same messages (payload, headers, Nats-Msg-Id) into a fresh stream, with the same connection options (noAsyncTraces)',
    'nats-server 2.9.10 from Debian, file storage, on the same machine',
  ],
});
// Timers and client connections left by the timed parts must not hold the runner up.
process.exit(0);
