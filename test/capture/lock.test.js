// One writer per sandbox: the lock file refuses a second writer while the first is alive, names its
// pid, and is taken over when the process that left it is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureProcess, WriterLockedError } from '../../dist/index.js';
import { WRITER_LOCK_FILE } from '../../dist/capture/lock.js';
import { acquireWriterLock } from '../../dist/capture/lock.js';
import { runCli, spawnCli, tempSandbox, waitFor, withTimeout, DEADLINE_MS } from '../helpers.js';
import { fixture, readRecords, sessionBytes } from './support.js';

/** The pid of a process that has exited (and so is not alive any more). */
async function deadPid() {
  const child = spawn('true');
  await withTimeout(new Promise((resolve) => child.once('exit', resolve)), DEADLINE_MS, 'a short process');
  return child.pid;
}

test('the lock file holds the writer pid while it runs and is removed when it ends', async (t) => {
  const { logDir } = tempSandbox(t);
  const lock = acquireWriterLock(logDir);
  assert.equal(readFileSync(join(logDir, WRITER_LOCK_FILE), 'utf8'), `${process.pid}\n`);
  lock.release();
  assert.ok(!existsSync(join(logDir, WRITER_LOCK_FILE)));
  lock.release();
});

test('a second writer in the same process is refused', async (t) => {
  const { logDir } = tempSandbox(t);
  const lock = acquireWriterLock(logDir);
  t.after(() => lock.release());
  assert.throws(
    () => acquireWriterLock(logDir),
    (error) => error instanceof WriterLockedError && error.pid === process.pid,
  );
});

test('`sandlog run` is refused with exit 1 and the holder pid while another run writes the sandbox', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const first = spawnCli(['run', name, '--home', home, '--', process.execPath, fixture('forever.js')]);
  t.after(() => first.kill('SIGKILL'));
  let firstOut = '';
  first.stdout.on('data', (chunk) => (firstOut += chunk));
  await waitFor(() => firstOut.includes('ready'), { what: 'the first run to start' });
  const holder = Number(readFileSync(join(logDir, WRITER_LOCK_FILE), 'utf8'));
  assert.equal(holder, first.pid);

  const second = await runCli(['run', name, '--home', home, '--', 'echo', 'second']);
  assert.equal(second.code, 1);
  assert.equal(second.stdout, '');
  assert.match(second.stderr, new RegExp(`^sandlog: .*already being written by process ${first.pid}\\n$`));

  const done = withTimeout(new Promise((resolve) => first.once('close', resolve)), DEADLINE_MS, 'the first run to end');
  first.kill('SIGTERM');
  assert.equal(await done, 143);
  const records = readRecords(logDir);
  assert.equal(sessionBytes(records, 'stdout', 1).toString(), 'ready\n');
  assert.ok(!records.some((r) => r.d === 'second\n'));
});

test('a stale lock left by a process that is gone is taken over', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  writeFileSync(join(logDir, WRITER_LOCK_FILE), `${await deadPid()}\n`);
  const result = await runCli(['run', name, '--home', home, '--', 'echo', 'after stale']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(sessionBytes(readRecords(logDir), 'stdout', 1).toString(), 'after stale\n');
  assert.ok(!existsSync(join(logDir, WRITER_LOCK_FILE)));
});

test('a lock file without a pid in it is stale too', async (t) => {
  const { logDir } = tempSandbox(t);
  writeFileSync(join(logDir, WRITER_LOCK_FILE), 'garbage');
  const lock = acquireWriterLock(logDir);
  assert.equal(readFileSync(join(logDir, WRITER_LOCK_FILE), 'utf8'), `${process.pid}\n`);
  lock.release();
});

test('captureProcess rejects with WriterLockedError naming the live holder', async (t) => {
  const { logDir } = tempSandbox(t);
  const sleeper = spawn('sleep', ['30']);
  t.after(() => sleeper.kill('SIGKILL'));
  writeFileSync(join(logDir, WRITER_LOCK_FILE), `${sleeper.pid}\n`);
  await assert.rejects(captureProcess({ logDir }, 'true'), (error) => {
    assert.ok(error instanceof WriterLockedError);
    assert.equal(error.pid, sleeper.pid);
    assert.match(error.message, new RegExp(`process ${sleeper.pid}`));
    return true;
  });
  assert.equal(readFileSync(join(logDir, WRITER_LOCK_FILE), 'utf8'), `${sleeper.pid}\n`);
});
