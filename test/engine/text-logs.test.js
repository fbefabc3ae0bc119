// runtime.log and kernel.log: plain-text lines become `system` entries with a
// leading RFC 3339 timestamp or the file's modification time, ANSI removed,
// bodies ending in a newline; a replaced file under a cursor restarts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLogs, readLogsSnapshot, streamLogs, TextLogWriter } from '../../dist/index.js';
import { at, recordLine, take, tempDir, texts, writeLines } from '../helpers.js';

test('a leading RFC 3339 token is the timestamp and the rest, trimmed, is the body with a trailing newline', async (t) => {
  const logDir = tempDir(t);
  writeFileSync(
    join(logDir, 'runtime.log'),
    '2026-04-30T20:00:01.123456Z   INFO starting vm\n2026-04-30T20:00:02Z  WARN slow\n',
  );
  const entries = await readLogs({ logDir }, { sources: ['system'] });
  assert.deepEqual(texts(entries), ['INFO starting vm\n', 'WARN slow\n']);
  assert.deepEqual(
    entries.map((e) => e.timestamp.toISOString()),
    ['2026-04-30T20:00:01.123Z', '2026-04-30T20:00:02.000Z'],
  );
  assert.ok(entries.every((e) => e.source === 'system' && e.sessionId === null));
});

test("a line without a leading timestamp takes the file's modification time", async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'kernel.log');
  writeFileSync(path, '[    0.000000] Linux version 6.1\nshort 2026Z token\n12:00:00Z not a full time\n');
  const mtime = new Date('2026-05-01T08:09:10.000Z');
  utimesSync(path, mtime, mtime);
  const entries = await readLogs({ logDir }, { sources: ['system'] });
  assert.deepEqual(texts(entries), [
    '[    0.000000] Linux version 6.1\n',
    'short 2026Z token\n',
    '12:00:00Z not a full time\n',
  ]);
  for (const entry of entries) assert.equal(entry.timestamp.toISOString(), mtime.toISOString());
});

test('ANSI sequences are removed before the timestamp is looked for', async (t) => {
  const logDir = tempDir(t);
  writeFileSync(
    join(logDir, 'runtime.log'),
    '\u001b[2m2026-04-30T20:00:01.000Z\u001b[0m \u001b[32m INFO\u001b[0m ready \u001b]0;title\u0007done\n',
  );
  const [entry] = await readLogs({ logDir }, { sources: 'system' });
  assert.equal(entry.timestamp.toISOString(), '2026-04-30T20:00:01.000Z');
  assert.equal(entry.text(), 'INFO ready done\n');
});

test('invalid UTF-8 in a text log becomes U+FFFD', async (t) => {
  const logDir = tempDir(t);
  writeFileSync(
    join(logDir, 'runtime.log'),
    Buffer.concat([Buffer.from('2026-04-30T20:00:01Z bad '), Buffer.from([0xff]), Buffer.from(' byte\n')]),
  );
  const [entry] = await readLogs({ logDir }, { sources: 'system' });
  assert.equal(entry.text(), 'bad \ufffd byte\n');
});

test('text logs are read only when system (or all) is asked for', async (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'runtime.log'), [`${at(1)} runtime`]);
  writeLines(join(logDir, 'kernel.log'), [`${at(2)} kernel`]);
  writeLines(join(logDir, 'exec.log'), [recordLine(at(3), 'stdout', 'out', 1)]);
  assert.deepEqual(texts(await readLogs({ logDir })), ['out']);
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: ['stdout', 'stderr'] })), ['out']);
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: ['system'] })), ['runtime\n', 'kernel\n']);
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: ['all'] })), ['runtime\n', 'kernel\n', 'out']);
});

test('a partial trailing text line waits for its newline, and a CR before it stays in the body (as in msb logs)', async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'runtime.log');
  writeFileSync(path, `${at(1)} one\r\n${at(2)} tw`);
  const first = await readLogsSnapshot({ logDir }, { sources: 'system' });
  assert.deepEqual(texts(first.entries), ['one\r\n']);
  appendFileSync(path, 'o\n');
  const rest = await readLogs({ logDir }, { sources: 'system', afterCursor: first.cursor });
  assert.deepEqual(texts(rest), ['two\n']);
});

test('TextLogWriter writes RFC 3339-prefixed lines that read back with their times', async (t) => {
  const logDir = tempDir(t);
  const writer = new TextLogWriter(logDir);
  writer.append('booting', new Date('2026-04-30T20:00:01.000Z'));
  writer.append('line a\nline b\n', new Date('2026-04-30T20:00:02.000Z'));
  writer.close();
  const entries = await readLogs({ logDir }, { sources: 'system' });
  assert.deepEqual(texts(entries), ['booting\n', 'line a\n', 'line b\n']);
  assert.deepEqual(
    entries.map((e) => e.timestamp.toISOString()),
    ['2026-04-30T20:00:01.000Z', '2026-04-30T20:00:02.000Z', '2026-04-30T20:00:02.000Z'],
  );
});

test("a text log replaced by a new file under a cursor restarts from the new file's beginning", async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'runtime.log');
  writeLines(path, [`${at(1)} old one`, `${at(2)} old two`, `${at(3)} old three`]);
  const { cursor } = await readLogsSnapshot({ logDir }, { sources: 'system' });
  // Replace by rename: a new inode, shorter than the old cursor offset.
  const replacement = join(logDir, 'runtime.log.new');
  writeLines(replacement, [`${at(10)} new one`]);
  renameSync(replacement, path);
  const entries = await readLogs({ logDir }, { sources: 'system', afterCursor: cursor });
  assert.deepEqual(texts(entries), ['new one\n']);
});

test('a text log that was not replaced resumes strictly after the cursor', async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'kernel.log');
  writeLines(path, [`${at(1)} a`, `${at(2)} b`]);
  const first = await readLogs({ logDir }, { sources: 'system' });
  appendFileSync(path, `${at(3)} c\n`);
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: 'system', afterCursor: first[0].cursor })), [
    'b\n',
    'c\n',
  ]);
});

test("while following, a replaced runtime.log is read from the new file's beginning after the old one's end", async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'runtime.log');
  writeLines(path, [`${at(1)} old one`]);
  const controller = new AbortController();
  const iterator = streamLogs(
    { logDir },
    { sources: 'system', follow: true, signal: controller.signal, pollIntervalMs: 50 },
  )[Symbol.asyncIterator]();
  t.after(() => {
    controller.abort();
    return iterator.return();
  });
  assert.deepEqual(texts(await take(iterator, 1)), ['old one\n']);
  appendFileSync(path, `${at(2)} old two\n`);
  const replacement = join(logDir, 'runtime.log.tmp');
  writeLines(replacement, [`${at(3)} new one`, `${at(4)} new two`]);
  renameSync(replacement, path);
  assert.deepEqual(texts(await take(iterator, 3)), ['old two\n', 'new one\n', 'new two\n']);
});

test('the timestamp is the token before the first blank: not after leading blanks, not alone, and an unparsable one is still taken off', async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'runtime.log');
  writeFileSync(
    path,
    `${[
      '   2026-04-30T20:00:01.000Z   indented',
      '2026-04-30T20:00:02.000Z',
      '2026-04-30t20:00:03.000z lower case',
      '2026-02-30T20:00:04.000Z no such day',
      '2026-04-30T20:00:05.000Z\ttabbed',
    ].join('\n')}\n`,
  );
  const mtime = new Date('2026-04-30T21:00:00.000Z');
  utimesSync(path, mtime, mtime);
  const entries = await readLogs({ logDir }, { sources: 'system' });
  // Measured against msb 0.6.18; lines without a usable time take the file's mtime and sort last.
  assert.deepEqual(
    entries.map((e) => [e.timestamp.toISOString(), e.text()]),
    [
      ['2026-04-30T20:00:05.000Z', 'tabbed\n'],
      ['2026-04-30T21:00:00.000Z', '   2026-04-30T20:00:01.000Z   indented\n'],
      ['2026-04-30T21:00:00.000Z', '2026-04-30T20:00:02.000Z\n'],
      ['2026-04-30T21:00:00.000Z', '2026-04-30t20:00:03.000z lower case\n'],
      ['2026-04-30T21:00:00.000Z', 'no such day\n'],
    ],
  );
});
