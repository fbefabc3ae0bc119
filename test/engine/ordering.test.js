// Snapshot ordering: files are merged by timestamp (ties by file order), and a
// rotated chain is read oldest file first; entry cursors resume exactly after
// their entry wherever they sit in the merge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readLogs, streamLogs } from '../../dist/index.js';
import { at, collect, recordLine, tempDir, texts, writeLines } from '../helpers.js';

test('exec.log, runtime.log and kernel.log are merged by timestamp', async (t) => {
  const logDir = tempDir(t);
  writeLines(
    join(logDir, 'exec.log'),
    [1, 4, 7, 8].map((n) => recordLine(at(n), 'stdout', `exec ${n}`, 1)),
  );
  writeLines(
    join(logDir, 'runtime.log'),
    [2, 5, 9].map((n) => `${at(n)} runtime ${n}`),
  );
  writeLines(
    join(logDir, 'kernel.log'),
    [3, 6].map((n) => `${at(n)} kernel ${n}`),
  );
  const entries = await readLogs({ logDir }, { sources: 'all' });
  assert.deepEqual(texts(entries), [
    'exec 1',
    'runtime 2\n',
    'kernel 3\n',
    'exec 4',
    'runtime 5\n',
    'kernel 6\n',
    'exec 7',
    'exec 8',
    'runtime 9\n',
  ]);
  const times = entries.map((e) => e.timestamp.getTime());
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
  );
});

test('entries with equal timestamps come out in file order: exec.log, then runtime.log, then kernel.log', async (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'kernel.log'), [`${at(1)} kernel a`, `${at(1)} kernel b`]);
  writeLines(join(logDir, 'runtime.log'), [`${at(1)} runtime a`]);
  writeLines(join(logDir, 'exec.log'), [
    recordLine(at(1), 'system', 'exec a\n'),
    recordLine(at(1), 'stdout', 'exec b', 1),
  ]);
  const entries = await readLogs({ logDir }, { sources: ['all'] });
  assert.deepEqual(texts(entries), ['exec a\n', 'exec b', 'runtime a\n', 'kernel a\n', 'kernel b\n']);
});

test('microsecond timestamps in runtime.log order against millisecond exec.log records', async (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log'), [recordLine('2026-04-30T20:00:00.001Z', 'stdout', 'exec', 1)]);
  writeLines(join(logDir, 'runtime.log'), ['2026-04-30T20:00:00.000900Z before', '2026-04-30T20:00:00.001100Z after']);
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: 'all' })), ['before\n', 'exec', 'after\n']);
});

test('a rotated chain is drained oldest file first, then the live file', async (t) => {
  const logDir = tempDir(t);
  const file = (name, numbers) =>
    writeLines(
      join(logDir, name),
      numbers.map((n) => recordLine(at(n), 'stdout', `r${n}`, 1)),
    );
  file('exec.log.4', [1, 2]);
  file('exec.log.3', [3]);
  file('exec.log.2', [4, 5]);
  file('exec.log.1', [6]);
  file('exec.log', [7, 8]);
  assert.deepEqual(texts(await readLogs({ logDir })), ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8']);
});

test('a chain with a missing middle file is still read in order', async (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log.3'), [recordLine(at(1), 'stdout', 'oldest', 1)]);
  writeLines(join(logDir, 'exec.log.1'), [recordLine(at(2), 'stdout', 'newer', 1)]);
  writeLines(join(logDir, 'exec.log'), [recordLine(at(3), 'stdout', 'live', 1)]);
  assert.deepEqual(texts(await readLogs({ logDir })), ['oldest', 'newer', 'live']);
});

test('rotated files are read even when there is no live exec.log', async (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log.2'), [recordLine(at(1), 'stdout', 'a', 1)]);
  writeLines(join(logDir, 'exec.log.1'), [recordLine(at(2), 'stdout', 'b', 1)]);
  assert.deepEqual(texts(await readLogs({ logDir })), ['a', 'b']);
});

test('every entry of a merged, rotated snapshot resumes exactly after itself', async (t) => {
  const logDir = tempDir(t);
  writeLines(
    join(logDir, 'exec.log.1'),
    [1, 3].map((n) => recordLine(at(n), 'stdout', `e${n}`, 1)),
  );
  writeLines(
    join(logDir, 'exec.log'),
    [5, 7].map((n) => recordLine(at(n), 'stderr', `e${n}`, 2)),
  );
  writeLines(
    join(logDir, 'runtime.log'),
    [2, 4, 6, 8].map((n) => `${at(n)} r${n}`),
  );
  const all = await readLogs({ logDir }, { sources: 'all' });
  assert.deepEqual(texts(all), ['e1', 'r2\n', 'e3', 'r4\n', 'e5', 'r6\n', 'e7', 'r8\n']);
  for (const [i, entry] of all.entries()) {
    const rest = await readLogs({ logDir }, { sources: 'all', afterCursor: entry.cursor });
    assert.deepEqual(texts(rest), texts(all.slice(i + 1)), `after entry ${i}`);
  }
});

test('a directory without log files gives no entries and the start cursor', async (t) => {
  const logDir = tempDir(t);
  const handle = streamLogs({ logDir }, { sources: 'all' });
  assert.deepEqual(await collect(handle), []);
  assert.equal(handle.cursor, Buffer.concat([Buffer.from([3]), Buffer.alloc(48)]).toString('base64'));
});

test('batches() hands out the same sorted entries in arrays', async (t) => {
  const logDir = tempDir(t);
  writeLines(
    join(logDir, 'exec.log'),
    Array.from({ length: 20_000 }, (_, i) => recordLine(at(2 * i), 'stdout', `e${i}`, 1)),
  );
  writeLines(
    join(logDir, 'runtime.log'),
    Array.from({ length: 100 }, (_, i) => `${at(2 * i + 1)} r${i}`),
  );
  const flat = [];
  let batches = 0;
  for await (const batch of streamLogs({ logDir }, { sources: 'all' }).batches()) {
    assert.ok(Array.isArray(batch) && batch.length > 0);
    batches += 1;
    flat.push(...batch);
  }
  assert.ok(batches > 1);
  assert.equal(flat.length, 20_100);
  const times = flat.map((e) => e.timestamp.getTime());
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
  );
  assert.deepEqual(texts(flat.slice(0, 4)), ['e0', 'r0\n', 'e1', 'r1\n']);
});
