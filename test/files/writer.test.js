// ExecLogWriter: rotation by rename within maxFiles, whole records only,
// system markers, lossless bodies (base64 for non-UTF-8, characters split
// across writes kept whole), and a torn last line closed off on open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecLogWriter, OptionsError, readLogs, streamLogs, TextLogWriter } from '../../dist/index.js';
import { at, collect, recordLine, tempDir, texts } from '../helpers.js';

function lines(path) {
  const text = readFileSync(path, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), `${path} ends with a newline`);
  return text.split('\n').slice(0, -1);
}

test('rotation renames down the chain and keeps exactly maxFiles rotated files', async (t) => {
  const logDir = tempDir(t);
  const rotations = [];
  const writer = new ExecLogWriter(logDir, {
    maxBytes: 400,
    maxFiles: 2,
    onRotate: (info) => rotations.push(info.rotation),
  });
  for (let n = 0; n < 200; n++) writer.write('stdout', `record ${String(n).padStart(4, '0')}\n`, 1);
  writer.close();
  assert.deepEqual(readdirSync(logDir).sort(), ['exec.log', 'exec.log.1', 'exec.log.2']);
  assert.ok(writer.rotations > 2);
  assert.deepEqual(
    rotations,
    Array.from({ length: writer.rotations }, (_, i) => i + 1),
  );
  for (const name of ['exec.log', 'exec.log.1', 'exec.log.2']) {
    assert.ok(statSync(join(logDir, name)).size <= 400, `${name} is within maxBytes`);
    for (const line of lines(join(logDir, name))) {
      const record = JSON.parse(line); // never a split record
      assert.equal(record.s, 'stdout');
      assert.equal(record.id, 1);
    }
  }
  // What is retained is the newest records, contiguous, oldest file first.
  const bodies = texts(await readLogs({ logDir }));
  const numbers = bodies.map((body) => Number(body.slice(7, 11)));
  assert.equal(numbers.at(-1), 199);
  numbers.forEach((n, i) => {
    assert.equal(n, numbers[0] + i);
  });
});

test('the default keeps four rotated files', async (t) => {
  const logDir = tempDir(t);
  const writer = new ExecLogWriter(logDir, { maxBytes: 200 });
  for (let n = 0; n < 100; n++) writer.write('stderr', `line ${n}\n`, 2);
  writer.close();
  assert.deepEqual(readdirSync(logDir).sort(), ['exec.log', 'exec.log.1', 'exec.log.2', 'exec.log.3', 'exec.log.4']);
});

test('a record larger than maxBytes is written whole into a file of its own', async (t) => {
  const logDir = tempDir(t);
  const writer = new ExecLogWriter(logDir, { maxBytes: 300 });
  writer.write('stdout', 'small\n', 1);
  writer.write('stdout', 'x'.repeat(1000), 1);
  writer.write('stdout', 'after\n', 1);
  writer.close();
  assert.equal(lines(join(logDir, 'exec.log.1')).length, 1);
  assert.equal(JSON.parse(lines(join(logDir, 'exec.log.1'))[0]).d, 'x'.repeat(1000));
  assert.deepEqual(texts(await readLogs({ logDir })), ['small\n', 'x'.repeat(1000), 'after\n']);
});

test('system markers end with a newline and carry no session id', async (t) => {
  const logDir = tempDir(t);
  const writer = new ExecLogWriter(logDir);
  writer.system('session 1 started');
  writer.system('already ended\n');
  writer.close();
  const records = lines(join(logDir, 'exec.log')).map((line) => JSON.parse(line));
  assert.deepEqual(
    records.map((r) => [r.s, r.d, 'id' in r, 'e' in r]),
    [
      ['system', 'session 1 started\n', false, false],
      ['system', 'already ended\n', false, false],
    ],
  );
  assert.match(records[0].t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const entries = await readLogs({ logDir }, { sources: 'system' });
  assert.deepEqual(
    entries.map((e) => e.sessionId),
    [null, null],
  );
});

test('bytes that are not UTF-8 are written as e:"b64" and read back exactly', async (t) => {
  const logDir = tempDir(t);
  const binary = Buffer.from([0x00, 0xff, 0xc3, 0x28, 0x7f, 0x80]);
  const writer = new ExecLogWriter(logDir);
  writer.write('stdout', binary, 3);
  writer.write('stdout', 'plain ✓\n', 3);
  writer.close();
  const [first, second] = lines(join(logDir, 'exec.log')).map((line) => JSON.parse(line));
  assert.equal(first.e, 'b64');
  assert.equal(first.d, binary.toString('base64'));
  assert.equal(second.e, undefined);
  assert.equal(second.d, 'plain ✓\n');
  const entries = await readLogs({ logDir });
  assert.deepEqual(Buffer.from(entries[0].data), binary);
  assert.equal(entries[1].text(), 'plain ✓\n');
});

test('a 3-byte character split across two write() calls stays one character', async (t) => {
  const logDir = tempDir(t);
  const check = Buffer.from('✓', 'utf8'); // e2 9c 93
  const writer = new ExecLogWriter(logDir);
  writer.write('stdout', Buffer.concat([Buffer.from('ok '), check.subarray(0, 2)]), 1);
  writer.write('stderr', 'other stream\n', 1); // not held up by stdout's carried bytes
  writer.write('stdout', Buffer.concat([check.subarray(2), Buffer.from(' done\n')]), 1);
  writer.close();
  const records = lines(join(logDir, 'exec.log')).map((line) => JSON.parse(line));
  assert.ok(
    records.every((r) => r.e === undefined),
    'nothing needed base64',
  );
  const entries = await readLogs({ logDir });
  assert.equal(entries.map((e) => e.text()).join(''), 'ok other stream\n✓ done\n');
  assert.ok(!entries.some((e) => e.text().includes('\ufffd')));
});

test('an unfinished character still carried when the stream ends is written as it is', async (t) => {
  const logDir = tempDir(t);
  const writer = new ExecLogWriter(logDir);
  writer.write('stdout', Buffer.from([0x41, 0xf0, 0x9f]), 1);
  writer.endStream('stdout', 1);
  writer.close();
  const entries = await readLogs({ logDir });
  assert.deepEqual(Buffer.concat(entries.map((e) => Buffer.from(e.data))), Buffer.from([0x41, 0xf0, 0x9f]));
});

test('a torn last line left by a killed writer is closed off by the next writer', async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'exec.log');
  writeFileSync(path, `${recordLine(at(1), 'stdout', 'before crash\n', 1)}\n{"t":"${at(2)}","s":"stdout","d":"torn`);
  const writer = new ExecLogWriter(logDir);
  writer.write('stdout', 'after restart\n', 2);
  writer.close();
  const handle = streamLogs({ logDir });
  assert.deepEqual(texts(await collect(handle)), ['before crash\n', 'after restart\n']);
  assert.equal(handle.malformed, 1);
});

test('records are flushed by the end of the event-loop turn without an explicit flush', async (t) => {
  const logDir = tempDir(t);
  const writer = new ExecLogWriter(logDir);
  t.after(() => writer.close());
  writer.write('stdout', 'queued\n', 1);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(texts(await readLogs({ logDir })), ['queued\n']);
});

test('invalid writer options are OptionsErrors naming the option', (t) => {
  const logDir = tempDir(t);
  assert.throws(
    () => new ExecLogWriter(logDir, { maxBytes: 0 }),
    (error) => error instanceof OptionsError && /maxBytes/.test(error.message),
  );
  assert.throws(() => new ExecLogWriter(logDir, { maxBytes: 1.5 }), OptionsError);
  assert.throws(
    () => new ExecLogWriter(logDir, { maxFiles: -1 }),
    (error) => error instanceof OptionsError && /maxFiles/.test(error.message),
  );
});

test('TextLogWriter appends to runtime.log without rotating', (t) => {
  const logDir = tempDir(t);
  const writer = new TextLogWriter(logDir);
  writer.append('one', new Date(at(1)));
  writer.close();
  assert.equal(readFileSync(join(logDir, 'runtime.log'), 'utf8'), `${at(1)} one\n`);
});

test('a chain longer than four rotated files is read whole, and maxFiles 0 keeps only the live file', async (t) => {
  const logDir = tempDir(t);
  const writer = new ExecLogWriter(logDir, { maxBytes: 160, maxFiles: 6 }); // two 75-byte records a file
  for (let n = 0; n < 30; n++) writer.write('stdout', `record ${String(n).padStart(6, '0')}\n`, 1);
  writer.close();
  assert.equal(readdirSync(logDir).length, 7);
  assert.deepEqual(
    texts(await readLogs({ logDir })).map((s) => Number(s.slice(7, 13))),
    Array.from({ length: 14 }, (_, i) => i + 16),
  );
  const single = tempDir(t);
  const none = new ExecLogWriter(single, { maxBytes: 160, maxFiles: 0 });
  for (let n = 0; n < 5; n++) none.write('stdout', `record ${String(n).padStart(6, '0')}\n`, 1);
  none.close();
  assert.deepEqual(readdirSync(single), ['exec.log']);
  assert.deepEqual(texts(await readLogs({ logDir: single })), ['record 000004\n']);
});
