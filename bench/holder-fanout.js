// Scenario: many followers of one sandbox in one process while the producer
// rotates fast (issue 10). 200 streams follow one log directory; a producer
// process rotates exec.log 20 times a second for 10 s. Measured in the
// followers' process: whether any stream missed a rotation or got a record
// out of order, the generation holder's opens per rotation (one for all
// streams, where readers that open files themselves — sandlog before the
// holder, one GNU `tail -F` per stream — make one per stream), CPU and peak
// RSS.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIB, ROOT, fmt, report, sized, spawnCollect, waitFor } from './lib/common.js';

// FOLLOWERS and ROTATIONS_PER_S in the environment change the load (for a capacity curve by hand).
const FOLLOWERS = Number(process.env.FOLLOWERS ?? sized(10, 200));
const ROTATIONS_PER_S = Number(process.env.ROTATIONS_PER_S ?? 20);
const SECONDS = sized(1, 10);
const MAX_BYTES = 8 * 1024;

const home = mkdtempSync(join(tmpdir(), 'sandlog-bench-holder-'));
const logDir = join(home, 'logs');
mkdirSync(logDir, { recursive: true });

function lines(stream) {
  let pending = '';
  const queue = [];
  const waiting = [];
  stream.on('data', (chunk) => {
    pending += chunk;
    for (let cut = pending.indexOf('\n'); cut >= 0; cut = pending.indexOf('\n')) {
      queue.push(pending.slice(0, cut));
      pending = pending.slice(cut + 1);
    }
    while (waiting.length > 0 && queue.length > 0) waiting.shift()(queue.shift());
  });
  return () => (queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiting.push(resolve)));
}

try {
  // The live file exists before the streams start, as it does for a running sandbox.
  await spawnCollect(process.execPath, [
    join(ROOT, 'bench', 'lib', 'holder-producer.js'),
    logDir,
    '1',
    '0',
    String(MAX_BYTES),
  ]).done;
  const followers = spawn(
    process.execPath,
    [join(ROOT, 'bench', 'lib', 'holder-followers.js'), logDir, String(FOLLOWERS)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let ready = false;
  let stderr = '';
  followers.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (String(chunk).includes('ready')) ready = true;
  });
  const nextLine = lines(followers.stdout);
  await waitFor(() => ready, 60_000, 'the followers to start');
  followers.stdin.write('mark\n');
  const producer = spawnCollect(process.execPath, [
    join(ROOT, 'bench', 'lib', 'holder-producer.js'),
    logDir,
    String(ROTATIONS_PER_S),
    String(SECONDS),
    String(MAX_BYTES),
  ]);
  const { stdout } = await producer.done;
  const [, recordsText, rotationsText] = /done (\d+) (\d+)/.exec(stdout);
  const records = Number(recordsText);
  const rotations = Number(rotationsText);
  followers.stdin.write(`drain ${records}\n`);
  const result = JSON.parse(await nextLine());
  followers.stdin.write('exit\n');
  await new Promise((resolve) => followers.on('close', resolve));
  if (stderr.replace('ready\n', '').trim() !== '') process.stderr.write(stderr);

  const missed = Object.values(result.errors).reduce((sum, n) => sum + n, 0);
  const opensPerRotation = result.opens / Math.max(1, rotations);
  const cpu = (100 * result.cpuMs) / result.wallMs;
  report({
    scenario: 'holder-fanout',
    title: `${FOLLOWERS} followers of one sandbox in one process, producer rotating ${ROTATIONS_PER_S}×/s for ${SECONDS} s`,
    rows: [
      {
        name: 'streams that got every record in order',
        value: `${result.complete} / ${FOLLOWERS}`,
        note: `${records} records, ${rotations} rotations`,
      },
      {
        name: 'streams that failed',
        value: String(missed),
        note: missed === 0 ? undefined : JSON.stringify(result.errors),
      },
      {
        name: 'opens per rotation (all streams together)',
        value: fmt(opensPerRotation, 2),
        note: `${result.opens} opens; one per stream would be ${FOLLOWERS}`,
      },
      {
        name: 'followers: CPU',
        value: fmt(cpu, 1),
        unit: '%',
        note: `of one core, over ${fmt(result.wallMs / 1000, 1)} s`,
      },
      { name: 'followers: peak RSS', value: fmt(result.peakRss / MIB), unit: 'MiB' },
    ],
    bars: [
      {
        bar: 'no stream misses a rotation',
        measured: `${result.complete} / ${FOLLOWERS} complete`,
        met: result.complete === FOLLOWERS,
      },
      { bar: 'opens per rotation = 1', measured: fmt(opensPerRotation, 2), met: result.opens === rotations },
    ],
    notes: [
      `exec.log rotates every ${MAX_BYTES / 1024} KiB, 4 rotated files kept (retention ≈ ${fmt((4 / ROTATIONS_PER_S) * 1000, 0)} ms); streams hold 4 generations beyond it`,
    ],
  });
} finally {
  rmSync(home, { recursive: true, force: true });
}
