// Finding and driving the oracle: microsandbox's own `msb` CLI and Node binding, from the npm package
// @superradcompany/microsandbox-linux-x64-gnu (fetched by `npm run oracle` into .oracle/, or found at
// $SANDLOG_MSB_DIR). Where it cannot run (not linux-x64, not fetched) the interop tests skip with one
// line; with CI set, a missing oracle is a failure.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ORACLE_VERSION = '0.6.18';
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const BINDING_CHILD = join(here, 'binding-child.cjs');

/** The oracle's files, or why it is not there: `{ msb, binding }` or `{ missing }`. */
export function locateOracle() {
  const dir = process.env.SANDLOG_MSB_DIR || join(repo, '.oracle', 'package');
  const msb = join(dir, 'bin', 'msb');
  const binding = join(dir, 'microsandbox.linux-x64-gnu.node');
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return {
      missing: `microsandbox ${ORACLE_VERSION} runs on linux-x64 only (this is ${process.platform}-${process.arch})`,
    };
  if (!existsSync(msb) || !existsSync(binding))
    return {
      missing: `microsandbox ${ORACLE_VERSION} not found in ${dir} (run \`npm run oracle\`, or set SANDLOG_MSB_DIR)`,
    };
  const sqlite = spawnSync('sqlite3', ['-version'], { encoding: 'utf8' });
  if (sqlite.status !== 0) return { missing: 'sqlite3 is not installed (the binding finds sandboxes in its database)' };
  return { msb, binding };
}

const located = locateOracle();
let announced = false;

/**
 * The test options that skip a test when the oracle cannot run — announced once, in one line — or
 * that fail it on CI, where the oracle must be present.
 */
export function oracleTestOptions() {
  if (located.missing === undefined) return {};
  if (process.env.CI) throw new Error(`interop oracle missing on CI: ${located.missing}`);
  if (!announced) {
    announced = true;
    // One line per test run, not per file: the first file of this runner (its parent process) says it.
    try {
      closeSync(openSync(join(tmpdir(), `sandlog-interop-skip-${process.ppid}`), 'wx'));
      process.stderr.write(`interop tests skipped: ${located.missing}\n`);
    } catch {
      // Said already by another file of this run.
    }
  }
  return { skip: located.missing };
}

export const oracle = located;

/**
 * A microsandbox home in a fresh temp directory: `sandboxes/<name>/logs/` for each name, and the
 * binding's database knowing every name (the binding's first call creates it; sqlite3 adds the rows).
 */
export function makeHome(t, names) {
  const home = mkdtempSync(join(tmpdir(), 'sandlog-interop-'));
  if (!process.env.KEEP_INTEROP) t.after(() => rmSync(home, { recursive: true, force: true }));
  for (const name of names) mkdirSync(logDirOf(home, name), { recursive: true });
  // Any call creates the database and its schema; this one fails with "sandbox not found", as expected.
  spawnSync(
    process.execPath,
    ['-e', `require(${JSON.stringify(located.binding)}).Sandbox.get('none').catch(() => {})`],
    {
      env: { ...process.env, MSB_HOME: home },
      stdio: 'ignore',
    },
  );
  const rows = names.map(
    (name) =>
      `INSERT INTO sandbox(name,config,status,created_at,updated_at) VALUES('${name}','{}','Stopped',datetime('now'),datetime('now'));`,
  );
  execFileSync('sqlite3', [join(home, 'db', 'msb.db'), rows.join('\n')]);
  return home;
}

export function logDirOf(home, name) {
  return join(home, 'sandboxes', name, 'logs');
}

/** `msb logs <name> …args` in `home`: its stdout bytes (throws with its stderr on failure). */
export function msbLogs(home, name, args) {
  const result = spawnSync(located.msb, ['logs', name, ...args], {
    env: { ...process.env, MSB_HOME: home, NO_COLOR: '' },
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`msb logs ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/**
 * Runs binding queries (see binding-child.cjs) in one child process; resolves to their results.
 * `onProgress(n)` hears of each entry a `progress` query receives, as it arrives. The child is killed,
 * and the promise rejected, after `timeoutMs`.
 */
export function bindingQueries(home, name, queries, { timeoutMs = 60_000, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BINDING_CHILD, located.binding], {
      env: { ...process.env, MSB_HOME: home },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`binding child gave no answer within ${timeoutMs} ms: ${err.slice(-500)}`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      err += chunk;
      if (onProgress !== undefined) for (const match of chunk.matchAll(/^entry (\d+)$/gm)) onProgress(Number(match[1]));
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out));
      else reject(new Error(`binding child exited ${code}: ${err.slice(-2000)}`));
    });
    child.stdin.end(JSON.stringify({ name, queries }));
  });
}

/**
 * Parses `msb logs --json` / `sandlog logs --json` output into comparable objects: `id` kept as its
 * exact digits (u64), `cursor` dropped unless asked for.
 */
export function parseJsonLines(buffer) {
  return buffer
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const id = /"id":(null|\d+)/.exec(line)?.[1] ?? 'missing';
      const value = JSON.parse(line);
      return { t: value.t, s: value.s, d: value.d, id, e: value.e ?? null, cursor: value.cursor };
    });
}
