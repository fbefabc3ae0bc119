// microsandbox's snapshot order and cursors, and its follower's cursors, as measured against msb 0.6.18
// (test/interop/ checks the same against the real engine; these hold without it): a stable sort by
// timestamp in microsandbox's read order, each cursor slot the position of the last entry of that file
// up to this one (0/0 while there is none), a follower's entry carrying its own position whatever its
// filter dropped, `t` normalised, u64 ids exact, duplicate keys and lone surrogates malformed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLogs, readLogsSnapshot, streamLogs } from '../../dist/index.js';
import { handCursor, recordLine, take, tempDir, texts, writeLines } from '../helpers.js';

const at = (s) => `2026-04-30T20:00:${String(s).padStart(2, '0')}.000Z`;
const inode = (path) => statSync(path, { bigint: true }).ino;

test('a snapshot is a stable sort by time; a text line without a prefix takes the mtime; cursors accumulate in that order', async (t) => {
  const logDir = tempDir(t);
  const exec = join(logDir, 'exec.log');
  const runtime = join(logDir, 'runtime.log');
  writeLines(exec, [
    recordLine(at(10), 'stdout', 'A\n', 1),
    recordLine(at(30), 'stdout', 'X\n', 1),
    recordLine(at(5), 'stdout', 'C\n', 1),
  ]);
  writeFileSync(runtime, `${at(10)} R1\nno prefix\n${at(3)} R0\n`);
  utimesSync(runtime, new Date(at(20)), new Date(at(20)));
  const { entries, cursor } = await readLogsSnapshot({ logDir }, { sources: 'all' });
  assert.deepEqual(texts(entries), ['R0\n', 'C\n', 'A\n', 'R1\n', 'no prefix\n', 'X\n']);
  const e = inode(exec);
  const r = inode(runtime);
  const execEnds = [0, 0, 0];
  let offset = 0;
  for (const [i, line] of ['A', 'X', 'C'].entries()) {
    offset += Buffer.byteLength(recordLine(at([10, 30, 5][i]), 'stdout', `${line}\n`, 1)) + 1;
    execEnds[i] = offset;
  }
  const r0 = Buffer.byteLength(`${at(10)} R1\nno prefix\n${at(3)} R0\n`);
  const r1 = Buffer.byteLength(`${at(10)} R1\n`);
  const r2 = r1 + Buffer.byteLength('no prefix\n');
  const none = [0, 0];
  assert.deepEqual(
    entries.map((entry) => entry.cursor),
    [
      handCursor([none, [r, r0], none]),
      handCursor([[e, execEnds[2]], [r, r0], none]),
      handCursor([[e, execEnds[0]], [r, r0], none]),
      handCursor([[e, execEnds[0]], [r, r1], none]),
      handCursor([[e, execEnds[0]], [r, r2], none]),
      handCursor([[e, execEnds[1]], [r, r2], none]),
    ],
  );
  // The snapshot's own cursor sits after everything read.
  assert.equal(cursor, handCursor([[e, execEnds[2]], [r, r0], none]));
  // tail and until read the same sorted snapshot.
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: 'all', tail: 2 })), ['no prefix\n', 'X\n']);
  assert.deepEqual(texts(await readLogs({ logDir }, { until: at(20) })), ['C\n', 'A\n']);
});

test("equal timestamps keep microsandbox's read order: older exec.log files, then the text logs, then the live exec.log", async (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log.1'), [recordLine(at(10), 'stdout', 'old\n', 1)]);
  writeLines(join(logDir, 'exec.log'), [recordLine(at(10), 'stdout', 'live\n', 1)]);
  writeFileSync(join(logDir, 'runtime.log'), `${at(10)} runtime\n`);
  writeFileSync(join(logDir, 'kernel.log'), `${at(10)} kernel\n`);
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: 'all' })), ['old\n', 'runtime\n', 'kernel\n', 'live\n']);
});

test('a follower with a source filter gives each entry its own position, not the end of the records it dropped', async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'exec.log');
  const lines = [
    recordLine(at(1), 'stdout', 'a\n', 1),
    recordLine(at(2), 'stderr', 'b\n', 1),
    recordLine(at(3), 'stderr', 'c\n', 1),
  ];
  writeLines(path, lines);
  const controller = new AbortController();
  t.after(() => controller.abort());
  const iterator = streamLogs({ logDir }, { sources: 'stdout', follow: true, signal: controller.signal })[
    Symbol.asyncIterator
  ]();
  const [first] = await take(iterator, 1);
  assert.equal(first.cursor, handCursor([[inode(path), Buffer.byteLength(lines[0]) + 1]]));
  // Resumed with another filter, the records after it are all there.
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: 'stderr', afterCursor: first.cursor })), ['b\n', 'c\n']);
});

test('--json prints t in UTC with milliseconds and Z, and ids up to u64 max exactly', async (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log'), [
    '{"t":"2026-04-30T22:30:02+02:00","s":"stdout","d":"a","id":18446744073709551615}',
    '{"t":"2026-04-30t20:30:03.123456789z","s":"stdout","d":"b","id":9007199254740993}',
    '{"t":"2026-04-30 20:30:04.5Z","s":"stdout","d":"c","id":7}',
  ]);
  const entries = await readLogs({ logDir });
  assert.deepEqual(
    entries.map((entry) => JSON.parse(entry.toJsonLine()).t),
    ['2026-04-30T20:30:02.000Z', '2026-04-30T20:30:03.123Z', '2026-04-30T20:30:04.500Z'],
  );
  assert.deepEqual(
    entries.map((entry) => entry.sessionId),
    [18446744073709551615n, 9007199254740993n, 7],
  );
  assert.match(entries[0].toJsonLine(), /"id":18446744073709551615,/);
  assert.equal(entries[0].toJSON().id, '18446744073709551615');
});

test('a duplicate record key, a lone surrogate escape or an id that is not a u64 makes the record malformed', async (t) => {
  const logDir = tempDir(t);
  const t0 = at(1);
  writeLines(join(logDir, 'exec.log'), [
    `{"t":"${t0}","s":"stdout","d":"dup d","d":"x"}`,
    `{"t":"${t0}","s":"stdout","d":"dup id","id":1,"id":1}`,
    `{"t":"${t0}","s":"stdout","d":"dup t","\\u0074":"${t0}"}`,
    `{"t":"${t0}","s":"stdout","d":"lone \\ud800"}`,
    `{"t":"${t0}","s":"stdout","d":"lone \\udc00 low"}`,
    `{"t":"${t0}","s":"stdout","d":"float id","id":1.0}`,
    `{"t":"${t0}","s":"stdout","d":"over u64","id":18446744073709551616}`,
    `{"t":"${t0}","s":"stdout","d":"kept: duplicate unknown key","x":1,"x":2}`,
    `{"t":"${t0}","s":"stdout","d":"kept: lone surrogate in an unknown key","x":"\\ud800"}`,
    `{"t":"${t0}","s":"stdout","d":"kept: deep","x":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
  ]);
  const handle = streamLogs({ logDir });
  const entries = [];
  for await (const entry of handle) entries.push(entry);
  assert.deepEqual(texts(entries), [
    'kept: duplicate unknown key',
    'kept: lone surrogate in an unknown key',
    'kept: deep',
  ]);
  assert.equal(handle.malformed, 7);
});
