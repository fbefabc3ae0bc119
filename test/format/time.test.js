// normalizeTimestamp: the form microsandbox prints (UTC, three fraction digits cut, not rounded, `Z`),
// taken from the text when it is already UTC with a fraction, and from the time otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatTimestamp, normalizeTimestamp, parseTimestamp, parseTimestampBytes } from '../../dist/format/time.js';

// What formatting the parsed time gives (the general path), leap seconds aside.
function formatted(text) {
  return formatTimestamp(parseTimestamp(text));
}

test('UTC times with 3 to 9 fraction digits are cut to milliseconds, as formatting the time gives', () => {
  let seed = 7;
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pad = (value, width) => String(value).padStart(width, '0');
  for (let i = 0; i < 5000; i++) {
    const digits = 3 + random(7);
    let fraction = '';
    for (let d = 0; d < digits; d++) fraction += String(random(10));
    const text = `${pad(1970 + random(100), 4)}-${pad(1 + random(12), 2)}-${pad(1 + random(28), 2)}T${pad(random(24), 2)}:${pad(random(60), 2)}:${pad(random(60), 2)}.${fraction}Z`;
    const time = parseTimestamp(text);
    assert.notEqual(time, undefined, text);
    assert.equal(normalizeTimestamp(time, text), formatted(text), text);
    assert.equal(normalizeTimestamp(time, text), `${text.slice(0, 23)}Z`, text);
  }
});

test('other forms go through the time: offsets, no fraction, short fractions, lower-case t and z', () => {
  for (const text of [
    '2026-04-30T22:15:21.627+02:00',
    '2026-04-30T20:15:21Z',
    '2026-04-30T20:15:21.6Z',
    '2026-04-30T20:15:21.62Z',
    '2026-04-30t20:15:21.627123z',
    '2026-04-30T20:15:21.627123-00:30',
  ]) {
    const time = parseTimestamp(text);
    assert.notEqual(time, undefined, text);
    assert.equal(normalizeTimestamp(time, text), formatted(text), text);
  }
  assert.equal(normalizeTimestamp(0, '2026-04-30T20:15:21.627Z'), '2026-04-30T20:15:21.627Z');
});

test('a leap second stays second 60, with its fraction cut', () => {
  const text = '2016-12-31T23:59:60.123456Z';
  const time = parseTimestamp(text);
  assert.notEqual(time, undefined);
  assert.equal(normalizeTimestamp(time, text), '2016-12-31T23:59:60.123Z');
});

test('the byte parser (with its fast path and minute cache) gives what the string parser gives', () => {
  const digits = (n) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));
  const timestamp = fc
    .record({
      date: fc.constantFrom('2026-04-30', '2026-02-29', '2024-02-29', '1999-12-31', '2026-13-01', '0000-01-01'),
      separator: fc.constantFrom('T', 't', ' ', 'X'),
      hour: fc.constantFrom('00', '20', '23', '24'),
      minute: fc.constantFrom('00', '09', '59', '60'),
      second: fc.constantFrom('00', '07', '59', '60', '6x'),
      fraction: fc.oneof(
        fc.constant(''),
        fc.integer({ min: 0, max: 12 }).chain((n) => digits(n).map((d) => `.${d}`)),
      ),
      zone: fc.constantFrom('Z', 'z', '+02:00', '-00:30', ''),
    })
    .map((p) => `${p.date}${p.separator}${p.hour}:${p.minute}:${p.second}${p.fraction}${p.zone}`);
  fc.assert(
    fc.property(fc.array(timestamp, { minLength: 1, maxLength: 8 }), (texts) => {
      // Several in a row, so that the minute cache is used and replaced.
      for (const text of texts) {
        const bytes = Buffer.from(`..${text}..`, 'latin1');
        assert.equal(parseTimestampBytes(bytes, 2, bytes.length - 2), parseTimestamp(text), text);
      }
    }),
    { numRuns: 2000 },
  );
});

test('the minute cache tells apart minutes that differ in their last digit', () => {
  for (const text of [
    '2026-04-30T20:00:01.5Z',
    '2026-04-30T20:09:01.5Z',
    '2026-04-30T20:09:01.5Z',
    '2026-04-30T21:09:01.5Z',
  ]) {
    const bytes = Buffer.from(text, 'latin1');
    assert.equal(parseTimestampBytes(bytes, 0, bytes.length), parseTimestamp(text), text);
  }
});
