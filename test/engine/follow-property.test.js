// A follower against a producer doing random things: appending records in
// bursts, writing a record in pieces, and rotating by rename (up to three
// times between two looks). Whatever the order, the follower delivers every
// finished record exactly once, in order, and its cursor resumes where it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { readLogs, streamLogs } from '../../dist/index.js';
import { watchedDirectoryCount } from '../../dist/engine/watch.js';
import { at, recordLine, tempDir, waitFor, withTimeout, DEADLINE_MS } from '../helpers.js';

const operation = fc.oneof(
  fc.record({ kind: fc.constant('append'), count: fc.integer({ min: 1, max: 20 }) }),
  fc.record({
    kind: fc.constant('pieces'),
    cuts: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('rotate'), times: fc.integer({ min: 1, max: 3 }) }),
);

function rotate(logDir) {
  for (let index = 3; index >= 1; index--) {
    const from = join(logDir, `exec.log.${index}`);
    if (existsSync(from)) renameSync(from, join(logDir, `exec.log.${index + 1}`));
  }
  if (existsSync(join(logDir, 'exec.log'))) renameSync(join(logDir, 'exec.log'), join(logDir, 'exec.log.1'));
  appendFileSync(join(logDir, 'exec.log'), '');
}

test('a follower delivers every finished record once, in order, whatever the producer does', async (t) => {
  const dir = tempDir(t);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 25 }), async (operations) => {
      const logDir = join(dir, String(run++));
      mkdirSync(logDir);
      const live = join(logDir, 'exec.log');
      let written = 0;
      const line = () => `${recordLine(at(written), 'stdout', `n${written++}`, 1)}\n`;
      const controller = new AbortController();
      const received = [];
      const handle = streamLogs({ logDir }, { follow: true, signal: controller.signal, pollIntervalMs: 20 });
      let failure;
      const reading = (async () => {
        try {
          for await (const entry of handle) received.push(Number(entry.text().slice(1)));
        } catch (error) {
          failure = error;
        }
      })();
      for (const op of operations) {
        if (op.kind === 'append') {
          let text = '';
          for (let i = 0; i < op.count; i++) text += line();
          appendFileSync(live, text);
        } else if (op.kind === 'pieces') {
          const whole = line();
          let from = 0;
          for (const cut of op.cuts) {
            if (from + cut >= whole.length) break;
            appendFileSync(live, whole.slice(from, from + cut));
            from += cut;
            // An unfinished record is never delivered.
            assert.ok(received.length < written);
          }
          appendFileSync(live, whole.slice(from));
        } else {
          for (let i = 0; i < op.times; i++) rotate(logDir);
          // A record after the rotations makes the next wait mean "the follower has looked since".
          appendFileSync(live, line());
        }
        await waitFor(() => failure !== undefined || received.length === written, {
          timeoutMs: DEADLINE_MS,
          intervalMs: 2,
          what: `${written} records`,
        });
        if (failure !== undefined) throw failure;
      }
      const cursor = handle.cursor;
      controller.abort();
      await withTimeout(reading, DEADLINE_MS, 'the follower to end');
      assert.deepEqual(
        received,
        Array.from({ length: written }, (_, i) => i),
      );
      appendFileSync(live, line());
      assert.deepEqual(
        (await readLogs({ logDir }, { afterCursor: cursor })).map((e) => e.text()),
        [`n${written - 1}`],
      );
    }),
    { numRuns: 40 },
  );
  assert.equal(watchedDirectoryCount(), 0);
});
