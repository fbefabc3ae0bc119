// With --grep, the reader skips lines that lack one of the pattern's required
// literals before parsing them. Whatever a line holds (escapes that spell the
// literal, a base64 body, ANSI sequences in a text log, blocks of any size),
// a grep read must keep exactly the entries, with the same cursors, that a
// read without grep keeps and the pattern matches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { readLogs, streamLogs } from '../../dist/index.js';
import { at, tempDir, texts, writeLines } from '../helpers.js';

// Pieces of a JSON body as written in the file, and of a text-log line.
const JSON_PIECES = [
  'TRACE',
  'elapsed',
  'TR',
  'ACE',
  ' ',
  'x',
  'y',
  'é',
  '\\n',
  '\\"',
  '\\\\',
  '\\/',
  '\\u0054', // T
  '\\u0041', // A
  '\\u001b[1m',
  '\\u009b',
  '\\u00e9', // é
  '\\ud83d\\ude00',
  'b64',
  '\\\\u0054', // an escaped backslash, then the text u0054
];
const TEXT_PIECES = ['TRACE', 'elapsed', 'TR', 'ACE', ' ', 'x', 'é', '\u001b[1m', '\u001b]0;t\u0007', '\u009b1m', '\t'];
const PATTERNS = ['TRACE', 'TRACE.*elapsed', 'RAC', 'é', 'elapsed', 'x+y', 'T.*A', 'TRACE elapsed', '😀'];

// A small deterministic generator (the same file on every run).
function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function base64Record(time, text) {
  return `{"t":"${time}","s":"stdout","d":"${Buffer.from(text, 'utf8').toString('base64')}","id":1,"e":"b64"}`;
}

async function expectSameAsUnfiltered(logDir, pattern) {
  const all = await readLogs({ logDir }, { sources: 'all' });
  const regex = new RegExp(pattern, 'u');
  const expected = all.filter((entry) => regex.test(entry.text()));
  const got = await readLogs({ logDir }, { sources: 'all', grep: pattern });
  assert.deepEqual(texts(got), texts(expected), pattern);
  // Each entry's own place in its file (a cursor also holds the other files' places, which depend on what was kept).
  const places = (entries) =>
    entries.map((entry) => `${entry.reader} ${entry.position.generation}:${entry.position.offset}`);
  assert.deepEqual(places(got), places(expected), `${pattern}: positions`);
}

const line = fc.record({
  kind: fc.constantFrom('json', 'json', 'json', 'base64', 'malformed'),
  pieces: fc.array(fc.integer({ min: 0, max: JSON_PIECES.length - 1 }), { maxLength: 8 }),
});

test('grep keeps what the pattern matches in the decoded body, however the line spells it', async (t) => {
  const dir = tempDir(t);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(line, { minLength: 1, maxLength: 20 }),
      fc.array(fc.array(fc.integer({ min: 0, max: TEXT_PIECES.length - 1 }), { maxLength: 6 }), { maxLength: 6 }),
      fc.constantFrom(...PATTERNS),
      async (lines, runtime, pattern) => {
        const logDir = join(dir, String(run++));
        mkdirSync(logDir);
        writeLines(
          join(logDir, 'exec.log'),
          lines.map(({ kind, pieces }, i) => {
            const body = pieces.map((p) => JSON_PIECES[p]).join('');
            const time = at(i);
            if (kind === 'base64') return base64Record(time, JSON.parse(`"${body}"`));
            if (kind === 'malformed') return `{"t":"${time}","s":"stdout","d":"${body}`;
            return `{"t":"${time}","s":"stdout","d":"${body}","id":1}`;
          }),
        );
        writeLines(
          join(logDir, 'runtime.log'),
          runtime.map((pieces, i) => `${at(i)} ${pieces.map((p) => TEXT_PIECES[p]).join('')}`),
        );
        await expectSameAsUnfiltered(logDir, pattern);
      },
    ),
    { numRuns: 300 },
  );
});

test('grep over many read blocks keeps the same entries as the pattern over a full read', async (t) => {
  const logDir = tempDir(t);
  const random = seeded(11);
  const lines = [];
  let bytes = 0;
  // About 3 MiB: many read blocks, literals and escapes at every offset relative to their boundaries.
  for (let i = 0; bytes < 3 * 1024 * 1024; i++) {
    const pieces = [];
    const count = 1 + Math.floor(random() * 60);
    for (let p = 0; p < count; p++) pieces.push(JSON_PIECES[Math.floor(random() * JSON_PIECES.length)]);
    const time = new Date(Date.UTC(2026, 3, 30, 20) + i).toISOString();
    const text =
      random() < 0.05 ? base64Record(time, 'TRACE elapsed') : `{"t":"${time}","s":"stdout","d":"${pieces.join('')}"}`;
    lines.push(text);
    bytes += text.length + 1;
  }
  writeLines(join(logDir, 'exec.log'), lines);
  for (const pattern of PATTERNS) await expectSameAsUnfiltered(logDir, pattern);
});

test('a text log matches after its ANSI sequences are removed, C1 introducers included', async (t) => {
  const logDir = tempDir(t);
  writeFileSync(
    join(logDir, 'runtime.log'),
    [
      `${at(1)} TR\u001b[1mACE spelled across a colour`,
      `${at(2)} TR\u009b1mACE across an 8-bit CSI`,
      `${at(3)} TR\u001b]0;title\u0007ACE across an OSC`,
      `${at(4)} nothing here`,
      `${at(5)} TRACE plain`,
      '',
    ].join('\n'),
  );
  const got = await readLogs({ logDir }, { sources: 'system', grep: 'TRACE' });
  assert.equal(got.length, 4, texts(got).join(' | '));
  await expectSameAsUnfiltered(logDir, 'TRACE');
});

test('with grep, a malformed line that lacks the literal is skipped unread and not counted', async (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log'), [
    `{"t":"${at(1)}","s":"stdout","d":"TRACE torn`,
    `{"t":"${at(2)}","s":"stdout","d":"other torn`,
    `{"t":"${at(3)}","s":"stdout","d":"TRACE kept"}`,
  ]);
  const counted = async (grep) => {
    const handle = streamLogs({ logDir }, grep === undefined ? {} : { grep });
    const entries = [];
    for await (const entry of handle) entries.push(entry);
    return { texts: texts(entries), malformed: handle.malformed };
  };
  assert.deepEqual(await counted(undefined), { texts: ['TRACE kept'], malformed: 2 });
  assert.deepEqual(await counted('TRACE'), { texts: ['TRACE kept'], malformed: 1 });
  // A pattern without a required literal reads every line, as without grep.
  assert.deepEqual(await counted('TRACE|nothing'), { texts: ['TRACE kept'], malformed: 2 });
});
