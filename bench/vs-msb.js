// Scenario: every read `msb logs` can do, whole process, sandlog against
// microsandbox's own Rust CLI (`bin/msb` of its npm package) on the same
// directory in the same run: medians of interleaved runs (msb, sandlog, msb,
// sandlog, …) so that machine noise hits both alike, and the ratio
// sandlog / msb (below 1: sandlog is faster). `node -e 0` runs in the same
// rounds as the floor of any Node program. Without the package the scenario
// reports one line saying so and skips the peer. SANDLOG_BENCH_BASE=<a dist
// directory> adds that build of sandlog to the same rounds (A/B of a change).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, TINY, fmt, median, report, sized } from './lib/common.js';
import { dataset } from './lib/data.js';
import { locateMsb } from './lib/msb.js';

const RUNS = sized(1, Number(process.env.SANDLOG_BENCH_RUNS ?? 5));
const { home, name, summary } = dataset();
const startMs = Date.parse(summary.startTime);
const endMs = Date.parse(summary.endTime);
const middle = new Date(startMs + (endMs - startMs) / 2).toISOString();
// ~9% of the default sources' entries match this one (`ERROR` matches ~40%; a pattern absent from the data matches none).
const GREP_TENTH = 'TRACE.*elapsed';
const GREP_NONE = 'NO-SUCH-TEXT-ANYWHERE';

/** The workloads: the issue's table first, then the added ones. Text modes pin `--color never` on both sides. */
const WORKLOADS = [
  ['--json --source all', ['--json', '--source', 'all']],
  ['--source stdout (text)', ['--source', 'stdout', '--color', 'never']],
  ['--source all (text)', ['--source', 'all', '--color', 'never']],
  ['--source stderr --json', ['--source', 'stderr', '--json']],
  ['--since <middle> --json', ['--since', middle, '--json']],
  [`--grep ${GREP_NONE} --json (no match)`, ['--grep', GREP_NONE, '--json']],
  ['--tail 100 --json', ['--tail', '100', '--json']],
  ['--source all --timestamps (text)', ['--source', 'all', '--timestamps', '--color', 'never']],
  ['--until <middle> (text)', ['--until', middle, '--color', 'never']],
  [`--grep '${GREP_TENTH}' --json (~9% match)`, ['--grep', GREP_TENTH, '--json']],
];

// CPU time (user + system) of this process's waited-for children, from /proc (clock ticks of 10 ms):
// on a shared machine it moves less than wall time with the other jobs' load.
function childrenCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10; // cutime, cstime (fields 16 and 17)
  } catch {
    return Number.NaN;
  }
}

/** Runs one command, stdout to /dev/null (or counted, for the warm-up), returns wall ms and CPU ms. */
function run(command, args, env, count) {
  const cpuBefore = childrenCpuMs();
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, {
    stdio: ['ignore', count ? 'pipe' : 'ignore', 'pipe'],
    env,
    maxBuffer: 1 << 30,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = childrenCpuMs() - cpuBefore;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${String(result.stderr).slice(0, 500)}`);
  let lines = 0;
  if (count) for (let at = result.stdout.indexOf(10); at >= 0; at = result.stdout.indexOf(10, at + 1)) lines += 1;
  return { ms, cpu, lines };
}

const msb = locateMsb();
const node = process.execPath;
const sandlogArgs = (args) => [CLI, 'logs', '--home', home, name, ...args];
const msbEnv = { ...process.env, MSB_HOME: home };
const baseCli =
  process.env.SANDLOG_BENCH_BASE === undefined
    ? undefined
    : [join(process.env.SANDLOG_BENCH_BASE, 'cli.cjs'), join(process.env.SANDLOG_BENCH_BASE, 'cli.js')].find((path) =>
        existsSync(path),
      );

const floor = [];
const samples = WORKLOADS.map(() => ({
  msb: [],
  sandlog: [],
  base: [],
  cpu: { msb: [], sandlog: [], base: [] },
  lines: {},
}));
// Round 0 is the warm-up (page cache, code caches) and counts output lines instead of timing. The
// tiny size (the smoke test) runs that round only, and keeps its times: they only have to exist.
for (let round = 0; round <= (TINY ? 0 : RUNS); round++) {
  const warm = round === 0;
  const timed = !warm || TINY;
  const base = run(node, ['-e', '0'], process.env, false);
  if (timed) floor.push(base.ms);
  WORKLOADS.forEach(([, args], i) => {
    // Alternate which goes first, so neither always runs right after the other's cache effects.
    const order = round % 2 === 0 ? ['msb', 'sandlog', 'base'] : ['base', 'sandlog', 'msb'];
    for (const who of order) {
      if (who === 'msb' && msb.bin === undefined) continue;
      if (who === 'base' && baseCli === undefined) continue;
      const result =
        who === 'msb'
          ? run(msb.bin, ['logs', name, ...args], msbEnv, warm)
          : who === 'base'
            ? run(node, [baseCli, ...sandlogArgs(args).slice(1)], process.env, warm)
            : run(node, sandlogArgs(args), process.env, warm);
      if (warm) samples[i].lines[who] = result.lines;
      if (timed) {
        samples[i][who].push(result.ms);
        samples[i].cpu[who].push(result.cpu);
      }
    }
  });
}

const rows = [{ name: 'node -e 0', value: fmt(median(floor)), unit: 'ms', note: `${floor.length} runs` }];
const ratios = [];
const bars = [];
const tableRows = [];
WORKLOADS.forEach(([label], i) => {
  const s = median(samples[i].sandlog);
  const m = median(samples[i].msb);
  const ratio = s / m;
  const lines = samples[i].lines;
  const cpu = (who) => median(samples[i].cpu[who]);
  const counted =
    lines.msb === undefined ? `${lines.sandlog} lines` : `lines out: msb ${lines.msb}, sandlog ${lines.sandlog}`;
  const base =
    baseCli === undefined
      ? ''
      : `; base build ${fmt(median(samples[i].base))} ms (ratio ${fmt(median(samples[i].base) / m, 2)}, CPU ${fmt(cpu('base'), 0)} ms)`;
  rows.push({
    name: `sandlog logs ${label}`,
    value: fmt(s),
    unit: 'ms',
    note: `${msb.bin === undefined ? counted : `msb ${fmt(m)} ms, ratio ${fmt(ratio, 2)}; CPU ms msb ${fmt(cpu('msb'), 0)}, sandlog ${fmt(cpu('sandlog'), 0)} (ratio ${fmt(cpu('sandlog') / cpu('msb'), 2)}); ${counted}`}${base}`,
  });
  if (msb.bin === undefined) return;
  ratios.push({ name: `logs ${label}: sandlog / msb (below 1: sandlog faster)`, value: ratio });
  bars.push({
    bar: `logs ${label}: sandlog ≤ 1.0× msb`,
    measured: `${fmt(ratio, 2)}× (${fmt(s, 0)} vs ${fmt(m, 0)} ms)`,
    met: ratio <= 1,
  });
  tableRows.push([
    `\`logs ${label}\``,
    fmt(m, 0),
    fmt(s, 0),
    fmt(ratio, 2),
    `${fmt(cpu('msb'), 0)} / ${fmt(cpu('sandlog'), 0)} (${fmt(cpu('sandlog') / cpu('msb'), 2)})`,
    ...(baseCli === undefined
      ? []
      : [fmt(median(samples[i].base), 0), fmt(median(samples[i].base) / m, 2), fmt(cpu('base'), 0)]),
  ]);
});

report({
  scenario: 'vs-msb',
  title: `Every read against microsandbox's \`msb logs\` (whole process, medians of ${RUNS})`,
  rows,
  ratios: [],
  bars: msb.bin === undefined ? [{ bar: 'msb peer', measured: msb.missing, met: null }] : bars,
  tables:
    msb.bin === undefined
      ? []
      : [
          {
            columns: [
              'workload',
              'msb ms',
              'sandlog ms',
              'sandlog / msb',
              'CPU ms msb / sandlog (ratio)',
              ...(baseCli === undefined ? [] : ['base build ms', 'base / msb', 'base CPU ms']),
            ],
            rows: tableRows,
          },
        ],
  notes: [
    msb.bin === undefined
      ? msb.missing
      : `peer: ${msb.version} (${msb.bin}); \`MSB_HOME=<home> msb logs ${name} …\` against \`sandlog logs --home <home> ${name} …\``,
    'wall times are the bar; CPU ms (user + system of the child, 10 ms ticks) are given because on a shared machine they move less with the load',
    `data: the shared chain (5 exec.log files + runtime.log); <middle> = ${middle}; stdout to /dev/null; rounds alternate which of the two runs first; ratio = sandlog median / msb median`,
    'text output differs by design where the README lists it (terminal sanitising, a body without a final newline ended before the next timestamp), so text line counts may differ slightly',
  ],
});
if (msb.bin === undefined) process.stderr.write(`${msb.missing}\n`);
