// Text output copies plain bodies straight from the read buffer (no string per
// entry) and renders the others the general way: in one batch, both kinds must
// come out exactly as the general renderer makes them, with and without
// --timestamps (one prefix per line, every entry ending its line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLogs } from '../../dist/index.js';
import { renderText } from '../../dist/cli/render.js';
import { runCli, tempDir, writeLines } from '../helpers.js';

const bodies = [
  'plain text without a newline',
  'two\\nlines\\n',
  'ends with\\n\\n',
  'tab\\there and \\"quotes\\" and a \\\\ and \\/ slash\\n',
  'colour \\u001b[32mgreen\\u001b[0m\\n',
  'carriage\\rreturn\\n',
  'spelled \\u0041 and é ✓\\n',
  '',
  '\\n',
  'bell\\u0007 and DEL\u007f gone\\n',
  'a\\n\\u001B[1;32mb\\u001b[0m\\n\\u001b[0m',
  'erase \\u001b[2K line\\n',
];

function logDirWith(t) {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log'), [
    ...bodies.map(
      (d, i) => `{"t":"2026-04-30T20:00:${String(i).padStart(2, '0')}.000Z","s":"stdout","d":"${d}","id":1}`,
    ),
    // base64 bodies and the general parser's shapes take the general path
    `{"t":"2026-04-30T20:00:20.000Z","s":"stdout","d":"${Buffer.from('b64 body\n').toString('base64')}","id":1,"e":"b64"}`,
    '{"d":"reordered keys\\n","s":"stdout","t":"2026-04-30T20:00:21.000Z"}',
  ]);
  return logDir;
}

const expectedPlain = [
  'plain text without a newline',
  'two\nlines\n',
  'ends with\n\n',
  'tab\there and "quotes" and a \\ and / slash\n',
  'colour green\n',
  'carriagereturn\n',
  'spelled A and é ✓\n',
  '',
  '\n',
  'bell and DEL gone\n',
  'a\nb\n',
  'erase  line\n',
  'b64 body\n',
  'reordered keys\n',
].join('');

test('text output of plain and escaped bodies is the sanitised text, byte for byte', async (t) => {
  const logDir = logDirWith(t);
  const result = await runCli(['logs', '--log-dir', logDir, '--color', 'never']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, expectedPlain);
});

test('--timestamps prefixes every non-empty line and ends every entry with a newline, on both paths; an empty body prints nothing (as msb)', async (t) => {
  const logDir = logDirWith(t);
  const result = await runCli(['logs', '--log-dir', logDir, '--color', 'never', '--timestamps']);
  assert.equal(result.code, 0, result.stderr);
  const pad = `${' '.repeat(24)}\t`;
  const time = (i) => `2026-04-30T20:00:${String(i).padStart(2, '0')}.000Z\t`;
  assert.equal(
    result.stdout,
    [
      `${time(0)}plain text without a newline\n`,
      `${time(1)}two\n${pad}lines\n`,
      `${time(2)}ends with\n\n`,
      `${time(3)}tab\there and "quotes" and a \\ and / slash\n`,
      `${time(4)}colour green\n`,
      `${time(5)}carriagereturn\n`,
      `${time(6)}spelled A and é ✓\n`,
      `${time(8)}\n`,
      `${time(9)}bell and DEL gone\n`,
      `${time(10)}a\n${pad}b\n`,
      `${time(11)}erase  line\n`,
      `${time(20)}b64 body\n`,
      `${time(21)}reordered keys\n`,
    ].join(''),
  );
});

// Differential: random bodies (colour and other sequences, controls, quotes, backslashes, slashes,
// unicode, newlines) through the CLI's text output must equal the general renderer's, entry by entry.

function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'a',
  'word ',
  // Runs long enough to be copied natively rather than byte by byte.
  'a long run of plain words, longer than the threshold for a copy ',
  'é✓🚀 '.repeat(8),
  '\n',
  '\n\n',
  '\t',
  '"',
  '\\',
  '/',
  'é',
  '✓',
  '🚀',
  '\u001b[32m',
  '\u001b[0m',
  '\u001b[1;31m',
  '\u001b[m',
  '\u001b[2K',
  '\u001b]0;title\u0007',
  '\u001b',
  '[',
  '3',
  'm',
  ';',
  '\r',
  '\u0007',
  '\u007f',
  '\u009b',
  '\u0000',
];

// `sandlog logs --color never` of `logDir`'s stdout, after it exited 0.
async function plainText(logDir, timestamps, extra = []) {
  const args = ['logs', '--log-dir', logDir, ...extra, '--color', 'never', ...(timestamps ? ['--timestamps'] : [])];
  const result = await runCli(args);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

test('text output equals the general renderer for random bodies, with and without --timestamps', async (t) => {
  const seed = Number(process.env.PLAIN_TEXT_SEED ?? 12);
  const next = random(seed);
  const logDir = tempDir(t);
  const lines = [];
  for (let i = 0; i < 400; i++) {
    let body = '';
    const count = Math.floor(next() * 12);
    for (let k = 0; k < count; k++) body += PIECES[Math.floor(next() * PIECES.length)];
    const t = new Date(Date.UTC(2026, 3, 30, 20, 0, 0) + i).toISOString();
    lines.push(`{"t":"${t}","s":"stdout","d":${JSON.stringify(body)},"id":1}`);
  }
  writeLines(join(logDir, 'exec.log'), lines);
  const entries = await readLogs({ logDir });
  assert.equal(entries.length, 400);
  for (const timestamps of [false, true]) {
    const options = { json: false, color: false, timestamps, showId: false, colorSessions: false };
    const expected = entries.map((entry) => renderText(entry, options)).join('');
    assert.equal(await plainText(logDir, timestamps), expected, `seed ${seed}, timestamps ${timestamps}`);
  }
});

test('text-log lines print as the general renderer makes them, with and without --timestamps', async (t) => {
  const seed = Number(process.env.PLAIN_TEXT_SEED ?? 13);
  const next = random(seed);
  const logDir = tempDir(t);
  const TEXT_PIECES = [...PIECES, '\u00a0', '\u2003', '\u0085', 'no-time-token', '2026-04-30T20:00:00Z'];
  const lines = [];
  for (let i = 0; i < 300; i++) {
    let body = '';
    const count = Math.floor(next() * 8);
    for (let k = 0; k < count; k++) body += TEXT_PIECES[Math.floor(next() * TEXT_PIECES.length)];
    body = body.replaceAll('\n', ' ');
    const time = new Date(Date.UTC(2026, 3, 30, 20, 0, 0) + i * 1000 + 0.5).toISOString().replace('Z', '123Z');
    lines.push(Buffer.from(next() < 0.9 ? `${time}  ${body}\n` : `${body}\n`, 'utf8'));
    if (i % 50 === 0) lines.push(Buffer.from([0xff, 0x20, 0x62, 0x0a])); // invalid UTF-8
  }
  writeFileSync(join(logDir, 'runtime.log'), Buffer.concat(lines));
  const entries = await readLogs({ logDir }, { sources: 'system' });
  assert.ok(entries.length >= 300);
  for (const timestamps of [false, true]) {
    const options = { json: false, color: false, timestamps, showId: false, colorSessions: false };
    const expected = entries.map((entry) => renderText(entry, options)).join('');
    assert.equal(
      await plainText(logDir, timestamps, ['--source', 'system']),
      expected,
      `seed ${seed}, timestamps ${timestamps}`,
    );
  }
});
