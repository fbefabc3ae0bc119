// Checkpoints: a cursor plus the digest of the line each position ends after.
// A checkpoint resumes exactly like its cursor while its files are retained;
// once a file has left retention it fails with MissedRotationError — also,
// and above all, when a newer exec.log has taken the file's inode number (ext4
// gives it away at once), where the bare cursor resumes in the wrong file
// without a word.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ExecLogWriter,
  InvalidCursorError,
  MissedRotationError,
  OptionsError,
  readLogs,
  recordDigest,
  streamLogs,
} from '../../dist/index.js';
import {
  at,
  collect,
  inodeOf,
  recordLine,
  rotateUntilInodeReused,
  take,
  tempDir,
  texts,
  writeLines,
} from '../helpers.js';

const body = (n) => `record ${String(n).padStart(6, '0')}\n`;
const numberOf = (entry) => Number(entry.text().slice(7, 13));

/** The digest as the checkpoint contract defines it, computed independently: SHA-256 of the line, 12 bytes, base64url. */
function expectedDigest(line) {
  return createHash('sha256').update(line).digest().subarray(0, 12).toString('base64url');
}

/** The checkpoint after the last entry of a snapshot of `logDir`. */
async function checkpointAtEnd(logDir, options = {}) {
  const handle = streamLogs({ logDir }, options);
  const entries = await collect(handle);
  return { entries, checkpoint: await handle.checkpoint(entries.at(-1).cursor) };
}

test('recordDigest is SHA-256 of the line, its first 12 bytes in unpadded base64url', () => {
  const line = Buffer.from('{"t":"2026-04-30T20:00:00.000Z","s":"stdout","d":"hi\\n","id":1}');
  assert.equal(recordDigest(line), expectedDigest(line));
  assert.match(recordDigest(line), /^[A-Za-z0-9_-]{16}$/);
  assert.notEqual(recordDigest(line), recordDigest(Buffer.concat([line, Buffer.from(' ')])));
});

test('a checkpoint holds the cursor and the digest of the record line it ends after', async (t) => {
  const logDir = tempDir(t);
  const lines = [1, 2, 3].map((n) => recordLine(at(n), 'stdout', `line ${n}\n`, 1));
  writeLines(join(logDir, 'exec.log'), lines);
  const { entries, checkpoint } = await checkpointAtEnd(logDir);
  assert.equal(checkpoint.cursor, entries.at(-1).cursor);
  assert.deepEqual(checkpoint.digests, [expectedDigest(Buffer.from(lines[2]))]);
  // Any entry's cursor, not only the last: the second entry's checkpoint names the second line.
  const handle = streamLogs({ logDir });
  const all = await collect(handle);
  assert.deepEqual((await handle.checkpoint(all[1].cursor)).digests, [expectedDigest(Buffer.from(lines[1]))]);
  // Three files read, three digests; a file with nothing read yet has none.
  const system = await checkpointAtEnd(logDir, { sources: 'all' });
  assert.equal(system.checkpoint.digests.length, 3);
  assert.deepEqual(system.checkpoint.digests.slice(1), [null, null]);
});

test('resuming from a checkpoint continues strictly after its entry, across rotations within retention', async (t) => {
  const logDir = tempDir(t);
  const writer = new ExecLogWriter(logDir, { maxBytes: 300 }); // 75-byte records, four to a file
  t.after(() => writer.close());
  for (let n = 0; n < 6; n++) writer.write('stdout', body(n), 1);
  writer.flush();
  const { checkpoint } = await checkpointAtEnd(logDir);
  for (let n = 6; n < 16; n++) writer.write('stdout', body(n), 1);
  writer.flush();
  assert.ok(writer.rotations >= 2);
  assert.deepEqual(
    (await readLogs({ logDir }, { afterCheckpoint: checkpoint })).map(numberOf),
    Array.from({ length: 10 }, (_, i) => i + 6),
  );
  const controller = new AbortController();
  t.after(() => controller.abort());
  const iterator = streamLogs({ logDir }, { afterCheckpoint: checkpoint, follow: true, signal: controller.signal })[
    Symbol.asyncIterator
  ]();
  assert.deepEqual(
    (await take(iterator, 10)).map(numberOf),
    Array.from({ length: 10 }, (_, i) => i + 6),
  );
  writer.write('stdout', body(16), 1);
  writer.flush();
  assert.deepEqual((await take(iterator, 1)).map(numberOf), [16]);
  await iterator.return();
});

/**
 * A log directory whose live exec.log is a newer file carrying the inode number of the file a checkpoint
 * was taken in, past the checkpoint's offset: { logDir, writer, checkpoint, generation, offset, next }
 * (`next`: the number of the next record), or undefined when the filesystem never gave the number back.
 */
async function checkpointIntoReusedInode(t) {
  for (let attempt = 0; attempt < 10; attempt++) {
    const logDir = tempDir(t);
    const writer = new ExecLogWriter(logDir, { maxBytes: 600 }); // 75-byte records: eight to a file
    t.after(() => writer.close());
    let n = 0;
    for (; n < 3; n++) writer.write('stdout', body(n), 1);
    writer.flush();
    const { checkpoint } = await checkpointAtEnd(logDir);
    const generation = inodeOf(join(logDir, 'exec.log'));
    const offset = readFileSync(join(logDir, 'exec.log')).length;
    const rotations = rotateUntilInodeReused(writer, logDir, generation, offset, () =>
      writer.write('stdout', body(n++), 1),
    );
    if (rotations === undefined) continue; // another process took the number first: try again
    t.diagnostic(
      `inode ${generation} came back as the live exec.log after ${rotations} rotations (attempt ${attempt + 1})`,
    );
    const rotationsBefore = writer.rotations;
    for (let more = 0; more < 2; more++) writer.write('stdout', body(n++), 1);
    writer.flush();
    assert.equal(writer.rotations, rotationsBefore);
    return { logDir, writer, checkpoint, generation, offset, next: n };
  }
  return undefined;
}

test('a checkpoint whose exec.log went to a newer file under the same inode number fails with MissedRotationError; the bare cursor resumes in the wrong file', async (t) => {
  const reused = await checkpointIntoReusedInode(t);
  if (reused === undefined) {
    t.skip('this filesystem does not give a deleted file inode number to the next new file');
    return;
  }
  const { logDir, checkpoint, generation, offset } = reused;
  // The danger: the bare cursor resolves into the newer file and resumes in its middle, silently.
  const silent = await readLogs({ logDir }, { afterCursor: checkpoint.cursor });
  assert.ok(silent.length > 0 && numberOf(silent[0]) !== 3, 'the bare cursor resumed in the newer file');
  // The checkpoint says what happened, before any entry, not following and following.
  const expectMissed = (error) => {
    assert.ok(error instanceof MissedRotationError, `expected MissedRotationError, got ${error}`);
    assert.equal(error.code, 'MISSED_ROTATION');
    assert.equal(error.generation, generation);
    assert.equal(error.offset, offset);
    assert.match(error.message, /newer file has its inode number/);
    return true;
  };
  await assert.rejects(readLogs({ logDir }, { afterCheckpoint: checkpoint }), expectMissed);
  const handle = streamLogs({ logDir }, { afterCheckpoint: checkpoint, follow: true });
  await assert.rejects(handle[Symbol.asyncIterator]().next(), expectMissed);
  await handle.close();
});

test('a checkpoint whose file has left the rotation chain fails with MissedRotationError', async (t) => {
  const logDir = tempDir(t);
  const writer = new ExecLogWriter(logDir, { maxBytes: 300 });
  for (let n = 0; n < 6; n++) writer.write('stdout', body(n), 1);
  writer.close();
  const handle = streamLogs({ logDir });
  const entries = await collect(handle);
  const checkpoint = await handle.checkpoint(entries[1].cursor); // inside exec.log.1
  unlinkSync(join(logDir, 'exec.log.1'));
  await assert.rejects(readLogs({ logDir }, { afterCheckpoint: checkpoint }), (error) => {
    assert.ok(error instanceof MissedRotationError, String(error));
    assert.match(error.message, /left the rotation chain/);
    return true;
  });
  // The bare cursor keeps its documented error.
  await assert.rejects(readLogs({ logDir }, { afterCursor: checkpoint.cursor }), InvalidCursorError);
});

test('exec.log rewritten in place past the checkpoint (copytruncate) is a missed rotation, not a resume', async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'exec.log');
  writeLines(
    path,
    [1, 2].map((n) => recordLine(at(n), 'stdout', `first ${n}\n`, 1)),
  );
  const { checkpoint } = await checkpointAtEnd(logDir);
  truncateSync(path, 0);
  writeLines(
    path,
    [3, 4, 5].map((n) => recordLine(at(n), 'stdout', `other ${n}\n`, 1)),
  );
  await assert.rejects(readLogs({ logDir }, { afterCheckpoint: checkpoint }), MissedRotationError);
});

test('runtime.log rewritten in place under its inode number is read again from its start', async (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log'), [recordLine(at(1), 'stdout', 'exec\n', 1)]);
  writeFileSync(join(logDir, 'runtime.log'), `${at(2)} old one\n${at(3)} old two\n`);
  const { checkpoint } = await checkpointAtEnd(logDir, { sources: 'all' });
  assert.equal(checkpoint.digests.length, 3);
  writeFileSync(join(logDir, 'runtime.log'), `${at(4)} new one, longer than before\n${at(5)} new two\n`);
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: 'all', afterCheckpoint: checkpoint })), [
    'new one, longer than before\n',
    'new two\n',
  ]);
});

test('a checkpoint taken after its file had left the chain (null digest) never resumes, even into a file with its number', async (t) => {
  const logDir = tempDir(t);
  writeLines(
    join(logDir, 'exec.log'),
    [1, 2, 3].map((n) => recordLine(at(n), 'stdout', `line ${n}\n`, 1)),
  );
  const entries = await readLogs({ logDir });
  // Same inode, same offsets, but the checkpoint says its file was gone: this cannot be its file.
  await assert.rejects(
    readLogs({ logDir }, { afterCheckpoint: { cursor: entries[0].cursor, digests: [null] } }),
    MissedRotationError,
  );
  // A position at the start of a file is "from the beginning": nothing to check.
  assert.equal(
    (await readLogs({ logDir }, { afterCheckpoint: { cursor: 'AQAAAAAAAAAAAAAAAAAAAAA=', digests: [null] } })).length,
    3,
  );
});

test('malformed checkpoints are InvalidCursorErrors; conflicting start options are OptionsErrors', (t) => {
  const logDir = tempDir(t);
  const cursor = 'AA==';
  for (const bad of [
    null,
    'AA==',
    { cursor },
    { cursor: 7, digests: [] },
    { cursor: 'nope', digests: [] },
    { cursor, digests: ['x'] },
    { cursor, digests: [42] },
  ]) {
    assert.throws(() => streamLogs({ logDir }, { afterCheckpoint: bad }), InvalidCursorError, JSON.stringify(bad));
  }
  const good = { cursor, digests: [] };
  for (const other of [{ afterCursor: cursor }, { since: '1h' }, { tail: 3 }]) {
    assert.throws(
      () => streamLogs({ logDir }, { afterCheckpoint: good, ...other }),
      OptionsError,
      JSON.stringify(other),
    );
  }
});
