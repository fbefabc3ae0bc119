// A text-log line is read from its bytes when its first token is plain ASCII
// (the reader's fast paths: its time in the filter, its body and time text
// for output), and from the decoded, ANSI-stripped string otherwise: over
// random lines, a fast path, whenever it answers, gives exactly what the
// string parser gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTextLine, parseTextLineBytes, textLineTime } from '../../dist/format/text-line.js';

const FALLBACK = 1_700_000_000_000.5;
const PIECES = [
  '2026-04-30T20:00:00.039755Z',
  '2026-04-30T20:00:00Z',
  '2026-04-30T20:00:00.123+02:00',
  '2026-02-30T20:00:00.000Z', // no such day
  '2026-04-30T20:00:00.000z',
  'xxxxxxxxxxxxxxxxxxxZ',
  '2026-04-30',
  ' ',
  '\t',
  '\r',
  '\u000b',
  '\u00a0', // no-break space: whitespace to the string parser
  '\u2003',
  '\u001b[1m',
  '\u009b1m',
  '\u001b]0;t\u0007',
  'é',
  'INFO',
  'Z',
  '\u0001',
];

test('the byte fast path gives the time the string parser gives, whenever it answers', () => {
  let answered = 0;
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 6 }), (pieces) => {
      const line = pieces.join('');
      const bytes = Buffer.from(`..${line}..`, 'utf8');
      const time = textLineTime(bytes, 2, bytes.length - 2, FALLBACK);
      if (time === undefined) return;
      answered += 1;
      assert.equal(time, parseTextLine(line, FALLBACK).time, JSON.stringify(line));
    }),
    { numRuns: 3000 },
  );
  assert.ok(answered > 100, `the fast path answered ${answered} times`);
});

test('the fast path reads the timestamp token, and leaves lines it cannot read to the string parser', () => {
  const time = (line) => {
    const bytes = Buffer.from(line, 'utf8');
    return textLineTime(bytes, 0, bytes.length, FALLBACK);
  };
  assert.equal(time('2026-04-30T20:00:00.039755Z  INFO msb'), Date.UTC(2026, 3, 30, 20) + 39.755);
  assert.equal(time('2026-04-30T20:00:01Z\tx'), Date.UTC(2026, 3, 30, 20, 0, 1));
  assert.equal(time('short token'), FALLBACK);
  assert.equal(time(' 2026-04-30T20:00:00Z leading blank'), FALLBACK);
  assert.equal(time('2026-02-30T20:00:00.000Z no such day'), FALLBACK);
  assert.equal(time('\u001b[2m2026-04-30T20:00:00Z\u001b[0m coloured'), undefined);
  assert.equal(time('2026-04-30T20:00:00Z\u00a0no-break space'), undefined);
  assert.equal(time('no-blank-at-all'), FALLBACK);
  assert.equal(time('2026-04-30T20:00:00Z\rcarriage return'), undefined);
});

test('the byte parse of a whole line gives what the string parser gives, whenever it answers', () => {
  let answered = 0;
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...PIECES, '😀', 'x y', '"q"'), { maxLength: 7 }), (pieces) => {
      const line = pieces.join('');
      const bytes = Buffer.from(`..${line}..`, 'utf8');
      const parsed = parseTextLineBytes(bytes, 2, bytes.length - 2, FALLBACK);
      if (parsed === undefined) return;
      answered += 1;
      assert.deepEqual(parsed, parseTextLine(line, FALLBACK), JSON.stringify(line));
    }),
    { numRuns: 3000 },
  );
  assert.ok(answered > 100, `the fast path answered ${answered} times`);
  const bytes = Buffer.from('2026-04-30T20:00:00.039755Z  INFO msb::vm: done 🚀');
  assert.deepEqual(parseTextLineBytes(bytes, 0, bytes.length, FALLBACK), {
    time: Date.UTC(2026, 3, 30, 20) + 39.755,
    timeText: '2026-04-30T20:00:00.039755Z',
    body: 'INFO msb::vm: done 🚀\n',
  });
  const coloured = Buffer.from('2026-04-30T20:00:00Z \u001b[32mINFO\u001b[0m');
  assert.equal(parseTextLineBytes(coloured, 0, coloured.length, FALLBACK), undefined);
});
