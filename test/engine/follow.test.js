// Following: appended records arrive, unfinished lines wait, cursors are
// checked before the first entry, streams end on abort or break and release
// their shared directory watcher; long records are read whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidCursorError, readLogs, readLogsSnapshot, streamLogs } from '../../dist/index.js';
import { watchedDirectoryCount } from '../../dist/engine/watch.js';
import { spawn } from 'node:child_process';
import {
  ROOT,
  at,
  handCursor,
  inodeOf,
  recordLine,
  take,
  tempDir,
  texts,
  waitFor,
  waitForExit,
  withTimeout,
  writeLines,
  DEADLINE_MS,
} from '../helpers.js';

const line = (n, d = `line ${n}\n`) => `${recordLine(at(n), 'stdout', d, 1)}\n`;

function follow(t, logDir, options = {}) {
  const controller = new AbortController();
  const handle = streamLogs({ logDir }, { follow: true, signal: controller.signal, ...options });
  const iterator = handle[Symbol.asyncIterator]();
  t.after(() => {
    controller.abort();
    return iterator.return?.();
  });
  return { handle, iterator, controller };
}

test('a follower gets what is there, then each append as it is written', async (t) => {
  const logDir = tempDir(t);
  writeFileSync(join(logDir, 'exec.log'), line(1));
  const { iterator } = follow(t, logDir);
  assert.deepEqual(texts(await take(iterator, 1)), ['line 1\n']);
  for (let n = 2; n <= 5; n++) {
    appendFileSync(join(logDir, 'exec.log'), line(n));
    assert.deepEqual(texts(await take(iterator, 1)), [`line ${n}\n`]);
  }
});

test('a follower started before exec.log exists picks it up when it appears', async (t) => {
  const logDir = tempDir(t);
  const { iterator } = follow(t, logDir);
  const next = take(iterator, 2);
  writeFileSync(join(logDir, 'exec.log'), line(1) + line(2));
  assert.deepEqual(texts(await next), ['line 1\n', 'line 2\n']);
});

test('a line written in pieces is delivered once, when its newline arrives', async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'exec.log');
  writeFileSync(path, line(1));
  const { iterator, handle } = follow(t, logDir);
  assert.deepEqual(texts(await take(iterator, 1)), ['line 1\n']);
  const whole = line(2, 'written in pieces\n');
  const pending = take(iterator, 1);
  appendFileSync(path, whole.slice(0, 10));
  appendFileSync(path, whole.slice(10, 40));
  appendFileSync(path, whole.slice(40));
  assert.deepEqual(texts(await pending), ['written in pieces\n']);
  appendFileSync(path, line(3));
  assert.deepEqual(texts(await take(iterator, 1)), ['line 3\n']);
  assert.equal(handle.malformed, 0);
});

test('a cursor whose generation is not in the chain is rejected before the first entry', async (t) => {
  const logDir = tempDir(t);
  writeFileSync(join(logDir, 'exec.log'), line(1));
  const stale = handCursor([[inodeOf(join(logDir, 'exec.log')) + 1_000_000n, 10]]);
  const handle = streamLogs({ logDir }, { afterCursor: stale, follow: true });
  await assert.rejects(withTimeout(handle[Symbol.asyncIterator]().next(), DEADLINE_MS, 'first next()'), (error) => {
    assert.ok(error instanceof InvalidCursorError);
    assert.equal(error.code, 'INVALID_CURSOR');
    assert.match(error.message, /not in the current rotation chain/);
    return true;
  });
  await assert.rejects(readLogs({ logDir }, { afterCursor: stale }), InvalidCursorError);
  assert.equal(watchedDirectoryCount(), 0);
});

test('a cursor string that does not decode is rejected when the stream is created', (t) => {
  const logDir = tempDir(t);
  assert.throws(() => streamLogs({ logDir }, { afterCursor: 'garbage!!' }), InvalidCursorError);
});

test('a cursor offset that is not a line boundary of its file is an invalid cursor', async (t) => {
  const logDir = tempDir(t);
  writeFileSync(join(logDir, 'exec.log'), line(1) + line(2));
  const ino = inodeOf(join(logDir, 'exec.log'));
  await assert.rejects(readLogs({ logDir }, { afterCursor: handCursor([[ino, 5]]) }), InvalidCursorError);
  await assert.rejects(readLogs({ logDir }, { afterCursor: handCursor([[ino, 1_000_000]]) }), InvalidCursorError);
  assert.deepEqual(texts(await readLogs({ logDir }, { afterCursor: handCursor([[0, 0]]) })), ['line 1\n', 'line 2\n']);
});

test('aborting the signal ends a waiting follower cleanly', async (t) => {
  const logDir = tempDir(t);
  writeFileSync(join(logDir, 'exec.log'), line(1));
  const { iterator, controller } = follow(t, logDir);
  assert.equal((await take(iterator, 1)).length, 1);
  const waiting = iterator.next();
  controller.abort();
  assert.deepEqual(await withTimeout(waiting, DEADLINE_MS, 'end after abort'), { value: undefined, done: true });
  await waitFor(() => watchedDirectoryCount() === 0, { what: 'the watcher to be released' });
});

test('breaking out of for await releases the watcher', async (t) => {
  const logDir = tempDir(t);
  writeFileSync(join(logDir, 'exec.log'), line(1) + line(2));
  const before = watchedDirectoryCount();
  const seen = [];
  await withTimeout(
    (async () => {
      for await (const entry of streamLogs({ logDir }, { follow: true })) {
        seen.push(entry.text());
        assert.equal(watchedDirectoryCount(), before + 1);
        if (seen.length === 2) break;
      }
    })(),
    DEADLINE_MS,
    'for await with break',
  );
  assert.deepEqual(seen, ['line 1\n', 'line 2\n']);
  assert.equal(watchedDirectoryCount(), before);
});

test('many streams following one directory share one watcher, released with the last', async (t) => {
  const logDir = tempDir(t);
  const otherDir = tempDir(t);
  writeFileSync(join(logDir, 'exec.log'), line(1));
  writeFileSync(join(otherDir, 'exec.log'), line(1));
  const streams = [];
  for (let i = 0; i < 20; i++) {
    const handle = streamLogs({ logDir: i === 19 ? otherDir : logDir }, { follow: true });
    const iterator = handle[Symbol.asyncIterator]();
    assert.equal((await take(iterator, 1)).length, 1);
    streams.push({ handle, iterator });
  }
  assert.equal(watchedDirectoryCount(), 2);
  // Every follower still wakes on an append.
  const pending = streams.slice(0, 19).map(({ iterator }) => take(iterator, 1));
  appendFileSync(join(logDir, 'exec.log'), line(2));
  for (const got of await Promise.all(pending)) assert.deepEqual(texts(got), ['line 2\n']);
  for (const [i, { iterator }] of streams.entries()) {
    await iterator.return();
    if (i < 18) assert.equal(watchedDirectoryCount(), 2);
  }
  assert.equal(watchedDirectoryCount(), 0);
});

test('close() on a handle ends a waiting follow cleanly, delivers nothing more and releases the watcher', async (t) => {
  const logDir = tempDir(t);
  writeFileSync(join(logDir, 'exec.log'), line(1));
  const handle = streamLogs({ logDir }, { follow: true, pollIntervalMs: 50 });
  const iterator = handle[Symbol.asyncIterator]();
  await take(iterator, 1);
  const waiting = iterator.next();
  await handle.close();
  // Written after close: never delivered, and nothing is delivered again.
  appendFileSync(join(logDir, 'exec.log'), line(2));
  assert.deepEqual(await withTimeout(waiting, DEADLINE_MS, 'end after close'), { value: undefined, done: true });
  assert.deepEqual(await iterator.next(), { value: undefined, done: true });
  assert.equal(watchedDirectoryCount(), 0);
  assert.deepEqual(texts(await readLogs({ logDir }, { afterCursor: handle.cursor })), ['line 2\n']);
});

test('a 5 MiB record is read whole, between ordinary ones', async (t) => {
  const logDir = tempDir(t);
  const big = `${'x'.repeat(5 * 1024 * 1024 - 3)}end`;
  writeFileSync(join(logDir, 'exec.log'), line(1) + line(2, big) + line(3));
  const entries = await readLogs({ logDir });
  assert.equal(entries.length, 3);
  assert.equal(entries[1].data.length, big.length);
  assert.ok(entries[1].text() === big);
  assert.equal(entries[2].text(), 'line 3\n');
  assert.deepEqual(
    texts(await readLogs({ logDir }, { tail: 2 })).map((s) => s.length),
    [big.length, 7],
  );
});

test('a 5 MiB record appended while following arrives whole, once', async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'exec.log');
  writeFileSync(path, line(1));
  const { iterator } = follow(t, logDir);
  await take(iterator, 1);
  const big = line(2, 'y'.repeat(5 * 1024 * 1024));
  const pending = take(iterator, 2, DEADLINE_MS);
  for (let from = 0; from < big.length; from += 1024 * 1024) appendFileSync(path, big.slice(from, from + 1024 * 1024));
  appendFileSync(path, line(3));
  const got = await pending;
  assert.equal(got[0].data.length, 5 * 1024 * 1024);
  assert.equal(got[1].text(), 'line 3\n');
});

test('a snapshot then a follow from its cursor loses and repeats nothing written in between', async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'exec.log');
  writeLines(
    path,
    [1, 2, 3].map((n) => recordLine(at(n), 'stdout', `s${n}`, 1)),
  );
  const snapshot = await readLogsSnapshot({ logDir }, { tail: 2 });
  assert.deepEqual(texts(snapshot.entries), ['s2', 's3']);
  appendFileSync(path, line(4) + line(5));
  const { iterator } = follow(t, logDir, { afterCursor: snapshot.cursor });
  assert.deepEqual(texts(await take(iterator, 2)), ['line 4\n', 'line 5\n']);
  appendFileSync(path, line(6));
  assert.deepEqual(texts(await take(iterator, 1)), ['line 6\n']);
});

test('aborting between entries releases the watcher, and the process can exit without another next()', async (t) => {
  const logDir = tempDir(t);
  writeFileSync(join(logDir, 'exec.log'), line(1));
  const child = spawn(process.execPath, [join(ROOT, 'test', 'fixtures', 'abort-between-entries.js'), logDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const { code } = await waitForExit(child, DEADLINE_MS);
  assert.equal(code, 0);
  assert.equal(out, 'line 1 0\n');
});

test('a file truncated in place while followed is read again from its start, with a warning', async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'exec.log');
  writeLines(
    path,
    [1, 2, 3].map((n) => recordLine(at(n), 'stdout', `before ${n} ${'.'.repeat(40)}`, 1)),
  );
  const warnings = [];
  const controller = new AbortController();
  const iterator = streamLogs(
    { logDir },
    { follow: true, signal: controller.signal, pollIntervalMs: 50, onWarning: (w) => warnings.push(w) },
  )[Symbol.asyncIterator]();
  t.after(() => {
    controller.abort();
    return iterator.return();
  });
  assert.equal((await take(iterator, 3)).length, 3);
  truncateSync(path, 0);
  appendFileSync(path, `${recordLine(at(4), 'stdout', 'after truncation', 1)}\n`);
  assert.deepEqual(texts(await take(iterator, 1)), ['after truncation']);
  assert.deepEqual(
    warnings.map((w) => w.code),
    ['FILE_TRUNCATED'],
  );
});

test('a follower that has read to the end gets what comes next in one go: an append, a rename, the new file', async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'exec.log');
  writeFileSync(path, line(1));
  const { iterator } = follow(t, logDir);
  assert.deepEqual(texts(await take(iterator, 1)), ['line 1\n']);
  for (let round = 0; round < 5; round++) {
    const base = 2 + round * 3;
    // All in one turn of this process: the follower learns of them from the same batch of events.
    appendFileSync(path, line(base));
    appendFileSync(path, line(base + 1));
    renameSync(path, `${path}.1`);
    writeFileSync(path, line(base + 2));
    assert.deepEqual(texts(await take(iterator, 3)), [`line ${base}\n`, `line ${base + 1}\n`, `line ${base + 2}\n`]);
    // The next append to the new file, after its follower has drained it.
    appendFileSync(path, line(100 + round));
    assert.deepEqual(texts(await take(iterator, 1)), [`line ${100 + round}\n`]);
  }
});
