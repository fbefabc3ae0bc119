// Shared test helpers: temporary directories, exec.log lines, running the CLI
// as a real child process, and waiting with a deadline. Every wait here has a
// timeout so that a broken behaviour fails a test instead of hanging the run.
// The default deadlines are generous on purpose: a deadline only decides how
// long a broken behaviour takes to be reported, and a heavily loaded 2-core
// machine can stall a healthy one for seconds.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'dist', 'cli.cjs');

/** Default deadline of every wait below: far beyond what a healthy wait takes, even under load. */
export const DEADLINE_MS = 60_000;

/** A fresh temporary directory, removed when the test ends (pass the test context `t`). */
export function tempDir(t, prefix = 'sandlog-test-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A home with one sandbox's log directory created; returns { home, logDir }. */
export function tempSandbox(t, name = 'box') {
  const home = tempDir(t);
  const logDir = join(home, 'sandboxes', name, 'logs');
  mkdirSync(logDir, { recursive: true });
  return { home, logDir, name };
}

/** One exec.log record line (no newline), keys in microsandbox's order. */
export function recordLine(t, s, d, id, e) {
  const fields = [`"t":${JSON.stringify(t)}`, `"s":${JSON.stringify(s)}`, `"d":${JSON.stringify(d)}`];
  if (id !== undefined && id !== null) fields.push(`"id":${id}`);
  if (e !== undefined) fields.push(`"e":${JSON.stringify(e)}`);
  return `{${fields.join(',')}}`;
}

/** Writes lines (each given without its newline) to a file, each ended by `\n`. */
export function writeLines(path, lines) {
  writeFileSync(path, lines.map((line) => `${line}\n`).join(''));
}

/** An RFC 3339 timestamp `seconds` after a fixed base time. */
export function at(seconds) {
  return new Date(Date.UTC(2026, 3, 30, 20, 0, 0) + seconds * 1000).toISOString();
}

/**
 * Runs the CLI (`node dist/cli.cjs ...args`) and resolves to { code, signal, stdout, stderr }.
 * Options: env (merged over process.env), input (written to stdin), timeoutMs (kills and rejects).
 */
export function runCli(args, { env = {}, input, timeoutMs = DEADLINE_MS, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, NO_COLOR: '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd,
    });
    const stdout = [];
    const stderr = [];
    child.stdout.on('data', (chunk) => stdout.push(chunk));
    child.stderr.on('data', (chunk) => stderr.push(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`sandlog ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${Buffer.concat(stderr)}`),
      );
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stdoutBytes: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** Starts the CLI without waiting for it; returns the child process. */
export function spawnCli(args, { env = {} } = {}) {
  return spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NO_COLOR: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Resolves when `predicate()` is truthy (polled), rejects after `timeoutMs`. */
export async function waitFor(predicate, { timeoutMs = DEADLINE_MS, intervalMs = 10, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Rejects if `promise` has not settled within `timeoutMs`. */
export function withTimeout(promise, timeoutMs, what = 'operation') {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
    }),
  ]);
}

/** Reads the next `count` entries of an async iterator, with a deadline. */
export async function take(iterator, count, timeoutMs = DEADLINE_MS) {
  const out = [];
  while (out.length < count) {
    const { value, done } = await withTimeout(iterator.next(), timeoutMs, `entry ${out.length + 1} of ${count}`);
    if (done) break;
    out.push(value);
  }
  return out;
}

/** The inode ("generation") of a file, as a BigInt. */
export function inodeOf(path) {
  return statSync(path, { bigint: true }).ino;
}

/** A cursor string computed by hand from [generation, offset] pairs (FORMAT.md's binary layout). */
export function handCursor(pairs) {
  const bytes = Buffer.alloc(1 + 16 * pairs.length);
  bytes[0] = pairs.length;
  pairs.forEach(([generation, offset], i) => {
    bytes.writeBigUInt64LE(BigInt(generation), 1 + 16 * i);
    bytes.writeBigUInt64LE(BigInt(offset), 9 + 16 * i);
  });
  return bytes.toString('base64');
}

/** Collects every entry of an async iterable (with a deadline for the whole read). */
export async function collect(iterable, timeoutMs = DEADLINE_MS) {
  const out = [];
  await withTimeout(
    (async () => {
      for await (const entry of iterable) out.push(entry);
    })(),
    timeoutMs,
    'collecting entries',
  );
  return out;
}

/** Entry bodies as strings. */
export function texts(entries) {
  return entries.map((entry) => entry.text());
}

/** Resolves with the child's { code, signal } when it exits, rejects after `timeoutMs` (and kills it). */
export function waitForExit(child, timeoutMs = DEADLINE_MS) {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child ${child.pid} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/**
 * Has `writeRecord()` append fixed-size records through `writer` (an ExecLogWriter of `maxFiles`
 * rotated files) until the file of inode `generation` has left retention and the live exec.log —
 * a newer file — carries that inode number and is at least `offset` bytes long. ext4 gives a
 * deleted file's number to the next new file at once, unless another process on the machine
 * creates a file in between. Returns the rotations it took, or undefined when the number did not
 * come back within `maxRotations` (then try again from a new file; tmpfs never reuses numbers).
 */
export function rotateUntilInodeReused(
  writer,
  logDir,
  generation,
  offset,
  writeRecord,
  { maxFiles = 4, maxRotations = 20 } = {},
) {
  const live = join(logDir, 'exec.log');
  const start = writer.rotations;
  while (writer.rotations - start <= maxRotations) {
    writeRecord();
    writer.flush();
    const info = statSync(live, { bigint: true });
    if (writer.rotations - start > maxFiles && info.ino === generation && Number(info.size) >= offset)
      return writer.rotations - start;
  }
  return undefined;
}
