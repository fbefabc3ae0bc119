// tail N reads backwards from the end; a forward read is the reference: over
// random chains, sources, patterns and N, the tail must equal the last N
// entries of a full read, and each tail entry's cursor must resume exactly as
// the same entry's cursor from the full read does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { readLogs, readLogsSnapshot } from '../../dist/index.js';
import { at, recordLine, tempDir, texts, writeLines } from '../helpers.js';

// The read options of a case, and its tail next to the last `tail` entries of a full read with them.
function readOptions({ sources, grep, until, since }) {
  return {
    sources,
    ...(grep === undefined ? {} : { grep }),
    ...(until === undefined ? {} : { until: at(until) }),
    ...(since === undefined ? {} : { since: at(since) }),
  };
}

async function tailAndExpected(logDir, options, tail) {
  const all = await readLogs({ logDir }, options);
  const snapshot = await readLogsSnapshot({ logDir }, { ...options, tail });
  const expected = tail === 0 ? [] : all.slice(-tail);
  assert.deepEqual(texts(snapshot.entries), texts(expected));
  return { snapshot, expected };
}

const scenario = fc.record({
  files: fc.array(
    fc.array(fc.record({ s: fc.constantFrom('stdout', 'stderr', 'system'), step: fc.integer({ min: 0, max: 3 }) }), {
      maxLength: 12,
    }),
    { minLength: 1, maxLength: 4 },
  ),
  runtime: fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 10 }),
  sources: fc.constantFrom('stdout', 'stderr', 'system', 'stdout,stderr', 'all'),
  grep: fc.constantFrom(undefined, '[02468]$', 'x'),
  tail: fc.integer({ min: 0, max: 30 }),
  until: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
  since: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
});

test('tail N equals the last N entries of a forward read, with the same cursors', async (t) => {
  const dir = tempDir(t);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(scenario, async ({ files, runtime, sources, grep, tail, until, since }) => {
      const logDir = join(dir, String(run++));
      mkdirSync(logDir);
      let time = 0;
      let n = 0;
      // files[0] is the oldest: it becomes exec.log.(k-1); the last one is the live exec.log.
      files.forEach((records, i) => {
        const name = i === files.length - 1 ? 'exec.log' : `exec.log.${files.length - 1 - i}`;
        writeLines(
          join(logDir, name),
          records.map((r) => {
            time += r.step;
            n += 1;
            return recordLine(at(time), r.s, `e${n}`, r.s === 'system' ? undefined : 1);
          }),
        );
      });
      const runtimeTimes = [...runtime].sort((a, b) => a - b);
      writeLines(
        join(logDir, 'runtime.log'),
        runtimeTimes.map((s, i) => `${at(s)} r${i}`),
      );
      const options = readOptions({ sources, grep, until, since });
      const { snapshot, expected } = await tailAndExpected(logDir, options, tail);
      for (const [i, entry] of snapshot.entries.entries()) {
        // (since and afterCursor do not mix: lines before since that neither read delivered are left out by hand.)
        const { since: _since, ...resume } = options;
        const inWindow = (entries) =>
          texts(entries.filter((e) => since === undefined || e.timestamp >= new Date(at(since))));
        const fromTail = await readLogs({ logDir }, { ...resume, afterCursor: entry.cursor });
        const fromFull = await readLogs({ logDir }, { ...resume, afterCursor: expected[i].cursor });
        assert.deepEqual(inWindow(fromTail), inWindow(fromFull), `after ${entry.text()}`);
      }
      // The snapshot's own cursor is after everything: nothing follows it.
      assert.deepEqual(await readLogs({ logDir }, { sources, afterCursor: snapshot.cursor }), []);
    }),
    { numRuns: 120 },
  );
});

// Past EXACT_READ_BYTES the tail is read backwards and a text log's tail is chosen from its lines' times
// alone: over runtime.logs out of time order, with lines that take the file's mtime, ANSI, blank lines
// and tokens that only look like times, it must still equal the last N of a full read.
const textLine = fc.oneof(
  fc.integer({ min: 0, max: 600 }).map((s) => `${at(s)} r`),
  fc.integer({ min: 0, max: 600 }).map((s) => `\u001b[32m${at(s)}\u001b[0m coloured`),
  fc.constant('continuation without a time'),
  fc.constant('  indented continuation'),
  fc.constant(''),
  fc.constant('2026-13-99T99:99:99Z not a time'),
  fc.integer({ min: 0, max: 600 }).map((s) => `${at(s).replace('Z', '+00:00')} offset form`),
);

test('tail N of a chain read backwards: a text log out of time order gives the last N of a full read', async (t) => {
  const dir = tempDir(t);
  // One exec.log past the size read whole, shared by every case (its times interleave with runtime.log's).
  const bulk = [];
  for (let i = 0; bulk.length * 100 < 4.5 * 1024 * 1024; i++)
    bulk.push(recordLine(at(i % 600), 'stdout', `bulk ${i} ${'.'.repeat(40)}`, 1));
  bulk.sort();
  const execLines = bulk.map((line) => `${line}\n`).join('');
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(textLine, { maxLength: 80 }),
      fc.constantFrom('system', 'all'),
      fc.integer({ min: 0, max: 40 }),
      fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
      fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
      async (lines, sources, tail, since, until) => {
        const logDir = join(dir, String(run++));
        mkdirSync(logDir);
        writeFileSync(join(logDir, 'exec.log'), execLines);
        writeLines(
          join(logDir, 'runtime.log'),
          lines.map((line, i) => (line === '' || line.startsWith(' ') ? line : `${line} ${i}`)),
        );
        const { snapshot, expected } = await tailAndExpected(logDir, readOptions({ sources, until, since }), tail);
        assert.deepEqual(
          snapshot.entries.map((entry) => entry.cursor),
          expected.map((entry) => entry.cursor),
        );
      },
    ),
    { numRuns: 40 },
  );
});
