// The cursor codec (FORMAT.md "Cursor string"): hand-computed strings, parse
// errors, and cursors of real files equal to their inode and byte offsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCursor, encodeCursor, InvalidCursorError, readLogs } from '../../dist/index.js';
import { START_POSITION } from '../../dist/format/cursor.js';
import { at, handCursor, inodeOf, recordLine, tempDir, writeLines } from '../helpers.js';

test('the FORMAT.md example (generation 42, offset 100) encodes to ASoAAAAAAAAAZAAAAAAAAAA=', () => {
  assert.equal(encodeCursor([{ generation: 42n, offset: 100 }]), 'ASoAAAAAAAAAZAAAAAAAAAA=');
  assert.deepEqual(decodeCursor('ASoAAAAAAAAAZAAAAAAAAAA='), [{ generation: 42n, offset: 100 }]);
  const bytes = Buffer.from('ASoAAAAAAAAAZAAAAAAAAAA=', 'base64');
  assert.equal(bytes.toString('hex'), '01' + '2a00000000000000' + '6400000000000000');
});

test('the empty cursor is AA== and decodes to no positions', () => {
  assert.equal(encodeCursor([]), 'AA==');
  assert.deepEqual(decodeCursor('AA=='), []);
});

test('cursors round-trip, including generations beyond 2^53 and several positions', () => {
  const cases = [
    [START_POSITION],
    [{ generation: 1n, offset: 0 }],
    [{ generation: 0xffff_ffff_ffff_ffffn, offset: Number.MAX_SAFE_INTEGER }],
    [{ generation: 2n ** 60n + 7n, offset: 12345 }, START_POSITION, { generation: 99n, offset: 1 }],
  ];
  for (const positions of cases) {
    const cursor = encodeCursor(positions);
    assert.equal(Buffer.from(cursor, 'base64').length, 1 + 16 * positions.length);
    assert.deepEqual(
      decodeCursor(cursor),
      positions.map((p) => ({ generation: p.generation, offset: p.offset })),
    );
    assert.equal(cursor, handCursor(positions.map((p) => [p.generation, p.offset])));
  }
});

test('a string that is not base64 is refused with "not valid base64"', () => {
  for (const bad of ['', 'not a cursor!', 'AA=', 'A', '@@@@', 'AA==AA==', ' AA==']) {
    assert.throws(
      () => decodeCursor(bad),
      (error) => {
        assert.ok(error instanceof InvalidCursorError, `${JSON.stringify(bad)}: ${error}`);
        assert.equal(error.code, 'INVALID_CURSOR');
        assert.match(error.message, /not valid base64/);
        return true;
      },
    );
  }
});

test('a cursor whose length is not 1 + 16 × count is refused as the wrong length', () => {
  const tooShort = Buffer.from(Buffer.from('ASoAAAAAAAAAZAAAAAAAAAA=', 'base64').subarray(0, 16)).toString('base64');
  const tooLong = Buffer.concat([Buffer.from('ASoAAAAAAAAAZAAAAAAAAAA=', 'base64'), Buffer.alloc(1)]).toString(
    'base64',
  );
  const countTwoWithOne = Buffer.concat([Buffer.from([2]), Buffer.alloc(16)]).toString('base64');
  for (const bad of [tooShort, tooLong, countTwoWithOne, Buffer.from([1]).toString('base64')]) {
    assert.throws(
      () => decodeCursor(bad),
      (error) => {
        assert.ok(error instanceof InvalidCursorError);
        assert.match(error.message, /wrong length/);
        return true;
      },
    );
  }
});

test("an entry's cursor is the exec.log inode and the byte offset just after its line", async (t) => {
  const logDir = tempDir(t);
  const lines = [recordLine(at(1), 'stdout', 'first\n', 1), recordLine(at(2), 'stderr', 'second — ✓\n', 1)];
  const path = join(logDir, 'exec.log');
  writeLines(path, lines);
  const ino = statSync(path, { bigint: true }).ino;
  const entries = await readLogs({ logDir });
  assert.equal(entries.length, 2);
  const firstEnd = Buffer.byteLength(lines[0]) + 1;
  const secondEnd = firstEnd + Buffer.byteLength(lines[1]) + 1;
  assert.equal(entries[0].cursor, handCursor([[ino, firstEnd]]));
  assert.equal(entries[1].cursor, handCursor([[ino, secondEnd]]));
  assert.deepEqual(decodeCursor(entries[1].cursor), [{ generation: ino, offset: secondEnd }]);
});

test('with every source, cursors hold three positions: exec.log, runtime.log, kernel.log', async (t) => {
  const logDir = tempDir(t);
  const exec = [recordLine(at(1), 'stdout', 'out\n', 1)];
  const runtime = [`${at(2)} runtime line`];
  const kernel = [`${at(3)} kernel line`];
  writeLines(join(logDir, 'exec.log'), exec);
  writeLines(join(logDir, 'runtime.log'), runtime);
  writeLines(join(logDir, 'kernel.log'), kernel);
  const [execIno, runtimeIno, kernelIno] = ['exec.log', 'runtime.log', 'kernel.log'].map((f) =>
    inodeOf(join(logDir, f)),
  );
  const execEnd = Buffer.byteLength(exec[0]) + 1;
  const runtimeEnd = Buffer.byteLength(runtime[0]) + 1;
  const kernelEnd = Buffer.byteLength(kernel[0]) + 1;

  const entries = await readLogs({ logDir }, { sources: ['all'] });
  assert.deepEqual(
    entries.map((e) => e.text()),
    ['out\n', 'runtime line\n', 'kernel line\n'],
  );
  // Files not read yet sit at (0, 0): "from the beginning".
  assert.equal(
    entries[0].cursor,
    handCursor([
      [execIno, execEnd],
      [0, 0],
      [0, 0],
    ]),
  );
  assert.equal(
    entries[1].cursor,
    handCursor([
      [execIno, execEnd],
      [runtimeIno, runtimeEnd],
      [0, 0],
    ]),
  );
  assert.equal(
    entries[2].cursor,
    handCursor([
      [execIno, execEnd],
      [runtimeIno, runtimeEnd],
      [kernelIno, kernelEnd],
    ]),
  );
});

test('with the default sources a cursor holds one position (exec.log only)', async (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log'), [recordLine(at(1), 'stdout', 'x', 1)]);
  writeLines(join(logDir, 'runtime.log'), [`${at(0)} ignored`]);
  const entries = await readLogs({ logDir });
  assert.equal(entries.length, 1);
  assert.equal(decodeCursor(entries[0].cursor).length, 1);
});
