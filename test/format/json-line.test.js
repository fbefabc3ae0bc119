// A text-log entry's --json line is written from its line's bytes, escaped
// byte by byte: it must be exactly what the string path (JSON.stringify, then
// DEL and C1 escaped) makes of the decoded text; invalid UTF-8, DEL and C1
// are left to the string path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { readLogs } from '../../dist/index.js';
import { bodyJsonString, writeTextAsJsonString } from '../../dist/format/json-line.js';
import { at, tempDir } from '../helpers.js';

const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      '"',
      '\\',
      '\b',
      '\t',
      '\n',
      '\f',
      '\r',
      '\u000b',
      '\u0000',
      '\u001b',
      '\u007f',
      '\u0085',
      '\u009f',
    ),
    fc.constantFrom('é', '✓', '😀', '\u00a0', '\u2028', 'a', ' '),
    fc.string({ unit: 'grapheme', maxLength: 1 }),
  ),
  maxLength: 30,
});

test('text escaped from its bytes is the JSON string the string path makes of it', () => {
  fc.assert(
    fc.property(text, (value) => {
      const bytes = Buffer.from(`..${value}..`, 'utf8');
      const target = Buffer.alloc(6 * bytes.length + 8);
      const end = writeTextAsJsonString(target, 0, bytes, 2, bytes.length - 2);
      if (end < 0) {
        assert.match(value, /[\u007f-\u009f]/, `left to the string path: ${JSON.stringify(value)}`);
        return;
      }
      assert.equal(target.toString('utf8', 0, end), bodyJsonString(`${value}\n`), JSON.stringify(value));
    }),
    { numRuns: 2000 },
  );
});

test('invalid UTF-8, DEL and C1 controls are left to the string path', () => {
  for (const bytes of [Buffer.from([0x61, 0xff, 0x62]), Buffer.from('a\u007fb'), Buffer.from('a\u0085b')]) {
    assert.equal(writeTextAsJsonString(Buffer.alloc(64), 0, bytes, 0, bytes.length), -1, bytes.toString('hex'));
  }
  const plain = Buffer.from('café \u00a0 ✓');
  assert.ok(writeTextAsJsonString(Buffer.alloc(64), 0, plain, 0, plain.length) > 0);
});

test("a text-log entry's --json line from its bytes equals its string form", async (t) => {
  const logDir = tempDir(t);
  const lines = [
    `${at(1)}  INFO msb::vm: "quoted" and \\ backslash\ttab\u007fdel`,
    `${at(2)} café ✓ 😀 \u2028`,
    `${at(3)} \u00a0no-break space first`,
    `${at(4)} \u001b[32mcolour\u001b[0m`,
    'no timestamp here',
    `${at(5)}`,
  ];
  writeFileSync(
    join(logDir, 'runtime.log'),
    Buffer.concat([Buffer.from(`${lines.join('\n')}\n`), Buffer.from([0xff, 0x20, 0x61, 0x0a])]),
  );
  const entries = await readLogs({ logDir }, { sources: 'system' });
  assert.equal(entries.length, lines.length + 1);
  for (const entry of entries) {
    const target = Buffer.alloc(4096);
    const end = entry.writeJsonLine(target, 0);
    assert.equal(target.toString('utf8', 0, end), `${entry.toJsonLine()}\n`);
  }
});
