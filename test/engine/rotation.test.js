// Following across rotations: nothing lost or repeated while the writer
// rotates under the reader, resuming from a cursor whose file has rotated,
// and a slow reader that falls out of retention failing loudly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ExecLogWriter, MissedRotationError, readLogs, streamLogs } from '../../dist/index.js';
import { watchedDirectoryCount } from '../../dist/engine/watch.js';
import { ROOT, take, tempDir, waitFor, waitForExit, withTimeout, DEADLINE_MS } from '../helpers.js';

const body = (n) => `record ${String(n).padStart(6, '0')}\n`;
const numberOf = (entry) => Number(entry.text().slice(7, 13));

test('rotation during follow loses and repeats nothing', async (t) => {
  const logDir = tempDir(t);
  // A record is 75 bytes, 27 to a file: 5,000 records make over a hundred rotations.
  const writer = new ExecLogWriter(logDir, { maxBytes: 2048 });
  t.after(() => writer.close());
  const controller = new AbortController();
  const received = [];
  const reading = (async () => {
    for await (const entry of streamLogs({ logDir }, { follow: true, signal: controller.signal, pollIntervalMs: 50 })) {
      received.push(numberOf(entry));
    }
  })();
  const total = 5000;
  const recordsPerFile = 27;
  for (let n = 0; n < total; n++) {
    writer.write('stdout', body(n), 1);
    if (n % 25 === 24) {
      writer.flush();
      // Stay within retention (4 rotated files): never more than two files ahead of the reader.
      await waitFor(() => received.length >= n + 1 - 2 * recordsPerFile, {
        timeoutMs: DEADLINE_MS,
        intervalMs: 1,
        what: `reader to reach ${n + 1 - 2 * recordsPerFile}`,
      });
    }
  }
  writer.flush();
  await waitFor(() => received.length >= total, { timeoutMs: DEADLINE_MS, what: 'every record' });
  controller.abort();
  await withTimeout(reading, DEADLINE_MS, 'follower to end');
  assert.ok(writer.rotations > 100, `rotated ${writer.rotations} times`);
  assert.equal(received.length, total);
  assert.deepEqual(
    received,
    Array.from({ length: total }, (_, i) => i),
  );
  assert.equal(watchedDirectoryCount(), 0);
});

test('a follower in this process keeps up with a writer in a child process that rotates', async (t) => {
  const logDir = tempDir(t);
  const total = 3000;
  const child = fork(join(ROOT, 'test', 'fixtures', 'rotating-writer.js'), [logDir, String(total), '1024'], {
    stdio: 'pipe',
  });
  t.after(() => child.kill('SIGKILL'));
  const received = [];
  const controller = new AbortController();
  const reading = (async () => {
    for await (const entry of streamLogs({ logDir }, { follow: true, signal: controller.signal, pollIntervalMs: 50 })) {
      received.push(numberOf(entry));
      // Tell the writer how far we are: it stays within retention.
      // (A send racing the writer's exit fails harmlessly: the callback takes the error.)
      if (received.length % 10 === 0 && child.connected) child.send(received.length, () => undefined);
    }
  })();
  await waitFor(() => received.length >= total, { timeoutMs: DEADLINE_MS, what: 'every record from the child' });
  controller.abort();
  await withTimeout(reading, DEADLINE_MS, 'follower to end');
  assert.deepEqual(
    received,
    Array.from({ length: total }, (_, i) => i),
  );
  assert.equal((await waitForExit(child)).code, 0);
});

test('resuming from a cursor whose file has since rotated continues in the rotated file', async (t) => {
  const logDir = tempDir(t);
  const writer = new ExecLogWriter(logDir, { maxBytes: 10 * 1024 });
  for (let n = 0; n < 10; n++) writer.write('stdout', body(n), 1);
  writer.flush();
  const before = await readLogs({ logDir });
  const cursor = before[4].cursor; // inside the live exec.log
  // Two rotations: the cursor's file is now exec.log.2.
  writer.appendRecord(
    Buffer.from(`{"t":"${new Date().toISOString()}","s":"stdout","d":"${'p'.repeat(10 * 1024)}","id":9}\n`),
  );
  for (let n = 10; n < 20; n++) writer.write('stdout', body(n), 1);
  writer.close();
  assert.deepEqual(readdirSync(logDir).sort(), ['exec.log', 'exec.log.1', 'exec.log.2']);
  const after = (await readLogs({ logDir }, { afterCursor: cursor })).filter((e) => e.sessionId === 1);
  assert.deepEqual(
    after.map(numberOf),
    Array.from({ length: 15 }, (_, i) => i + 5),
  );
  // And the same while following.
  const controller = new AbortController();
  const iterator = streamLogs({ logDir }, { afterCursor: cursor, follow: true, signal: controller.signal })[
    Symbol.asyncIterator
  ]();
  t.after(() => controller.abort());
  const followed = (await take(iterator, 16)).filter((e) => e.sessionId === 1);
  assert.deepEqual(
    followed.map(numberOf),
    Array.from({ length: 15 }, (_, i) => i + 5),
  );
  controller.abort();
  await iterator.return();
});

test('a cursor taken while following resumes across a rotation that happened afterwards', async (t) => {
  const logDir = tempDir(t);
  const writer = new ExecLogWriter(logDir, { maxBytes: 200 });
  t.after(() => writer.close());
  writer.write('stdout', body(0), 1);
  writer.flush();
  const controller = new AbortController();
  const iterator = streamLogs({ logDir }, { follow: true, signal: controller.signal })[Symbol.asyncIterator]();
  t.after(() => controller.abort());
  const [first] = await take(iterator, 1);
  controller.abort();
  await iterator.return();
  // Two 75-byte records to a file: four rotations, so the cursor's file is now exec.log.4.
  for (let n = 1; n < 9; n++) writer.write('stdout', body(n), 1);
  writer.flush();
  assert.equal(writer.rotations, 4);
  const rest = await readLogs({ logDir }, { afterCursor: first.cursor });
  assert.deepEqual(rest.map(numberOf), [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('a slow reader gets the rest of its held file and then MissedRotationError with the offset it reached', async (t) => {
  const logDir = tempDir(t);
  const writer = new ExecLogWriter(logDir, { maxBytes: 300 });
  t.after(() => writer.close());
  for (let n = 0; n < 5; n++) writer.write('stdout', body(n), 1);
  writer.flush();
  const controller = new AbortController();
  const handle = streamLogs({ logDir }, { follow: true, signal: controller.signal, pollIntervalMs: 50 });
  const iterator = handle[Symbol.asyncIterator]();
  t.after(() => controller.abort());
  const [first] = await take(iterator, 1);
  assert.equal(numberOf(first), 0);
  // 75-byte records, four to a file: the stream holds exec.log.1 (records 0-3) and exec.log (record 4,
  // which will fill up with 5-7 before it rotates). Rotate more than four times: the file being read leaves retention, and so does its successor.
  for (let n = 5; n < 200; n++) writer.write('stdout', body(n), 1);
  writer.flush();
  assert.ok(writer.rotations > 5, `rotated ${writer.rotations} times`);
  const rest = [];
  const error = await withTimeout(
    (async () => {
      try {
        for (;;) {
          const { value, done } = await iterator.next();
          if (done) return undefined;
          rest.push(numberOf(value));
        }
      } catch (caught) {
        return caught;
      }
    })(),
    DEADLINE_MS,
    'the missed-rotation error',
  );
  assert.ok(error instanceof MissedRotationError, `expected MissedRotationError, got ${error}`);
  assert.equal(error.code, 'MISSED_ROTATION');
  // Everything of the held files came first, then the error at the end of the last one.
  assert.deepEqual(rest, [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(error.offset, 4 * 75);
  assert.match(error.message, /offset 300\b/);
  await waitFor(() => watchedDirectoryCount() === 0, { what: 'the watcher to be released' });
});

test('four rotations behind is still within retention: the follower catches up without error', async (t) => {
  const logDir = tempDir(t);
  const writer = new ExecLogWriter(logDir, { maxBytes: 160 });
  t.after(() => writer.close());
  writer.write('stdout', body(0), 1); // 75 bytes a record: two per file
  writer.write('stdout', body(1), 1);
  writer.flush();
  const controller = new AbortController();
  const iterator = streamLogs({ logDir }, { follow: true, signal: controller.signal, pollIntervalMs: 50 })[
    Symbol.asyncIterator
  ]();
  t.after(() => controller.abort());
  assert.deepEqual((await take(iterator, 1)).map(numberOf), [0]);
  for (let n = 2; n < 10; n++) writer.write('stdout', body(n), 1);
  writer.flush();
  assert.equal(writer.rotations, 4);
  assert.deepEqual((await take(iterator, 9)).map(numberOf), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  appendFileSync(
    join(logDir, 'exec.log'),
    `{"t":"${new Date().toISOString()}","s":"stdout","d":"${body(10).trim()}\\n","id":1}\n`,
  );
  assert.deepEqual((await take(iterator, 1)).map(numberOf), [10]);
});
