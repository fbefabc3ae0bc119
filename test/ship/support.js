// Shared setup of the ship tests: sandboxes with rotation chains and every source, the shipper
// as a real child process, and what the local CLI prints for comparison.
import { spawn } from 'node:child_process';
import { mkdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecLogWriter } from '../../dist/index.js';
import { CLI, runCli, waitFor } from '../helpers.js';

export const PRODUCER = join(CLI, '..', '..', 'test', 'fixtures', 'ship-producer.js');

/**
 * A sandbox whose exec.log rotated several times (small files, every source) and which has a
 * runtime.log and a kernel.log. The writer is closed: no old inode is kept alive.
 */
export function makeSandbox(home, name, records = 300) {
  const logDir = join(home, 'sandboxes', name, 'logs');
  mkdirSync(logDir, { recursive: true });
  appendFileSync(join(logDir, 'runtime.log'), `2026-04-30T20:00:00.000Z runtime of ${name} starting\n`);
  appendFileSync(join(logDir, 'kernel.log'), `2026-04-30T20:00:00.500Z kernel of ${name} booted\n`);
  const writer = new ExecLogWriter(logDir, { maxBytes: 4096 });
  writer.system(`${name} started`);
  const sources = ['stdout', 'stderr', 'output'];
  for (let n = 0; n < records; n++) writer.write(sources[n % 3], `${name} ${n} ${'x'.repeat(n % 40)}\n`, 1 + (n % 2));
  writer.system(`${name} exited`);
  writer.close();
  return logDir;
}

/** Appends `count` stdout records to a sandbox (a writer opened and closed). */
export function appendRecords(logDir, prefix, count, maxBytes = 4096) {
  const writer = new ExecLogWriter(logDir, { maxBytes });
  for (let n = 0; n < count; n++) writer.write('stdout', `${prefix} ${n}\n`, 7);
  writer.close();
}

/** `sandlog logs --json --source all` of a sandbox, as lines. */
export async function localJsonLines(home, name, extra = []) {
  const result = await runCli(['logs', '--home', home, '--json', '--source', 'all', ...extra, name]);
  if (result.code !== 0) throw new Error(`sandlog logs failed: ${result.stderr}`);
  return result.stdout.split('\n').filter((line) => line !== '');
}

/**
 * Starts `sandlog ship` as a child process; `shipper.stderr()` is what it printed so far,
 * `shipper.exit` resolves to { code, signal }.
 */
export function startShipper(t, args) {
  const child = spawn(process.execPath, [CLI, 'ship', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, exit, stderr: () => stderr };
}

/** Stops a shipper with `signal` and resolves to its exit and stderr. */
export async function stopShipper(shipper, signal = 'SIGTERM', timeoutMs = 30_000) {
  process.kill(shipper.child.pid, signal);
  let timer;
  const result = await Promise.race([
    shipper.exit,
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`shipper did not exit within ${timeoutMs} ms; stderr: ${shipper.stderr()}`)),
        timeoutMs,
      );
    }),
  ]);
  clearTimeout(timer);
  return { ...result, stderr: shipper.stderr() };
}

/** Starts the producer fixture; resolves { child, done } (done: its exit). */
export function startProducer(t, logDir, total, maxBytes, perTick = 50, tickMs = 5, start = 0) {
  const child = spawn(
    process.execPath,
    [PRODUCER, logDir, String(total), String(maxBytes), String(perTick), String(tickMs), String(start)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const done = new Promise((resolve) => child.once('exit', resolve));
  return { child, done };
}

/** Waits until the stream's messages for `filter` reach `count` (read with `count`). */
export async function waitForCount(countOf, count, what, timeoutMs = 60_000) {
  await waitFor(async () => (await countOf()) >= count, { timeoutMs, intervalMs: 100, what });
}
