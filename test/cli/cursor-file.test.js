// `sandlog logs --cursor-file`: the file holds a checkpoint (the cursor and the
// digest of the record it ends after), an older file holding a bare cursor
// still resumes, and a stored place whose file left retention while ext4 gave
// its inode number to a newer exec.log is a missed rotation (exit 1, one line),
// never a silent resume in the newer file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecLogWriter } from '../../dist/index.js';
import { inodeOf, rotateUntilInodeReused, runCli, tempDir, tempSandbox } from '../helpers.js';

const body = (n) => `record ${String(n).padStart(6, '0')}\n`;
const shownNumbers = (stdout) =>
  stdout
    .trimEnd()
    .split('\n')
    .filter(Boolean)
    .map((line) => Number(line.slice(7, 13)));
const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);

function assertOneLineError(result, pattern) {
  assert.equal(result.code, 1, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^sandlog: [^\n]+\n$/);
  assert.match(result.stderr, pattern);
}

test('the cursor file is one JSON object: the cursor, and the digest of the record line it ends after', async (t) => {
  const { home, logDir } = tempSandbox(t);
  const writer = new ExecLogWriter(logDir);
  for (let n = 0; n < 3; n++) writer.write('stdout', body(n), 1);
  writer.close();
  const file = join(tempDir(t), 'box.cursor');
  const run = await runCli(['logs', 'box', '--home', home, '--cursor-file', file, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^\{[^\n]*\}\n$/);
  const stored = JSON.parse(text);
  const lastLine = readFileSync(join(logDir, 'exec.log'), 'utf8').trimEnd().split('\n').at(-1);
  assert.deepEqual(stored, {
    cursor: JSON.parse(run.stdout.trimEnd().split('\n').at(-1)).cursor,
    digests: [createHash('sha256').update(lastLine).digest().subarray(0, 12).toString('base64url')],
  });
});

test('a cursor file holding a bare cursor (older sandlog) still resumes, and is then stored as a checkpoint', async (t) => {
  const { home, logDir } = tempSandbox(t);
  const writer = new ExecLogWriter(logDir);
  t.after(() => writer.close());
  for (let n = 0; n < 3; n++) writer.write('stdout', body(n), 1);
  writer.flush();
  const json = await runCli(['logs', 'box', '--home', home, '--json']);
  const file = join(tempDir(t), 'old.cursor');
  writeFileSync(file, `${JSON.parse(json.stdout.split('\n')[0]).cursor}\n`);
  writer.write('stdout', body(3), 1);
  writer.flush();
  const resumed = await runCli(['logs', 'box', '--home', home, '--cursor-file', file]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(shownNumbers(resumed.stdout), [1, 2, 3]);
  assert.match(JSON.parse(readFileSync(file, 'utf8')).digests[0], /^[A-Za-z0-9_-]{16}$/);
  // Nothing new: nothing shown, and the stored place is kept.
  const before = readFileSync(file, 'utf8');
  assert.equal((await runCli(['logs', 'box', '--home', home, '--cursor-file', file])).stdout, '');
  assert.equal(readFileSync(file, 'utf8'), before);
});

/**
 * A sandbox whose cursor file holds the place after records 0-2, and whose live exec.log is by now a newer
 * file carrying the inode number of the file that place was in (ext4 gives it away at once, unless another
 * process creates a file in between: then it tries again). Undefined when the number never came back.
 */
async function cursorFileIntoReusedInode(t) {
  for (let attempt = 0; attempt < 10; attempt++) {
    const { home, logDir } = tempSandbox(t);
    const writer = new ExecLogWriter(logDir, { maxBytes: 600 }); // 75-byte records: eight to a file
    t.after(() => writer.close());
    let n = 0;
    for (; n < 3; n++) writer.write('stdout', body(n), 1);
    writer.flush();
    const file = join(tempDir(t), 'box.cursor');
    const first = await runCli(['logs', 'box', '--home', home, '--cursor-file', file]);
    assert.deepEqual(shownNumbers(first.stdout), [0, 1, 2]);
    const generation = inodeOf(join(logDir, 'exec.log'));
    const offset = readFileSync(join(logDir, 'exec.log')).length;
    const rotations = rotateUntilInodeReused(writer, logDir, generation, offset, () =>
      writer.write('stdout', body(n++), 1),
    );
    if (rotations === undefined) continue;
    t.diagnostic(
      `inode ${generation} came back as the live exec.log after ${rotations} rotations (attempt ${attempt + 1})`,
    );
    for (let more = 0; more < 2; more++) writer.write('stdout', body(n++), 1);
    writer.flush();
    return { home, file, next: n };
  }
  return undefined;
}

test('a stored cursor whose file left retention while a newer exec.log took its inode number is a missed rotation, not a silent resume', async (t) => {
  const reused = await cursorFileIntoReusedInode(t);
  if (reused === undefined) {
    t.skip('this filesystem does not give a deleted file inode number to the next new file');
    return;
  }
  const { home, file, next } = reused;
  const stored = readFileSync(file, 'utf8');
  const retained = shownNumbers((await runCli(['logs', 'box', '--home', home])).stdout);
  assert.ok(retained[0] > 3, 'record 3, the one after the stored place, has left retention');

  // The bare cursor resumes in the newer file, past records of it, without a word: the danger.
  const silent = await runCli(['logs', 'box', '--home', home, '--after-cursor', JSON.parse(stored).cursor]);
  assert.equal(silent.code, 0);
  const silentNumbers = shownNumbers(silent.stdout);
  assert.ok(silentNumbers.length > 0 && silentNumbers[0] !== retained[0], `silently resumed at ${silentNumbers[0]}`);

  // The cursor file says what happened, once and clearly, following or not; it keeps the stored place.
  const pattern =
    /missed rotation: exec\.log generation \d+ rotated out of retention since this checkpoint was taken \(a newer file has its inode number now\)/;
  assertOneLineError(await runCli(['logs', 'box', '--home', home, '--cursor-file', file]), pattern);
  assertOneLineError(await runCli(['logs', 'box', '--home', home, '--cursor-file', file, '-f']), pattern);
  assert.equal(readFileSync(file, 'utf8'), stored);
  // Starting again is the user's choice: without the file, everything retained is shown.
  assert.deepEqual(shownNumbers((await runCli(['logs', 'box', '--home', home])).stdout), range(retained[0], next));
});

test('a cursor file that is neither a checkpoint nor a cursor is a one-line error (exit 1)', async (t) => {
  const { home, logDir } = tempSandbox(t);
  const writer = new ExecLogWriter(logDir);
  writer.write('stdout', body(0), 1);
  writer.close();
  const file = join(tempDir(t), 'bad.cursor');
  for (const [content, pattern] of [
    ['{"cursor": ', /invalid cursor file/],
    ['{"cursor":"AA=="}', /invalid checkpoint/],
    ['{"cursor":"AA==","digests":["not a digest"]}', /invalid checkpoint/],
    ['not-a-cursor!', /invalid cursor/],
  ]) {
    writeFileSync(file, content);
    assertOneLineError(await runCli(['logs', 'box', '--home', home, '--cursor-file', file]), pattern);
  }
});
