// Terminal-escape fuzz (issue 6, part 5): sandbox output is untrusted, so
// whatever bytes it holds, what the CLI writes to a terminal with colour on
// carries no escape sequence other than SGR (`ESC [ params m`), no C0 control
// other than newline and tab, no DEL and no C1 control (U+0080–U+009F).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { join } from 'node:path';
import { renderText } from '../../dist/cli/render.js';
import { sanitizeForTerminal } from '../../dist/format/ansi.js';
import { ExecLogWriter } from '../../dist/index.js';
import { runCli, tempSandbox } from '../helpers.js';
import { checkParameters, randomSource, processSeed, scaled } from './support.js';

/** The first thing in `text` a terminal could act on other than SGR, newline and tab, or undefined. */
export function terminalHazard(text) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x1b) {
      const sgr = /^\u001b\[[0-9;:]*m/.exec(text.slice(i, i + 512));
      if (sgr === null) return `escape sequence other than SGR at ${i}: ${JSON.stringify(text.slice(i, i + 16))}`;
      i += sgr[0].length - 1;
      continue;
    }
    if (c === 0x0a || c === 0x09) continue;
    if (c < 0x20) return `C0 control 0x${c.toString(16)} at ${i}`;
    if (c === 0x7f) return `DEL at ${i}`;
    if (c >= 0x80 && c <= 0x9f) return `C1 control U+${c.toString(16).padStart(4, '0')} at ${i}`;
  }
  return undefined;
}

// Pieces that make escape parsers stumble: introducers (7- and 8-bit), terminators, parameters, finals.
const HOSTILE_PIECES = [
  '\u001b',
  '\u001b[',
  '\u001b]',
  '\u001bP',
  '\u001bX',
  '\u001b^',
  '\u001b_',
  '\u001b\\',
  '\u001b(',
  '\u001b#8',
  '\u001bc',
  '\u009b',
  '\u009d',
  '\u0090',
  '\u0098',
  '\u009e',
  '\u009f',
  '\u009c',
  '\u0085',
  '\u0080',
  '\u0007',
  '\u0008',
  '\r',
  '\u0000',
  '\u007f',
  '\u000b',
  '\u000c',
  '\n',
  '\t',
  '[',
  ']',
  ';',
  ':',
  '?',
  '>',
  '<',
  '=',
  ' ',
  '!',
  '"',
  '0',
  '1',
  '31',
  '38;5;196',
  '38:2:255:0:0',
  '2004',
  '9999',
  'm',
  'H',
  'J',
  'K',
  'h',
  'l',
  'q',
  't',
  '@',
  '~',
  'p',
  'x',
  '0;evil-title',
  '52;c;Y2xpcGJvYXJk',
  '8;;http://x/',
  'é',
  '\ud83d\ude00',
  '\ud800',
  '\udfff',
  '\ufeff',
  '\u202e',
];

const hostileText = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.array(fc.constantFrom(...HOSTILE_PIECES), { maxLength: 40 }).map((pieces) => pieces.join('')),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('utf8')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
  {
    weight: 1,
    arbitrary: fc.string({
      unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)),
      maxLength: 120,
    }),
  },
);

const renderOptions = fc.record({
  json: fc.constant(false),
  color: fc.constant(true),
  timestamps: fc.boolean(),
  showId: fc.boolean(),
  colorSessions: fc.boolean(),
});

function fakeEntry(text, sessionId) {
  return {
    timestamp: new Date(Date.UTC(2026, 3, 30, 20, 0, 0)),
    source: 'stdout',
    sessionId,
    data: Buffer.from(text, 'utf8'),
    text: () => text,
    cursor: 'AA==',
  };
}

test('the renderer with colour on lets no escape other than SGR and no control other than newline and tab through', () => {
  fc.assert(
    fc.property(hostileText, renderOptions, fc.option(fc.nat(1000), { nil: null }), (text, options, sessionId) => {
      const out = renderText(fakeEntry(text, sessionId), options);
      const hazard = terminalHazard(out);
      assert.equal(hazard, undefined, `input ${JSON.stringify(text)} rendered as ${JSON.stringify(out)}: ${hazard}`);
    }),
    checkParameters('renderer output is terminal-safe', scaled(3000)),
  );
});

test('sanitizeForTerminal is idempotent and never lengthens text (colour on and off)', () => {
  fc.assert(
    fc.property(hostileText, fc.boolean(), (text, keepColor) => {
      const once = sanitizeForTerminal(text, keepColor);
      assert.equal(terminalHazard(once), undefined);
      assert.ok(once.length <= text.length);
      assert.equal(sanitizeForTerminal(once, keepColor), once);
      if (!keepColor) assert.ok(!once.includes('\u001b'), `colour off still let ESC through: ${JSON.stringify(once)}`);
    }),
    checkParameters('sanitizer is idempotent', scaled(3000)),
  );
});

test('an 8-bit CSI colour sequence (U+009B) is not passed through as a C1 control', () => {
  for (const text of ['a\u009b31mred\u001b[0m', 'x\u001b\u009bm;K', '\u001b\u009b31m', '\u001b\u009d0;t\u0007']) {
    const out = sanitizeForTerminal(text, true);
    assert.equal(terminalHazard(out), undefined, `${JSON.stringify(text)} → ${JSON.stringify(out)}`);
  }
});

test('sandlog logs --color always shows random bytes from exec.log without escapes other than SGR', async (t) => {
  const random = randomSource(processSeed());
  t.diagnostic(`seed ${random.seed} (replay with TORTURE_SEED=${random.seed})`);
  const runs = scaled(3);
  for (let run = 0; run < runs; run++) {
    const { logDir } = tempSandbox(t, `box${run}`);
    const writer = new ExecLogWriter(logDir);
    for (let i = 0; i < 60; i++) {
      const length = random.int(0, 300);
      const bytes = Buffer.alloc(length);
      for (let j = 0; j < length; j++) {
        // Mostly bytes that matter to a terminal, some plain text.
        bytes[j] =
          random.next() < 0.5
            ? random.pick([0x1b, 0x5b, 0x5d, 0x9b, 0x9d, 0xc2, 0x07, 0x0d, 0x00, 0x7f, 0x3b, 0x6d, 0x32, 0x4a])
            : random.int(0, 255);
      }
      writer.write(random.pick(['stdout', 'stderr', 'output']), bytes, random.int(1, 12));
    }
    writer.close();
    const flagSets = [
      ['--color', 'always'],
      ['--color', 'always', '--timestamps', '--color-sessions'],
      ['--color', 'always', '--show-id'],
    ];
    const result = await runCli(['logs', '--log-dir', logDir, ...flagSets[run % flagSets.length]]);
    assert.equal(result.code, 0, result.stderr);
    const hazard = terminalHazard(result.stdoutBytes.toString('utf8'));
    assert.equal(hazard, undefined, `stdout of sandlog logs holds ${hazard}`);
    assert.equal(terminalHazard(result.stderr), undefined, 'stderr too');
    assert.ok(result.stdout.length > 0);
    void join;
  }
});
