// Choosing what a read returns: since (inclusive), until (exclusive, per
// source), tail N (after the source and grep filters, across rotated files),
// and the snapshot cursor that a follower continues from with no gap and no
// duplicate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { OptionsError, readLogs, readLogsSnapshot, streamLogs } from '../../dist/index.js';
import { at, collect, recordLine, take, tempDir, texts, writeLines } from '../helpers.js';

function numbered(logDir, name, numbers, source = 'stdout') {
  writeLines(
    join(logDir, name),
    numbers.map((n) => recordLine(at(n), source, `r${n}`, 1)),
  );
}

test('since is inclusive', async (t) => {
  const logDir = tempDir(t);
  numbered(logDir, 'exec.log', [1, 2, 3, 4, 5]);
  assert.deepEqual(texts(await readLogs({ logDir }, { since: at(3) })), ['r3', 'r4', 'r5']);
  assert.deepEqual(texts(await readLogs({ logDir }, { since: new Date(at(3)) })), ['r3', 'r4', 'r5']);
  assert.deepEqual(texts(await readLogs({ logDir }, { since: Date.parse(at(3)) + 1 })), ['r4', 'r5']);
});

test('since passes over whole rotated files older than it and starts inside the right one', async (t) => {
  const logDir = tempDir(t);
  numbered(logDir, 'exec.log.2', [1, 2]);
  numbered(logDir, 'exec.log.1', [3, 4]);
  numbered(logDir, 'exec.log', [5, 6]);
  assert.deepEqual(texts(await readLogs({ logDir }, { since: at(4) })), ['r4', 'r5', 'r6']);
  const { entries, cursor } = await readLogsSnapshot({ logDir }, { since: at(7) });
  assert.deepEqual(entries, []);
  appendFileSync(join(logDir, 'exec.log'), `${recordLine(at(8), 'stdout', 'r8', 1)}\n`);
  assert.deepEqual(texts(await readLogs({ logDir }, { afterCursor: cursor })), ['r8']);
});

test('until is exclusive', async (t) => {
  const logDir = tempDir(t);
  numbered(logDir, 'exec.log', [1, 2, 3, 4, 5]);
  assert.deepEqual(texts(await readLogs({ logDir }, { until: at(3) })), ['r1', 'r2']);
  assert.deepEqual(texts(await readLogs({ logDir }, { since: at(2), until: at(4) })), ['r2', 'r3']);
});

test('until ends each source on its own: a source past until does not cut another short', async (t) => {
  const logDir = tempDir(t);
  numbered(logDir, 'exec.log', [1, 10, 11]);
  writeLines(
    join(logDir, 'runtime.log'),
    [2, 3, 4, 12].map((n) => `${at(n)} t${n}`),
  );
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: 'all', until: at(5) })), ['r1', 't2\n', 't3\n', 't4\n']);
});

test('until while following ends each source on its own, and the stream once every source has passed it', async (t) => {
  const logDir = tempDir(t);
  const now = Date.now();
  const iso = (offsetMs) => new Date(now + offsetMs).toISOString();
  const until = new Date(now + 3_600_000);
  // exec.log is already past `until`; runtime.log has not caught up yet.
  writeLines(join(logDir, 'exec.log'), [
    recordLine(iso(0), 'stdout', 'exec early', 1),
    recordLine(iso(7_200_000), 'stdout', 'exec late', 1),
  ]);
  writeLines(join(logDir, 'runtime.log'), [`${iso(1)} runtime one`]);
  writeLines(join(logDir, 'kernel.log'), [`${iso(7_200_000)} kernel late`]);
  const handle = streamLogs({ logDir }, { sources: 'all', until, follow: true, pollIntervalMs: 50 });
  const iterator = handle[Symbol.asyncIterator]();
  assert.deepEqual(texts(await take(iterator, 2)), ['exec early', 'runtime one\n']);
  appendFileSync(join(logDir, 'runtime.log'), `${iso(2)} runtime two\n`);
  assert.deepEqual(texts(await take(iterator, 1)), ['runtime two\n']);
  appendFileSync(join(logDir, 'runtime.log'), `${iso(7_200_001)} runtime late\n`);
  const rest = await take(iterator, 1);
  assert.deepEqual(rest, [], 'the stream ends once both sources passed until');
});

test('tail N gives the last N entries, oldest first', async (t) => {
  const logDir = tempDir(t);
  numbered(logDir, 'exec.log', [1, 2, 3, 4, 5]);
  assert.deepEqual(texts(await readLogs({ logDir }, { tail: 2 })), ['r4', 'r5']);
  assert.deepEqual(texts(await readLogs({ logDir }, { tail: 10 })), ['r1', 'r2', 'r3', 'r4', 'r5']);
  assert.deepEqual(await readLogs({ logDir }, { tail: 0 }), []);
});

test('tail counts after the source filter and grep, like grep | tail -n', async (t) => {
  const logDir = tempDir(t);
  const lines = [];
  for (let n = 1; n <= 20; n++)
    lines.push(recordLine(at(n), n % 2 === 0 ? 'stderr' : 'stdout', `line ${n}${n % 3 === 0 ? ' match' : ''}`, 1));
  writeLines(join(logDir, 'exec.log'), lines);
  assert.deepEqual(texts(await readLogs({ logDir }, { tail: 3, sources: ['stderr'] })), [
    'line 16',
    'line 18 match',
    'line 20',
  ]);
  assert.deepEqual(texts(await readLogs({ logDir }, { tail: 2, grep: 'match' })), ['line 15 match', 'line 18 match']);
  assert.deepEqual(texts(await readLogs({ logDir }, { tail: 2, grep: /match/, sources: ['stdout'] })), [
    'line 9 match',
    'line 15 match',
  ]);
});

test('tail reaches back across rotated files', async (t) => {
  const logDir = tempDir(t);
  numbered(logDir, 'exec.log.2', [1, 2, 3]);
  numbered(logDir, 'exec.log.1', [4, 5, 6]);
  numbered(logDir, 'exec.log', [7, 8]);
  assert.deepEqual(texts(await readLogs({ logDir }, { tail: 5 })), ['r4', 'r5', 'r6', 'r7', 'r8']);
  assert.deepEqual(texts(await readLogs({ logDir }, { tail: 7 })), ['r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8']);
});

test('tail merges text logs with exec.log when system is asked for', async (t) => {
  const logDir = tempDir(t);
  numbered(logDir, 'exec.log', [1, 3, 5]);
  writeLines(
    join(logDir, 'runtime.log'),
    [2, 4, 6].map((n) => `${at(n)} t${n}`),
  );
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: 'all', tail: 3 })), ['t4\n', 'r5', 't6\n']);
});

test("a tail entry's cursor resumes exactly after it", async (t) => {
  const logDir = tempDir(t);
  numbered(logDir, 'exec.log.1', [1, 2, 3]);
  numbered(logDir, 'exec.log', [4, 5]);
  writeLines(
    join(logDir, 'runtime.log'),
    [2.5, 4.5].map((n) => `${at(n)} t${n}`),
  );
  const tail = await readLogs({ logDir }, { sources: 'all', tail: 4 });
  assert.deepEqual(texts(tail), ['r3', 'r4', 't4.5\n', 'r5']);
  const all = await readLogs({ logDir }, { sources: 'all' });
  for (const entry of tail) {
    const index = all.findIndex((e) => e.text() === entry.text());
    assert.deepEqual(
      texts(await readLogs({ logDir }, { sources: 'all', afterCursor: entry.cursor })),
      texts(all.slice(index + 1)),
    );
  }
});

test('a snapshot cursor sits after everything read: a follow from it gets exactly what is written afterwards', async (t) => {
  const logDir = tempDir(t);
  numbered(logDir, 'exec.log.1', [1, 2]);
  numbered(logDir, 'exec.log', [3, 4]);
  writeLines(join(logDir, 'runtime.log'), [`${at(2.5)} t`]);
  for (const options of [{}, { tail: 1 }, { until: at(3) }, { grep: 'nothing matches' }, { since: at(4) }]) {
    const snapshot = await readLogsSnapshot({ logDir }, { sources: 'all', ...options });
    const marker = `after ${JSON.stringify(options)}`;
    appendFileSync(join(logDir, 'exec.log'), `${recordLine(at(100), 'stdout', marker, 1)}\n`);
    const controller = new AbortController();
    const follower = streamLogs(
      { logDir },
      { sources: 'all', afterCursor: snapshot.cursor, follow: true, signal: controller.signal },
    );
    const iterator = follower[Symbol.asyncIterator]();
    assert.deepEqual(texts(await take(iterator, 1)), [marker], marker);
    appendFileSync(join(logDir, 'runtime.log'), `${at(101)} more\n`);
    assert.deepEqual(texts(await take(iterator, 1)), ['more\n'], marker);
    controller.abort();
    assert.deepEqual(await take(iterator, 1), [], 'aborting ends the stream');
  }
});

test('conflicting start options are an OptionsError before any read', async (t) => {
  const logDir = tempDir(t);
  const cursor = Buffer.from([0]).toString('base64');
  assert.throws(() => streamLogs({ logDir }, { afterCursor: cursor, since: at(1) }), OptionsError);
  assert.throws(() => streamLogs({ logDir }, { afterCursor: cursor, tail: 3 }), OptionsError);
  assert.throws(() => streamLogs({ logDir }, { tail: -1 }), OptionsError);
  assert.throws(() => streamLogs({ logDir }, { sources: ['stdout', 'nope'] }), OptionsError);
  assert.throws(() => streamLogs({ logDir }, { since: 'yesterday' }), OptionsError);
  assert.throws(() => streamLogs({ logDir }, { grep: '(' }), OptionsError);
});

test('tail reads from the end and stops: the lines before the last N are never parsed', async (t) => {
  const logDir = tempDir(t);
  // 20,000 malformed lines in the older files: a reader that parsed them would count them. Over 4 MiB in
  // all, so that the backward read is used (a smaller log is read whole: exact even when out of order).
  const junk = Array.from({ length: 10_000 }, (_, i) => `junk ${i} ${'#'.repeat(250)}`);
  writeLines(join(logDir, 'exec.log.1'), junk);
  writeLines(join(logDir, 'exec.log'), [
    ...junk,
    ...[1, 2, 3, 4, 5].map((n) => recordLine(at(n), 'stdout', `r${n}`, 1)),
  ]);
  const handle = streamLogs({ logDir }, { tail: 3 });
  const entries = [];
  for await (const entry of handle) entries.push(entry);
  assert.deepEqual(texts(entries), ['r3', 'r4', 'r5']);
  assert.equal(handle.malformed, 0);
});

test('since passes over older rotated files without parsing them', async (t) => {
  const logDir = tempDir(t);
  // Over 4 MiB in all, so that files are skipped (a smaller log is read whole).
  const junk = Array.from({ length: 1000 }, () => `junk ${'#'.repeat(2500)}`);
  writeLines(join(logDir, 'exec.log.2'), [...junk, recordLine(at(1), 'stdout', 'r1', 1)]);
  writeLines(join(logDir, 'exec.log.1'), [...junk, recordLine(at(2), 'stdout', 'r2', 1)]);
  numbered(logDir, 'exec.log', [3, 4]);
  const handle = streamLogs({ logDir }, { since: at(3) });
  const entries = [];
  for await (const entry of handle) entries.push(entry);
  assert.deepEqual(texts(entries), ['r3', 'r4']);
  assert.equal(handle.malformed, 0);
});

test("a handle's cursor is that of the last entry handed out, also when the consumer breaks off mid-batch", async (t) => {
  const logDir = tempDir(t);
  writeLines(
    join(logDir, 'exec.log'),
    [1, 2, 3, 4].map((n) => recordLine(at(n), n === 4 ? 'stderr' : 'stdout', `r${n}`, 1)),
  );
  for (const options of [{ sources: 'stdout' }, { sources: 'stdout', tail: 3 }]) {
    const handle = streamLogs({ logDir }, options);
    for await (const entry of handle) {
      assert.equal(entry.text(), 'r1');
      assert.equal(handle.cursor, entry.cursor, `while iterating ${JSON.stringify(options)}`);
      break;
    }
    assert.deepEqual(
      texts(await readLogs({ logDir }, { afterCursor: handle.cursor, sources: 'stdout' })),
      ['r2', 'r3'],
      JSON.stringify(options),
    );
  }
  // Read to the end: the cursor covers everything read, the skipped stderr record included.
  const handle = streamLogs({ logDir }, { sources: 'stdout' });
  assert.deepEqual(texts(await collect(handle)), ['r1', 'r2', 'r3']);
  assert.deepEqual(await readLogs({ logDir }, { afterCursor: handle.cursor, sources: 'all' }), []);
});
