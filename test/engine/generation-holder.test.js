// The generation holder (issue 10, item 1), in-process: a follower that stops
// pulling while the producer rotates keeps every record within its hold
// (retention 4 + hold 4), gets what could be kept and then exactly
// MissedRotationError beyond it, never a gap; N followers cost one open per
// rotation; deleted files held stay within the hold; nothing stays open once
// the streams end.
//
// Every rotation here waits until the holder has opened the new generation
// (a condition, not a time): the guarantees are about what the holder saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { ExecLogWriter, MissedRotationError, streamLogs, decodeCursor } from '../../dist/index.js';
import { generationOpenCount, heldDescriptorCount, holderCount } from '../../dist/engine/generation-holder.js';
import { inodeOf, take, tempSandbox, waitFor, withTimeout } from '../helpers.js';

const WAIT = { timeoutMs: 60_000 };
const body = (n) => `record ${String(n).padStart(8, '0')} ${'x'.repeat(60)}\n`;
const numberOf = (entry) => Number(/^record (\d+)/.exec(entry.text())[1]);

/** Descriptors of this process open on files under `dir`: all of them, and those whose file was deleted. */
function openUnder(dir) {
  const out = { all: 0, deleted: 0 };
  if (!existsSync('/proc/self/fd')) return out;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (!target.startsWith(`${dir}/`)) continue;
    out.all += 1;
    if (target.endsWith(' (deleted)')) out.deleted += 1;
  }
  return out;
}

/** A producer in this process: ~7 records per file, 4 rotated files kept. */
function producer(t, logDir) {
  const writer = new ExecLogWriter(logDir, { maxBytes: 1024, maxFiles: 4 });
  t.after(() => writer.close());
  const state = {
    writer,
    written: 0,
    write(count) {
      for (let i = 0; i < count; i++) writer.write('stdout', body(state.written++), 1);
      writer.flush();
    },
    /** Rotates `count` times, each time until the holder has opened the new generation; `check` runs after each. */
    async rotate(count, check = () => undefined) {
      for (let r = 0; r < count; r++) {
        const target = writer.rotations + 1;
        const opens = generationOpenCount();
        while (writer.rotations < target) state.write(1);
        await waitFor(() => generationOpenCount() > opens, { ...WAIT, what: 'the holder to open the new generation' });
        await check();
      }
    },
  };
  return state;
}

// Deleted files the process keeps open come down to `hold` (closes go through the thread pool); a holder keeping
// more would never get there.
function heldWithin(logDir, hold) {
  return waitFor(() => openUnder(logDir).deleted <= hold, { ...WAIT, what: `at most ${hold} deleted files held` });
}

async function released(logDir) {
  await waitFor(() => heldDescriptorCount() === 0 && holderCount() === 0, { ...WAIT, what: 'the holder to let go' });
  // Descriptors close through the thread pool: wait for it, then nothing but the writer's may be left.
  await waitFor(() => openUnder(logDir).all <= 1, { ...WAIT, what: 'the held descriptors to be closed' });
  assert.equal(openUnder(logDir).all, 1, 'only the writer keeps a file of the directory open');
}

test('a follower paused while the producer rotates 7 times (retention 4, hold 4) gets every record once, in order', async (t) => {
  const { logDir } = tempSandbox(t);
  const produce = producer(t, logDir);
  produce.write(3);
  const controller = new AbortController();
  t.after(() => controller.abort());
  const paused = streamLogs({ logDir }, { follow: true, signal: controller.signal, holdGenerations: 4 });
  const iterator = paused[Symbol.asyncIterator]();
  const got = await take(iterator, 2, WAIT.timeoutMs);
  // Two more followers that keep pulling: the rotations must still cost one open each.
  const active = [0, 1].map(() => {
    const state = { numbers: [], handle: streamLogs({ logDir }, { follow: true, signal: controller.signal }) };
    state.done = (async () => {
      for await (const entry of state.handle) state.numbers.push(numberOf(entry));
    })();
    return state;
  });
  await waitFor(() => active.every((state) => state.numbers.length === 3), {
    ...WAIT,
    what: 'the active followers to start',
  });

  const opensBefore = generationOpenCount();
  await produce.rotate(7, () => heldWithin(logDir, 4));
  produce.write(2);
  assert.equal(generationOpenCount() - opensBefore, 7, 'one open per rotation, however many follow');
  assert.equal(openUnder(logDir).deleted, 3, 'the three generations past retention are held for the paused follower');

  got.push(...(await take(iterator, produce.written - got.length, WAIT.timeoutMs)));
  assert.deepEqual(
    got.map(numberOf),
    Array.from({ length: produce.written }, (_, n) => n),
  );
  await waitFor(() => active.every((state) => state.numbers.length === produce.written), {
    ...WAIT,
    what: 'the active followers',
  });
  for (const state of active)
    assert.deepEqual(
      state.numbers,
      Array.from({ length: produce.written }, (_, n) => n),
    );

  controller.abort();
  await iterator.return();
  await withTimeout(Promise.all(active.map((state) => state.done)), WAIT.timeoutMs, 'the followers to end');
  await released(logDir);
});

test('a follower paused for 12 rotations gets every record still held, then MissedRotationError, never a gap', async (t) => {
  const { logDir } = tempSandbox(t);
  const produce = producer(t, logDir);
  produce.write(3);
  const first = inodeOf(`${logDir}/exec.log`);
  const controller = new AbortController();
  t.after(() => controller.abort());
  const handle = streamLogs({ logDir }, { follow: true, signal: controller.signal, holdGenerations: 4 });
  const iterator = handle[Symbol.asyncIterator]();
  const got = await take(iterator, 3, WAIT.timeoutMs);
  const inodes = [first];
  await produce.rotate(12, () => {
    inodes.push(inodeOf(`${logDir}/exec.log`));
    return heldWithin(logDir, 4);
  });
  produce.write(2);

  let error;
  try {
    for (;;) {
      const { value, done } = await withTimeout(iterator.next(), WAIT.timeoutMs, 'the next entry');
      if (done) break;
      got.push(value);
    }
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof MissedRotationError, `expected MissedRotationError, got ${error}`);
  const numbers = got.map(numberOf);
  assert.deepEqual(
    numbers,
    Array.from({ length: numbers.length }, (_, n) => n),
    'a prefix of what was written: no gap',
  );
  // Generations 0–3 (where it was, and the three after it) were kept for it; the fifth left retention beyond the hold.
  const last = got[got.length - 1];
  const [position] = decodeCursor(last.cursor);
  assert.equal(position.generation, inodes[3], 'it read on to the end of the fourth generation');
  assert.equal(error.generation, inodes[3]);
  assert.equal(error.offset, position.offset, 'the error says exactly where it stopped');
  assert.ok(numbers.length > 3, 'it got records after it resumed');

  await released(logDir);
});

test('holdGenerations 0 keeps no deleted file: a follower paused past retention misses the rotation', async (t) => {
  const { logDir } = tempSandbox(t);
  const produce = producer(t, logDir);
  produce.write(3);
  const controller = new AbortController();
  t.after(() => controller.abort());
  const handle = streamLogs({ logDir }, { follow: true, signal: controller.signal, holdGenerations: 0 });
  const iterator = handle[Symbol.asyncIterator]();
  const got = await take(iterator, 3, WAIT.timeoutMs);
  await produce.rotate(5, () => heldWithin(logDir, 0));
  await assert.rejects(withTimeout(iterator.next(), WAIT.timeoutMs, 'the next entry'), MissedRotationError);
  assert.deepEqual(got.map(numberOf), [0, 1, 2]);
  await released(logDir);
});

test('holdGenerations must be a non-negative integer', () => {
  for (const bad of [-1, 1.5, Number.NaN, Infinity, '4', 2 ** 53]) {
    assert.throws(
      () => streamLogs({ logDir: '/nonexistent' }, { holdGenerations: bad }),
      /Expected the `holdGenerations` option to be a non-negative integer/,
    );
  }
});

test('streams that end release every held descriptor, also when they fail or are abandoned mid-batch', async (t) => {
  const { logDir } = tempSandbox(t);
  const produce = producer(t, logDir);
  produce.write(40);
  assert.ok(produce.writer.rotations >= 2);
  const controller = new AbortController();
  const handles = Array.from({ length: 5 }, () => streamLogs({ logDir }, { follow: true, signal: controller.signal }));
  const iterators = handles.map((handle) => handle[Symbol.asyncIterator]());
  for (const iterator of iterators) await take(iterator, 1, WAIT.timeoutMs);
  assert.equal(holderCount(), 1, 'one holder for the directory');
  assert.ok(heldDescriptorCount() >= 1);
  // One ends by break, one by close() while suspended mid-batch, the others by abort (they end after their batch).
  await iterators[0].return();
  await handles[1].close();
  controller.abort();
  for (const iterator of iterators.slice(2)) {
    while (!(await withTimeout(iterator.next(), WAIT.timeoutMs, 'the stream to end')).done);
  }
  await released(logDir);
});

test('a stream that starts later reads files the holder had already let go, from the beginning or a cursor', async (t) => {
  const { logDir } = tempSandbox(t);
  const produce = producer(t, logDir);
  produce.write(3);
  const controller = new AbortController();
  t.after(() => controller.abort());
  const leader = streamLogs({ logDir }, { follow: true, signal: controller.signal });
  const iterator = leader[Symbol.asyncIterator]();
  const early = await take(iterator, 3, WAIT.timeoutMs);
  await produce.rotate(3);
  produce.write(1);
  // The leader keeps up, so the holder holds only the live generation.
  await take(iterator, produce.written - 3, WAIT.timeoutMs);
  await waitFor(() => heldDescriptorCount() === 1, { ...WAIT, what: 'the holder to let go of what the leader read' });

  const all = Array.from({ length: produce.written }, (_, n) => n);
  const fromStart = [];
  for await (const entry of streamLogs({ logDir })) fromStart.push(numberOf(entry));
  assert.deepEqual(fromStart, all);
  const fromCursor = [];
  for await (const entry of streamLogs({ logDir }, { afterCursor: early[1].cursor })) fromCursor.push(numberOf(entry));
  assert.deepEqual(fromCursor, all.slice(2));
  assert.equal(heldDescriptorCount(), 1);
  controller.abort();
  await iterator.return();
  await released(logDir);
});
