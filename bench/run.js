// The benchmark runner: `npm run bench` runs every scenario and rewrites
// docs/benchmarks.md; `npm run bench -- <scenario> …` runs the named ones
// (their results are merged with the last results of the others). Each
// scenario runs in its own Node process and prints one result line.
// `--tiny` runs everything at a tiny size (the smoke test) and leaves the
// docs alone.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { DATA_DIR, MIB, ROOT, fmt } from './lib/common.js';

/** The scenarios, in the order of the issue. */
export const SCENARIOS = [
  { name: 'snapshot', file: 'snapshot.js', issue: 1 },
  { name: 'tail', file: 'tail.js', issue: 2 },
  { name: 'since', file: 'since.js', issue: 3 },
  { name: 'follow-latency', file: 'follow-latency.js', issue: 4 },
  { name: 'rotation', file: 'rotation.js', issue: 5 },
  { name: 'fanout', file: 'fanout.js', issue: 6 },
  { name: 'writer', file: 'writer.js', issue: 7 },
  { name: 'capture', file: 'capture.js', issue: 8 },
  // The server engineer's SSE benchmark (entries/s to 1 and 100 clients): its own table, kept as text.
  { name: 'server-sse', file: 'server-sse.js', issue: 9, raw: true, tinyEnv: { ENTRIES: '300', CLIENTS: '1,5' } },
  // 512 stalled clients, then 100 cut off by the stall timeout (its own limit: 240 s).
  { name: 'server', file: 'server.js', issue: 9, timeoutMs: 8 * 60 * 1000 },
  { name: 'history', file: 'history.js', issue: 13 },
  { name: 'holder-fanout', file: 'holder-fanout.js', issue: 10 },
  // Every read of `msb logs` against microsandbox's own CLI (issue 12).
  { name: 'vs-msb', file: 'vs-msb.js', issue: 12, timeoutMs: 10 * 60 * 1000 },
  { name: 'ship', file: 'ship.js', issue: 11 },
];
// Scenario files added by others (e.g. a server engineer's bench/server-sse.js) run too, with their output kept as text.
const KNOWN = new Set([...SCENARIOS.map((s) => s.file), 'run.js']);
const extras = readdirSync(join(ROOT, 'bench'))
  .filter((file) => file.endsWith('.js') && !KNOWN.has(file))
  .map((file) => ({ name: file.replace(/\.js$/, ''), file, issue: undefined, raw: true }));
const ALL = [...SCENARIOS, ...extras];

const SCENARIO_TIMEOUT_MS = 4 * 60 * 1000;

function runScenario(scenario, env) {
  return new Promise((resolve) => {
    const started = Date.now();
    const scenarioEnv =
      env.SANDLOG_BENCH_SIZE === 'tiny' && scenario.tinyEnv !== undefined ? { ...env, ...scenario.tinyEnv } : env;
    // In a process group of its own, so that a scenario killed at its time limit takes its children
    // (servers, followers, producers) with it instead of leaving them to load the scenarios after it.
    const child = spawn(process.execPath, [join(ROOT, 'bench', scenario.file)], {
      cwd: ROOT,
      env: scenarioEnv,
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, scenario.timeoutMs ?? SCENARIO_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      const line = stdout.split('\n').find((text) => text.startsWith('SANDLOG_BENCH_RESULT '));
      if (line !== undefined && code === 0) {
        resolve({ ...JSON.parse(line.slice('SANDLOG_BENCH_RESULT '.length)), seconds });
      } else {
        resolve({
          scenario: scenario.name,
          title: scenario.raw ? `bench/${scenario.file}` : scenario.name,
          size: env.SANDLOG_BENCH_SIZE,
          date: new Date().toISOString(),
          seconds,
          failed: !scenario.raw || code !== 0,
          raw: `${stdout.replace(/^SANDLOG_BENCH_RESULT .*$/m, '').trim()}${signal === 'SIGKILL' ? `\n(killed after ${(scenario.timeoutMs ?? SCENARIO_TIMEOUT_MS) / 1000} s)` : ''}`.trim(),
          rows: [],
          bars: [
            {
              bar: scenario.raw
                ? `bench/${scenario.file}: its own table (see Results; no numeric bar)`
                : 'scenario ran',
              measured: code === 0 ? 'ran' : `exited ${code ?? signal}`,
              met: code === 0 ? null : false,
            },
          ],
        });
      }
    });
  });
}

function command(text) {
  const result = spawnSync('sh', ['-c', text], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim().split('\n')[0] : 'not installed';
}

function machine() {
  const version = (name) => {
    try {
      return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return 'not installed';
    }
  };
  return {
    nproc: command('nproc'),
    cpu: cpus()[0]?.model ?? 'unknown',
    ramGiB: fmt(totalmem() / 1024 / MIB, 1),
    node: process.version,
    kernel: command('uname -sr'),
    gnuTail: command('tail --version'),
    jq: command('jq --version'),
    npmTail: version('tail'),
    logdna: version('@logdna/tail-file'),
    pino: version('pino'),
    load: command('cat /proc/loadavg'),
  };
}

function status(met) {
  return met === null || met === undefined ? '—' : met ? 'met' : '**missed**';
}

function renderDocs(results, info) {
  const out = [];
  out.push('# Benchmarks', '');
  out.push(
    'Written by `npm run bench` (bench/run.js); do not edit by hand — the performance notes at the end come from bench/performance-notes.md.',
    '',
  );
  out.push(
    'Every scenario measures sandlog against real peers in the same run on the same machine and reports medians and ratios. Absolute numbers move with the machine (this one is shared: other jobs ran during the run); the ratios are the point.',
    '',
  );
  out.push('## Machine', '');
  out.push('| | |', '|---|---|');
  out.push(
    `| CPUs (nproc) | ${info.nproc} |`,
    `| CPU model | ${info.cpu} |`,
    `| RAM | ${info.ramGiB} GiB |`,
    `| Node | ${info.node} |`,
    `| Kernel | ${info.kernel} |`,
  );
  out.push(
    `| Peers | ${info.gnuTail}; ${info.jq}; npm tail ${info.npmTail}; @logdna/tail-file ${info.logdna}; pino ${info.pino} |`,
  );
  out.push(`| Load average at the end of the run | ${info.load} |`, '');
  out.push('## Commands', '');
  out.push(
    '```sh',
    'npm run bench                     # build, run every scenario, rewrite this file',
    'npm run bench -- snapshot tail    # build, run only these (merged with the last results of the others)',
    'node bench/snapshot.js            # one scenario, printed, nothing written',
    'node bench/run.js --tiny          # every scenario at a tiny size (what test/bench/smoke.test.js does)',
    'node bench/run.js --docs          # rewrite this file from the last results',
    '```',
    '',
  );
  out.push(
    'Data: `bench/lib/data.js` generates (once, into the git-ignored `bench/.data/`) a chain of five 10 MiB files `exec.log.4` … `exec.log` (about 256,000 records; 55% stdout, 25% stderr, 15% pty output, 5% system; bodies of 20–400 bytes with log lines, ANSI colour, some unicode, embedded newlines, partial lines and 1% non-UTF-8 base64 chunks) and a 2 MiB `runtime.log`. Scenarios that write make their own temporary directories.',
    '',
  );
  out.push('## Bars', '');
  out.push('| # | scenario | bar | measured | status | run |', '|---|---|---|---|---|---|');
  for (const scenario of ALL) {
    const result = results[scenario.name];
    if (result === undefined) continue;
    for (const bar of result.bars ?? []) {
      out.push(
        `| ${scenario.issue ?? ''} | ${scenario.name} | ${bar.bar} | ${bar.measured} | ${status(bar.met)} | ${result.date.slice(0, 16).replace('T', ' ')} |`,
      );
    }
  }
  out.push('');
  out.push('## Results', '');
  for (const scenario of ALL) {
    const result = results[scenario.name];
    if (result === undefined) continue;
    out.push(`### ${scenario.issue === undefined ? '' : `${scenario.issue}. `}${result.title}`, '');
    out.push(
      `\`node bench/${scenario.file}\` — ${result.date.slice(0, 19).replace('T', ' ')} UTC, ${fmt(result.seconds, 0)} s${result.failed ? ' — **failed**' : ''}`,
      '',
    );
    if (result.rows.length > 0) {
      out.push('| measurement | value | unit | note |', '|---|---:|---|---|');
      for (const row of result.rows)
        out.push(
          `| ${row.name.replace(/\|/g, '\\|')} | ${row.value} | ${row.unit ?? ''} | ${(row.note ?? '').replace(/\|/g, '\\|')} |`,
        );
      out.push('');
    }
    for (const table of result.tables ?? []) {
      out.push(
        `| ${table.columns.join(' | ')} |`,
        `|${table.columns.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
      );
      for (const row of table.rows)
        out.push(`| ${row.map((cell) => String(cell).replace(/\|/g, '\\|')).join(' | ')} |`);
      out.push('');
    }
    if ((result.ratios ?? []).length > 0) {
      out.push('Ratios (sandlog ÷ peer; above 1 means sandlog is faster, for latencies below 1 means faster):', '');
      for (const ratio of result.ratios) out.push(`- ${ratio.name}: **${fmt(ratio.value, 2)}×**`);
      out.push('');
    }
    for (const note of result.notes ?? []) out.push(`Note: ${note}`, '');
    if (result.raw) out.push('```', result.raw, '```', '');
  }
  const notes = join(ROOT, 'bench', 'performance-notes.md');
  if (existsSync(notes)) out.push(readFileSync(notes, 'utf8').trim(), '');
  return `${out.join('\n')}\n`;
}

const args = process.argv.slice(2);
const tiny = args.includes('--tiny');
const names = args.filter((arg) => !arg.startsWith('--'));
const unknown = names.filter((name) => !ALL.some((scenario) => scenario.name === name));
if (unknown.length > 0) {
  process.stderr.write(
    `bench: unknown scenario(s) ${unknown.join(', ')}; scenarios: ${ALL.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(2);
}
// `--docs`: rewrite docs/benchmarks.md from the last full results, running nothing.
const docsOnly = args.includes('--docs');
const selected = docsOnly ? [] : names.length === 0 ? ALL : ALL.filter((scenario) => names.includes(scenario.name));
// The build under test, copied aside: others may rebuild dist/ while the scenarios run.
const distCopy = join(DATA_DIR, `dist-${process.pid}`);
if (selected.length > 0) {
  mkdirSync(DATA_DIR, { recursive: true });
  cpSync(join(ROOT, 'dist'), distCopy, { recursive: true });
}
const env = {
  ...process.env,
  SANDLOG_BENCH_SIZE: tiny ? 'tiny' : 'full',
  SANDLOG_BENCH_QUIET: process.env.SANDLOG_BENCH_QUIET ?? '0',
  SANDLOG_BENCH_DIST: distCopy,
};

mkdirSync(DATA_DIR, { recursive: true });
const resultsFile = join(DATA_DIR, `results-${tiny ? 'tiny' : 'full'}.json`);
// Tiny runs keep nothing (the smoke test runs several at once).
const results = !tiny && existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : {};
const started = Date.now();
let failed = 0;
for (const scenario of selected) {
  process.stderr.write(`bench: ${scenario.name} …\n`);
  const result = await runScenario(scenario, env);
  results[scenario.name] = result;
  if (result.failed) {
    failed += 1;
    process.stderr.write(`bench: ${scenario.name} failed${result.raw ? `:\n${result.raw}` : ''}\n`);
  }
  if (!tiny) writeFileSync(resultsFile, JSON.stringify(results, null, 2));
}
rmSync(distCopy, { recursive: true, force: true });
process.stderr.write(`bench: ${selected.length} scenario(s) in ${fmt((Date.now() - started) / 1000, 0)} s\n`);
if (!tiny) {
  // The results of earlier runs live on the machine that ran them: on another one, rewriting the document from a
  // few scenarios would drop every other scenario's results from it.
  const missing = SCENARIOS.filter((scenario) => results[scenario.name] === undefined).map((scenario) => scenario.name);
  if (missing.length === 0) {
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), renderDocs(results, machine()));
    process.stderr.write('bench: wrote docs/benchmarks.md\n');
  } else {
    const partial = join(DATA_DIR, 'benchmarks-partial.md');
    writeFileSync(partial, renderDocs(results, machine()));
    process.stderr.write(
      `bench: no results on this machine for ${missing.join(', ')}: docs/benchmarks.md is left as it is; this run's document is ${partial} (merge it by hand, or run every scenario)\n`,
    );
  }
}
process.exitCode = failed > 0 ? 1 : 0;
