// The record parser has a byte-level fast path for the writers' key order and
// a JSON.parse path for everything else: over arbitrary records, both must
// read exactly what JSON says the line holds, and the --json line must carry
// the same body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ExecLogWriter, readLogs } from '../../dist/index.js';
import { parseTimestamp } from '../../dist/format/time.js';
import { tempDir } from '../helpers.js';

const source = fc.constantFrom('stdout', 'stderr', 'output', 'system');
const body = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', '\n', '\\', '"', '\u0000', '\u001b[31m', '\ud83d\ude00', '\u2028', 'a'.repeat(300)),
);
const record = fc.record({
  ms: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }),
  s: source,
  d: body,
  id: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
});

// The writer's key order (fast path) and a reversed one (slow path), from the same JSON values.
function lineOf(r, reversed) {
  const fields = [
    ['t', new Date(r.ms).toISOString()],
    ['s', r.s],
    ['d', r.d],
  ];
  if (r.id !== undefined) fields.push(['id', r.id]);
  if (reversed) fields.reverse();
  return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

test('fast and slow parser paths read the same records as JSON.parse does', async (t) => {
  const dir = tempDir(t);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 30 }), async (records) => {
      run += 1;
      const sorted = [...records].sort((a, b) => a.ms - b.ms);
      for (const reversed of [false, true]) {
        const logDir = join(dir, `${run}-${reversed}`);
        const lines = sorted.map((r) => lineOf(r, reversed));
        mkdirSync(logDir);
        writeFileSync(join(logDir, 'exec.log'), lines.map((l) => `${l}\n`).join(''));
        const entries = await readLogs({ logDir }, { sources: 'all' });
        assert.equal(entries.length, sorted.length);
        entries.forEach((entry, i) => {
          const expected = JSON.parse(lines[i]);
          assert.equal(entry.source, expected.s);
          assert.equal(entry.timestamp.getTime(), sorted[i].ms);
          assert.equal(entry.sessionId, expected.id ?? null);
          // JSON strings may hold lone surrogates, which have no UTF-8 form: they read as U+FFFD.
          assert.deepEqual(Buffer.from(entry.data), Buffer.from(expected.d, 'utf8'));
          // The --json form of the entry carries the same text.
          const json = entry.toJSON();
          assert.equal(json.d, Buffer.from(expected.d, 'utf8').toString('utf8'));
          assert.equal(json.e, null);
        });
      }
    }),
    { numRuns: 150 },
  );
});

test('what the writer writes, the reader reads back byte for byte', async (t) => {
  const dir = tempDir(t);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 20 }),
      async (chunks) => {
        const logDir = join(dir, String(run++));
        const writer = new ExecLogWriter(logDir);
        for (const chunk of chunks) writer.write('stdout', chunk, 1);
        writer.close();
        const entries = await readLogs({ logDir });
        const read = Buffer.concat(entries.map((e) => Buffer.from(e.data)));
        assert.deepEqual(read, Buffer.concat(chunks.map((c) => Buffer.from(c))));
      },
    ),
    { numRuns: 150 },
  );
});

// What microsandbox's serde reader accepts, written out: the reference for damaged lines.
function accepts(line) {
  if (!isUtf8(Buffer.from(line, 'latin1'))) return undefined;
  let value;
  try {
    value = JSON.parse(Buffer.from(line, 'latin1').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { t, s, d, id, e } = value;
  if (typeof t !== 'string' || parseTimestamp(t) === undefined) return undefined;
  if (!['stdout', 'stderr', 'output', 'system'].includes(s)) return undefined;
  if (d !== undefined && typeof d !== 'string') return undefined;
  if (id !== undefined && id !== null && !(Number.isInteger(id) && id >= 0)) return undefined;
  if (e !== undefined && e !== null && typeof e !== 'string') return undefined;
  return value;
}

test('a damaged line is read exactly when a strict JSON reader would accept it, and never hides the next line', async (t) => {
  const dir = tempDir(t);
  const damage = fc.array(
    fc.record({
      kind: fc.constantFrom('delete', 'insert', 'replace'),
      at: fc.nat(),
      char: fc.constantFrom(
        '"',
        '\\',
        '}',
        '{',
        ',',
        ':',
        ' ',
        'x',
        '0',
        '\u0000',
        '\u00e9',
        '\ud83d',
        'u',
        '/',
        'n',
        '\r',
      ),
    }),
    { minLength: 1, maxLength: 3 },
  );
  let run = 0;
  await fc.assert(
    fc.asyncProperty(record, damage, async (r, edits) => {
      let line = lineOf(r, false);
      for (const edit of edits) {
        const at = edit.at % (line.length + 1);
        if (edit.kind === 'delete') line = line.slice(0, at) + line.slice(at + 1);
        else if (edit.kind === 'insert') line = line.slice(0, at) + edit.char + line.slice(at);
        else line = line.slice(0, at) + edit.char + line.slice(at + 1);
      }
      const logDir = join(dir, String(run++));
      mkdirSync(logDir);
      const sentinel = lineOf({ ms: Date.UTC(2100, 0, 1), s: 'stdout', d: 'sentinel', id: 1 }, false);
      writeFileSync(join(logDir, 'exec.log'), `${line}\n${sentinel}\n`);
      const entries = await readLogs({ logDir }, { sources: 'all' });
      const expected = accepts(Buffer.from(line, 'utf8').toString('latin1'));
      assert.equal(entries.at(-1)?.text(), 'sentinel', `the next line survives ${JSON.stringify(line)}`);
      assert.equal(entries.length, expected === undefined ? 1 : 2, `accepted or not: ${JSON.stringify(line)}`);
      if (expected !== undefined && expected.e !== 'b64') {
        assert.deepEqual(Buffer.from(entries[0].data), Buffer.from(expected.d ?? '', 'utf8'), JSON.stringify(line));
      }
    }),
    { numRuns: 400 },
  );
});
