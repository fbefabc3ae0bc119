// Bounded disk under a flood: a child printing 50 MiB through `sandlog run --max-bytes 1048576`
// leaves at most max-files + 1 files, and what they keep is the newest output, contiguous and whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempSandbox } from '../helpers.js';
import { fixture, readRecords, recordBytes } from './support.js';

const TOTAL_BYTES = 50 * 1024 * 1024;
const LINE_BYTES = 9;

test('50 MiB with --max-bytes 1048576 keeps at most max-files + 1 whole files of the newest, contiguous output', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await runCli(
    [
      'run',
      name,
      '--home',
      home,
      '--quiet',
      '--max-bytes',
      '1048576',
      '--',
      process.execPath,
      fixture('print-lines.js'),
      String(TOTAL_BYTES),
    ],
    { timeoutMs: 120_000 },
  );
  assert.equal(result.code, 0, result.stderr);

  const files = readdirSync(logDir).filter((file) => file.startsWith('exec.log'));
  assert.ok(files.length <= 4 + 1, `files: ${files.join(', ')}`);
  assert.deepEqual(files.sort(), ['exec.log', 'exec.log.1', 'exec.log.2', 'exec.log.3', 'exec.log.4']);
  for (const file of files) {
    // A record may only exceed the limit when it is alone in its file.
    const size = readFileSync(join(logDir, file)).length;
    assert.ok(size <= 1048576, `${file} is ${size} bytes`);
  }

  // Every line of every file is a whole record (readRecords throws otherwise).
  const records = readRecords(logDir);
  assert.match(records.at(-1).d, /^exec session 1 exited with code 0/);
  const text = Buffer.concat(records.filter((r) => r.s === 'stdout').map(recordBytes)).toString('latin1');
  // The oldest kept record starts wherever a read started: drop the partial line before the first newline.
  const lines = text.slice(text.indexOf('\n') + 1).split('\n');
  assert.equal(lines.pop(), '', 'the output ends with a whole line');
  // print-lines.js stops after the line that reaches the byte count.
  const lastWritten = Math.ceil(TOTAL_BYTES / LINE_BYTES);
  assert.ok(lines.length > (4 * 1048576) / 20, `kept ${lines.length} lines`);
  const first = Number(lines[0]);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== String(first + i).padStart(LINE_BYTES - 1, '0')) {
      assert.fail(`line ${i} of the kept output is ${JSON.stringify(lines[i])}, expected ${first + i}`);
    }
  }
  assert.equal(first + lines.length - 1, lastWritten, 'the newest line is the last one written');
  const runtime = readFileSync(join(logDir, 'runtime.log'), 'utf8');
  assert.match(runtime, /sandlog: exec\.log rotated \(rotation 1 of session 1\)/);
});
