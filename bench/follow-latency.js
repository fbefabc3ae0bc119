// Scenario 4: follow latency. A producer appends one record every 2 ms (2,000
// records), each carrying its write time; each follower runs in its own
// process and measures write → delivery on the shared monotonic clock.
// Followers: sandlog (`streamLogs({ follow: true })`), GNU `tail -F`, npm
// `tail`, `@logdna/tail-file` (its default 1 s poll), and microsandbox's own
// follower (its Node binding's `logStream({ follow: true })`, when the package
// is on this machine: see bench/lib/msb.js), one after the other.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, fmt, haveProgram, median, percentile, report, sized, spawnCollect, waitFor } from './lib/common.js';
import { locateMsb } from './lib/msb.js';

const COUNT = sized(20, 2000);
const INTERVAL_MS = 2;
// plain-watch is a reference, not a peer: fs.watch on the file and a synchronous read, no parsing (the floor for Node).
const msb = locateMsb();
const msbSkip =
  msb.binding === undefined
    ? (msb.missing ?? 'msb peer skipped: the package has no Node binding')
    : !haveProgram('sqlite3')
      ? 'msb peer skipped: sqlite3 (needed to register the sandbox with the binding) is not installed'
      : undefined;
if (msbSkip !== undefined) process.stderr.write(`${msbSkip}\n`);
const KINDS = [
  'sandlog',
  'plain-watch',
  ...(haveProgram('tail') ? ['gnu-tail'] : []),
  ...(msbSkip === undefined ? ['msb'] : []),
  'npm-tail',
  'logdna',
];
const follower = join(ROOT, 'bench', 'lib', 'follower.js');
const writer = join(ROOT, 'bench', 'lib', 'paced-writer.js');

async function measure(kind, count = COUNT) {
  const dir = mkdtempSync(join(tmpdir(), 'sandlog-bench-follow-'));
  try {
    // A microsandbox home layout (<home>/sandboxes/<name>/logs), so that the binding finds it too.
    const logDir = join(dir, 'sandboxes', 'bench', 'logs');
    mkdirSync(logDir, { recursive: true });
    const file = join(logDir, 'exec.log');
    writeFileSync(file, '');
    const done = join(dir, 'done');
    const run = spawnCollect(process.execPath, [
      follower,
      kind,
      file,
      String(count),
      '--done',
      done,
      '--quiet-ms',
      sized('300', '3000'),
      '--poll-ms',
      sized('100', '1000'),
      ...(kind === 'msb' ? ['--msb-binding', msb.binding] : []),
    ]);
    let ready = false;
    run.child.stderr.on('data', (chunk) => {
      if (String(chunk).includes('ready')) ready = true;
    });
    await waitFor(() => ready, 20_000, `${kind} to start`);
    await new Promise((resolve) => setTimeout(resolve, sized(50, 300))); // let watchers settle
    const produced = spawnCollect(process.execPath, [writer, file, String(count), String(INTERVAL_MS)]);
    await produced.done;
    writeFileSync(done, '');
    const result = await run.done;
    const line = result.stdout.trim().split('\n').pop();
    return JSON.parse(line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Rounds alternate the followers, so that a burst of load from elsewhere on the machine hits one
// round of one follower, not the whole result: each statistic is the median over the rounds.
const ROUNDS = sized(1, 3);
const rounds = Object.fromEntries(KINDS.map((kind) => [kind, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of KINDS) rounds[kind].push(await measure(kind));
}
// Warm-up against steady state: a follower that has just started runs its code cold (V8 compiles
// the hot functions in the background on this 2-core machine, and a few records wait for that), so
// one longer run of the three closest followers reports the p99 of its second half apart. The bar
// above is the whole short run, warm-up included.
const LONG_COUNT = sized(40, 8000);
const LONG_KINDS = ['sandlog', 'gnu-tail', 'msb'].filter((kind) => KINDS.includes(kind));
const steady = {};
for (const kind of LONG_KINDS) {
  const { delays, seqs } = await measure(kind, LONG_COUNT);
  const late = delays.filter((_, i) => seqs[i] >= LONG_COUNT / 2);
  const early = delays.filter((_, i) => seqs[i] < LONG_COUNT / 2);
  steady[kind] = { early: percentile(early, 99), late: percentile(late, 99), delivered: new Set(seqs).size };
}

const stat = (kind, fn) => median(rounds[kind].map((result) => fn(result.delays)));
const results = Object.fromEntries(
  KINDS.map((kind) => [
    kind,
    { delays: rounds[kind].flatMap((r) => r.delays), seqs: rounds[kind].flatMap((r) => r.seqs) },
  ]),
);

const names = {
  sandlog: 'sandlog streamLogs({ follow: true })',
  'plain-watch': 'reference: fs.watch + readSync loop in Node (no parsing)',
  'gnu-tail': 'GNU tail -F',
  msb: `microsandbox's follower (binding logStream({ follow: true }), ${msb.version ?? ''})`,
  'npm-tail': 'npm tail',
  logdna: `@logdna/tail-file (${sized('100 ms', 'default 1 s')} poll)`,
};
const rows = [];
const p99 = {};
for (const kind of KINDS) {
  p99[kind] = stat(kind, (delays) => percentile(delays, 99));
  const delivered = rounds[kind].map((r) => new Set(r.seqs).size);
  rows.push({
    name: `${names[kind]}: p50 / p99 / max`,
    value: `${fmt(
      stat(kind, (d) => percentile(d, 50)),
      2,
    )} / ${fmt(p99[kind], 2)} / ${fmt(
      stat(kind, (d) => Math.max(...d)),
      2,
    )}`,
    unit: 'ms',
    note: `medians of ${ROUNDS} round(s); p99 per round ${rounds[kind].map((r) => fmt(percentile(r.delays, 99), 2)).join(', ')}; delivered ${delivered.join(', ')} of ${COUNT}`,
  });
}
for (const kind of LONG_KINDS) {
  rows.push({
    name: `${names[kind]}: ${LONG_COUNT} records, p99 of the first / second half`,
    value: `${fmt(steady[kind].early, 2)} / ${fmt(steady[kind].late, 2)}`,
    unit: 'ms',
    note: `one run; delivered ${steady[kind].delivered} of ${LONG_COUNT}`,
  });
}
const sandlogP99 = p99.sandlog;
const gnuP99 = p99['gnu-tail'];
const msbP99 = p99.msb;
report({
  scenario: 'follow-latency',
  title: `Follow latency: one record every ${INTERVAL_MS} ms, ${COUNT} records, ${ROUNDS} round(s)`,
  rows,
  ratios: KINDS.filter((kind) => kind !== 'sandlog').map((kind) => ({
    name: `sandlog p99 vs ${names[kind]} p99`,
    value: sandlogP99 / p99[kind],
  })),
  bars: [
    { bar: 'sandlog p99 ≤ 1 ms', measured: `${fmt(sandlogP99, 2)} ms`, met: sandlogP99 <= 1 },
    {
      bar: 'sandlog p99 within 2× of GNU tail -F p99',
      measured: `${fmt(sandlogP99 / gnuP99, 2)}× (${fmt(sandlogP99, 2)} vs ${fmt(gnuP99, 2)} ms)`,
      met: gnuP99 === undefined ? null : sandlogP99 <= 2 * gnuP99,
    },
    {
      bar: "sandlog p99 ≤ microsandbox's follower p99",
      measured:
        msbP99 === undefined
          ? msbSkip
          : `${fmt(sandlogP99 / msbP99, 2)}× (${fmt(sandlogP99, 2)} vs ${fmt(msbP99, 2)} ms)`,
      met: msbP99 === undefined ? null : sandlogP99 <= msbP99,
    },
  ],
  notes: [
    'delay = delivery time in the follower process − write time in the producer process, both on the monotonic clock; GNU tail is read through a pipe by a Node process, which adds the pipe hop to its numbers',
    `median delay, sandlog: ${fmt(median(results.sandlog.delays), 3)} ms`,
  ],
});
