// Scenario 1: snapshot read of the whole chain (exec.log.4 … exec.log plus
// runtime.log), all sources, in timestamp order, as LogEntry objects with
// cursors, in-process; with a source filter (stdout only); and the peak RSS of
// `sandlog logs --source all --json` into /dev/null, into a file and into a
// pipe (median of 3 each).
// Peers in the same run: a naive buffer-split + JSON.parse reader, a naive
// readline + JSON.parse reader (both: no order, no cursors), and
// `jq -c 'select(.s=="stdout")'`.
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  CLI,
  MIB,
  TINY,
  fmt,
  haveProgram,
  interleave,
  median,
  peakRssOfNode,
  report,
  runTimed,
  sized,
  timeIt,
  importSandlog,
} from './lib/common.js';
import { dataset } from './lib/data.js';

const { streamLogs } = await importSandlog();

/** sandlog: the stream's batches (what an in-process consumer uses), touching each entry's source. */
async function sandlog(logDir, sources, touchAll) {
  let count = 0;
  let bytes = 0;
  for await (const batch of streamLogs({ logDir }, { sources }).batches()) {
    for (const entry of batch) {
      if (touchAll) bytes += entry.data.length + entry.cursor.length;
      else if (entry.source !== undefined) count += 1;
    }
    count += touchAll ? batch.length : 0;
  }
  return count + bytes * 0;
}

/** The baseline a user would write: read each file whole, split at newlines, JSON.parse each line. */
function naiveSplit(files, wantSource) {
  let count = 0;
  for (const file of files) {
    const buffer = readFileSync(file);
    let start = 0;
    for (;;) {
      const newline = buffer.indexOf(10, start);
      if (newline < 0) break;
      if (newline > start) {
        try {
          const record = JSON.parse(buffer.toString('utf8', start, newline));
          if (wantSource === undefined || record.s === wantSource) count += 1;
        } catch {
          // skipped, like a reader should
        }
      }
      start = newline + 1;
    }
  }
  return count;
}

/** The other baseline: readline over a read stream, JSON.parse each line. */
async function naiveReadline(files, wantSource) {
  let count = 0;
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line === '') continue;
      try {
        const record = JSON.parse(line);
        if (wantSource === undefined || record.s === wantSource) count += 1;
      } catch {
        // skipped
      }
    }
  }
  return count;
}

const data = dataset();
const { logDir, execFiles, chainBytes, runtimeBytes } = data;
const allBytes = chainBytes + runtimeBytes;

const candidates = {
  'sandlog, all sources (ordered, cursors)': { bytes: allBytes, run: () => sandlog(logDir, 'all', false) },
  'sandlog, all sources, touching .data and .cursor of each': {
    bytes: allBytes,
    run: () => sandlog(logDir, 'all', true),
  },
  'sandlog, stdout only': { bytes: chainBytes, run: () => sandlog(logDir, 'stdout', false) },
  'naive buffer-split + JSON.parse (exec chain, no order)': {
    bytes: chainBytes,
    run: () => naiveSplit(execFiles, undefined),
  },
  'naive buffer-split + JSON.parse, stdout only': { bytes: chainBytes, run: () => naiveSplit(execFiles, 'stdout') },
  'naive readline + JSON.parse (exec chain, no order)': {
    bytes: chainBytes,
    run: () => naiveReadline(execFiles, undefined),
  },
};

// One candidate in this process: warm up once, then time RUNS_PER_ROUND runs, print them.
const RUNS_PER_ROUND = sized(1, 3);
const only = process.argv.indexOf('--candidate');
if (only >= 0) {
  const candidate = candidates[process.argv[only + 1]];
  const times = [];
  let count = 0;
  for (let i = 0; i < RUNS_PER_ROUND + 1; i++) {
    const { ms, value } = await timeIt(candidate.run);
    count = value;
    if (i > 0 || TINY) times.push(ms);
  }
  process.stdout.write(`${JSON.stringify({ times, count })}\n`);
  process.exit(0);
}

// Each candidate runs in a fresh process (its own heap: one reader's garbage must not slow the
// next), in rounds that alternate the candidates, so that machine noise hits them alike.
const samples = Object.fromEntries(Object.keys(candidates).map((name) => [name, []]));
const counts = {};
for (let round = 0; round < sized(1, 3); round++) {
  for (const name of Object.keys(candidates)) {
    const { stdout } = runTimed(process.execPath, [fileURLToPath(import.meta.url), '--candidate', name], {
      stdout: 'pipe',
    });
    const { times, count } = JSON.parse(String(stdout).trim().split('\n').pop());
    samples[name].push(...times);
    counts[name] = count;
  }
}
const throughput = (name) => candidates[name].bytes / MIB / (median(samples[name]) / 1000);

let jq;
if (haveProgram('jq')) {
  const jqSamples = interleave({ jq: ['jq', ['-c', 'select(.s=="stdout")', ...execFiles]] }, sized(1, 3), sized(0, 1));
  jq = chainBytes / MIB / (median(jqSamples.jq) / 1000);
}

// Peak RSS by where the output goes: a file and a pipe (the reader here) are what the bar names.
const rssArgs = [CLI, 'logs', '--log-dir', logDir, '--source', 'all', '--json'];
const rssRounds = sized(1, 3);
const outDir = mkdtempSync(join(tmpdir(), 'sandlog-bench-rss-'));
const rssInto = {};
for (const into of ['/dev/null', 'a file', 'a pipe']) {
  const samples = [];
  for (let round = 0; round < rssRounds; round++) {
    if (into === 'a file') {
      const fd = openSync(join(outDir, 'out.json'), 'w');
      try {
        samples.push(peakRssOfNode(rssArgs, { stdout: fd }));
      } finally {
        closeSync(fd);
      }
    } else samples.push(peakRssOfNode(rssArgs, { stdout: into === 'a pipe' ? 'pipe' : 'ignore' }));
  }
  rssInto[into] = median(samples);
}
rmSync(outDir, { recursive: true, force: true });
const rssBytes = Math.max(...Object.values(rssInto));
const cliMs = median(
  interleave(
    { cli: [process.execPath, [CLI, 'logs', '--log-dir', logDir, '--source', 'all', '--json']] },
    sized(1, 3),
    0,
  ).cli,
);

const rows = [];
for (const name of Object.keys(candidates)) {
  rows.push({
    name,
    value: fmt(throughput(name)),
    unit: 'MiB/s',
    note: `median ${fmt(median(samples[name]), 0)} ms, ${counts[name]} entries`,
  });
}
if (jq !== undefined) rows.push({ name: `jq -c 'select(.s=="stdout")' (exec chain)`, value: fmt(jq), unit: 'MiB/s' });
rows.push({
  name: '`sandlog logs --source all --json > /dev/null` wall time',
  value: fmt(cliMs, 0),
  unit: 'ms',
  note: `${fmt(allBytes / MIB / (cliMs / 1000))} MiB/s whole process`,
});
for (const [into, bytes] of Object.entries(rssInto))
  rows.push({
    name: `\`sandlog logs --source all --json\` into ${into}: peak RSS`,
    value: fmt(bytes / MIB),
    unit: 'MiB',
  });

const all = throughput('sandlog, all sources (ordered, cursors)');
const stdout = throughput('sandlog, stdout only');
const split = throughput('naive buffer-split + JSON.parse (exec chain, no order)');
const splitStdout = throughput('naive buffer-split + JSON.parse, stdout only');
const ratio = (a, b) => (Number.isFinite(a / b) ? a / b : Number.NaN);
report({
  scenario: 'snapshot',
  title: 'Snapshot read of the whole chain',
  rows,
  ratios: [
    { name: 'all sources vs naive buffer-split', value: ratio(all, split) },
    { name: 'all sources vs jq', value: ratio(all, jq) },
    { name: 'stdout only vs naive buffer-split (stdout only)', value: ratio(stdout, splitStdout) },
    {
      name: 'all sources vs naive readline',
      value: ratio(all, throughput('naive readline + JSON.parse (exec chain, no order)')),
    },
  ],
  bars: [
    {
      bar: 'all sources ≥ 1.2× naive buffer-split',
      measured: `${fmt(ratio(all, split), 2)}×`,
      met: ratio(all, split) >= 1.2,
    },
    {
      bar: 'all sources ≥ 7× jq',
      measured: `${fmt(ratio(all, jq), 2)}×`,
      met: jq === undefined ? null : ratio(all, jq) >= 7,
    },
    {
      bar: 'stdout only ≥ 1.6× naive buffer-split',
      measured: `${fmt(ratio(stdout, splitStdout), 2)}×`,
      met: ratio(stdout, splitStdout) >= 1.6,
    },
    {
      bar: 'peak RSS of `logs --source all --json` < 100 MiB (into a file and into a pipe)',
      measured: `${fmt(rssBytes / MIB)} MiB (the largest)`,
      met: rssBytes < 100 * MIB,
    },
  ],
  notes: [
    `data: ${fmt(chainBytes / MIB)} MiB exec chain (5 files) + ${fmt(runtimeBytes / MIB)} MiB runtime.log; sandlog all-sources throughput counts both, the peers read the exec chain only`,
  ],
});
