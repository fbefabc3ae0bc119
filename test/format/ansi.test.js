// The terminal sanitizer and ANSI stripping, as pure functions: known
// sequences, and a property over arbitrary strings that nothing but text,
// newline, tab and (with colour) SGR sequences survive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sanitizeForTerminal } from '../../dist/index.js';
import { stripAnsi } from '../../dist/format/ansi.js';

function problem(text, keepColor) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x09) continue;
    if (c === 0x1b && keepColor && /^\u001b\[[0-9;:]*m/.test(text.slice(i))) continue;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return `U+${c.toString(16).padStart(4, '0')} at ${i}`;
  }
  return undefined;
}

test('known hostile sequences are removed and the text between them kept', () => {
  const cases = [
    ['a\u001b]0;title\u0007b', 'ab'],
    ['a\u001b]52;c;ZGF0YQ==\u001b\\b', 'ab'],
    ['a\u001b[2J\u001b[1;1Hb', 'ab'],
    ['a\u001b[?1049hb', 'ab'],
    ['a\u001bPq#0;2;0;0;0\u001b\\b', 'ab'],
    ['a\u009b6nb', 'ab'],
    ['a\u0085\u0086\u009ab', 'ab'],
    ['a\u0090payload\u009cb', 'ab'],
    ['a\rb\u0008c\u0007d\u007fe', 'abcde'],
    ['keep\ttabs\nand newlines', 'keep\ttabs\nand newlines'],
    ['unterminated \u001b]0;title forever', 'unterminated '],
    ['lone escape at the end\u001b', 'lone escape at the end'],
  ];
  for (const [input, expected] of cases) {
    assert.equal(sanitizeForTerminal(input, false), expected, JSON.stringify(input));
    assert.equal(sanitizeForTerminal(input, true), expected, JSON.stringify(input));
  }
});

test('SGR sequences pass only when colour is kept', () => {
  const input = 'x\u001b[1;38;5;208mo\u001b[38:2::255:0:0mc\u001b[0m!';
  assert.equal(sanitizeForTerminal(input, true), input);
  assert.equal(sanitizeForTerminal(input, false), 'xoc!');
  assert.equal(sanitizeForTerminal('\u009b31mred', true), 'red', '8-bit CSI is a C1 control, never colour');
  assert.equal(sanitizeForTerminal('\u001b[?25m', true), '', 'private parameters are not SGR');
});

test('for any string, only text, \\n, \\t and (with colour) SGR survive', () => {
  const pieces = fc.oneof(
    fc.string(),
    fc.constantFrom(
      '\u001b',
      '\u001b[',
      '\u001b]',
      '\u001bP',
      '\u001b\\',
      '\u0007',
      '\u009b',
      '\u009d',
      '\u009c',
      '\u0090',
      'm',
      ';',
      '31',
      '\r',
      '\n',
      '\t',
      '\u007f',
      '\u0085',
    ),
    fc.integer({ min: 0, max: 0x9f }).map((c) => String.fromCharCode(c)),
  );
  fc.assert(
    fc.property(fc.array(pieces, { maxLength: 40 }), fc.boolean(), (parts, keepColor) => {
      const out = sanitizeForTerminal(parts.join(''), keepColor);
      const found = problem(out, keepColor);
      if (found !== undefined) throw new Error(`${found} in ${JSON.stringify(out)}`);
      // Idempotent: a second pass changes nothing.
      assert.equal(sanitizeForTerminal(out, keepColor), out);
    }),
    { numRuns: 3000 },
  );
});

test('stripAnsi removes escape sequences but keeps other characters', () => {
  assert.equal(stripAnsi('\u001b[32mINFO\u001b[0m ready'), 'INFO ready');
  assert.equal(stripAnsi('tab\there'), 'tab\there');
  assert.equal(stripAnsi('\u001b]0;t\u0007x'), 'x');
});
