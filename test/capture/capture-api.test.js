// The library entry: captureProcess(target, command, args, options) gives the child, its session id
// and a promise of its exit, for a Node program capturing its own workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { captureProcess, CommandStartError, readLogs } from '../../dist/index.js';
import { tempSandbox, waitFor, withTimeout, DEADLINE_MS } from '../helpers.js';
import { fixture, readRecords, sessionBytes } from './support.js';

function sink() {
  const chunks = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

test('captureProcess resolves with the child, its session id and an exit promise', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const out = sink();
  const capture = await captureProcess({ name, home }, process.execPath, [fixture('echo.js'), 'api'], {
    stdout: out.stream,
  });
  assert.equal(capture.mode, 'pipe');
  assert.equal(capture.sessionId, 1);
  assert.equal(capture.pid, capture.child.pid);
  assert.equal(capture.logDir, logDir);
  const exit = await withTimeout(capture.exit, DEADLINE_MS, 'exit');
  assert.deepEqual(exit, { code: 0, signal: null, exitCode: 0 });
  assert.equal(out.text(), 'out: api\n');
  const entries = await readLogs({ logDir });
  assert.deepEqual(
    entries.map((e) => [e.source, e.sessionId, e.text()]),
    [
      ['stdout', 1, 'out: api\n'],
      ['stderr', 1, 'err: api\n'],
    ],
  );
  const second = await captureProcess({ logDir }, 'true');
  assert.equal(second.sessionId, 2);
  await withTimeout(second.exit, DEADLINE_MS, 'second exit');
});

test('stdin is at its end by default; a stream given as stdin is forwarded', async (t) => {
  const { logDir } = tempSandbox(t);
  const ignored = await captureProcess({ logDir }, 'cat');
  assert.equal(ignored.child.stdin, null);
  await withTimeout(ignored.exit, DEADLINE_MS, 'cat to see the end of its input');
  const input = new PassThrough();
  const forwarded = await captureProcess({ logDir }, 'cat', [], { stdin: input });
  input.end('from a stream\n');
  await withTimeout(forwarded.exit, DEADLINE_MS, 'second cat to exit');
  const records = readRecords(logDir);
  assert.equal(sessionBytes(records, 'stdout', 1).toString(), '');
  assert.equal(sessionBytes(records, 'stdout', 2).toString(), 'from a stream\n');
});

test("stdin 'pipe' with an explicit option is the caller's to write", async (t) => {
  const { logDir } = tempSandbox(t);
  const piped = await captureProcess({ logDir }, 'cat', [], { stdin: 'pipe' });
  piped.child.stdin.end('written by the caller\n');
  await withTimeout(piped.exit, DEADLINE_MS, 'cat to exit');
  assert.equal(sessionBytes(readRecords(logDir), 'stdout', 1).toString(), 'written by the caller\n');
});

test('kill() signals the command; the exit reports the signal and 128 + n', async (t) => {
  const { logDir } = tempSandbox(t);
  const capture = await captureProcess({ logDir }, process.execPath, [fixture('forever.js')]);
  await waitFor(() => sessionBytes(readRecords(logDir), 'stdout', 1).toString() === 'ready\n', { what: 'ready' });
  capture.kill('SIGINT');
  const exit = await withTimeout(capture.exit, DEADLINE_MS, 'exit after SIGINT');
  assert.deepEqual(exit, { code: null, signal: 'SIGINT', exitCode: 130 });
});

test('a start failure rejects with CommandStartError carrying the exit status', async (t) => {
  const { logDir } = tempSandbox(t);
  await assert.rejects(captureProcess({ logDir }, 'sandlog-no-such-command-xyz'), (error) => {
    assert.ok(error instanceof CommandStartError);
    assert.equal(error.exitCode, 127);
    assert.equal(error.errorCode, 'ENOENT');
    return true;
  });
  // The lock was released: the next capture runs.
  const next = await captureProcess({ logDir }, 'true');
  await withTimeout(next.exit, DEADLINE_MS, 'exit');
});

test('tty mode records output and can be resized', async (t) => {
  const { logDir } = tempSandbox(t);
  const capture = await captureProcess({ logDir }, 'sh', ['-c', 'stty size; read x; stty size'], {
    tty: true,
    columns: 90,
    rows: 20,
    stdin: new PassThrough(),
  });
  assert.equal(capture.mode, 'tty');
  await waitFor(() => sessionBytes(readRecords(logDir), 'output', 1).toString().includes('20 90'), {
    what: 'the first size',
  });
  capture.resize(91, 21);
  capture.child.write('\r');
  await withTimeout(capture.exit, DEADLINE_MS, 'exit');
  assert.match(sessionBytes(readRecords(logDir), 'output', 1).toString(), /^20 90\r\n\r\n21 91\r\n$/);
});
