// Shared helpers of the benchmark scenarios: sizes, timing statistics, child
// processes and the one-line JSON result each scenario prints for the runner.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * The build under test: the runner copies dist/ aside once (other work may
 * rebuild dist/ during a run) and names the copy in SANDLOG_BENCH_DIST.
 */
export const DIST = process.env.SANDLOG_BENCH_DIST ?? join(ROOT, 'dist');
export const CLI = join(DIST, 'cli.cjs');

/** The library (dist/index.js) of the build under test. */
export function importSandlog() {
  return import(pathToFileURL(join(DIST, 'index.js')).href);
}
export const DATA_DIR = join(ROOT, 'bench', '.data');

/** `tiny` (the smoke test: seconds, no meaningful numbers) or `full`. */
export const SIZE = process.env.SANDLOG_BENCH_SIZE === 'tiny' ? 'tiny' : 'full';
export const TINY = SIZE === 'tiny';

/** Picks the tiny or the full value. */
export function sized(tiny, full) {
  return TINY ? tiny : full;
}

export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The p-th percentile (0..100) by nearest rank. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Times one synchronous or async call in ms. */
export async function timeIt(fn) {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

/** Runs a command to completion, discarding output; returns wall ms (and throws on failure). */
export function runTimed(command, args, { stdout = 'ignore', env, input } = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, {
    stdio: [input === undefined ? 'ignore' : 'pipe', stdout, 'pipe'],
    env: env ?? process.env,
    input,
    maxBuffer: 1 << 30,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms, stdout: result.stdout };
}

/**
 * Measures several whole-process commands interleaved (a, b, c, a, b, c, …)
 * so that machine noise hits them alike; returns name → array of wall ms.
 */
export function interleave(commands, runs, warmup = 1) {
  const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  for (let i = 0; i < warmup + runs; i++) {
    for (const [name, [command, args, options]] of Object.entries(commands)) {
      const { ms } = runTimed(command, args, options);
      if (i >= warmup) samples[name].push(ms);
    }
  }
  return samples;
}

/** Whether a program exists on PATH. */
export function haveProgram(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Whether `sandlog <command>` exists in the built CLI (its `--help` exits 0). */
export function cliHasCommand(command) {
  const result = spawnSync(process.execPath, [CLI, command, '--help'], { stdio: 'ignore', timeout: 20_000 });
  return result.status === 0;
}

/** Peak RSS (bytes) of a node script run with its arguments, via a preload that reports maxRSS at exit. */
export function peakRssOfNode(args, { stdout = 'ignore' } = {}) {
  const preload = join(ROOT, 'bench', 'lib', 'report-rss.js');
  const result = spawnSync(process.execPath, ['--import', preload, ...args], {
    stdio: ['ignore', stdout, 'pipe'],
    env: { ...process.env, SANDLOG_BENCH_RSS_FD: '2' },
    maxBuffer: 1 << 30,
  });
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  const match = /SANDLOG_BENCH_MAXRSS=(\d+)/.exec(String(result.stderr));
  if (match === null) throw new Error('no maxRSS reported');
  return Number(match[1]) * 1024;
}

/** Starts a child and collects its stdout; resolves with { code, stdout, stderr } when it ends. */
export function spawnCollect(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const out = [];
  const err = [];
  child.stdout.on('data', (chunk) => out.push(chunk));
  child.stderr.on('data', (chunk) => err.push(chunk));
  const done = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
  });
  return { child, done };
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `predicate()` is truthy, rejects after `timeoutMs`. */
export async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export const MIB = 1024 * 1024;

export function fmt(value, digits = 1) {
  if (value === undefined || value === null || Number.isNaN(value)) return 'n/a';
  return Number(value).toFixed(digits);
}

/**
 * What every scenario prints as its last stdout line, for the runner:
 * `{ scenario, title, size, rows: [{ name, value, unit, note }], bars: [{ bar, measured, met }], notes }`.
 */
export function report(result) {
  const full = { size: SIZE, date: new Date().toISOString(), ...result };
  if (process.env.SANDLOG_BENCH_QUIET !== '1') printHuman(full);
  process.stdout.write(`SANDLOG_BENCH_RESULT ${JSON.stringify(full)}\n`);
}

function printHuman(result) {
  const lines = [`== ${result.scenario}: ${result.title} (${result.size})`];
  for (const row of result.rows)
    lines.push(
      `  ${row.name.padEnd(56)} ${String(row.value).padStart(12)} ${row.unit ?? ''}${row.note ? `  (${row.note})` : ''}`,
    );
  for (const bar of result.bars ?? [])
    lines.push(`  [${bar.met === null ? ' ? ' : bar.met ? 'met' : 'MISSED'}] ${bar.bar}: ${bar.measured}`);
  for (const note of result.notes ?? []) lines.push(`  note: ${note}`);
  process.stderr.write(`${lines.join('\n')}\n`);
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}
