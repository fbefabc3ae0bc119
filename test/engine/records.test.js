// exec.log record parsing, observed through readLogs over real files: the
// common shape, every other valid JSON shape, bodies (escapes, base64), and
// the lines a reader must skip and count without failing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLogs, streamLogs } from '../../dist/index.js';
import { at, collect, recordLine, tempDir, texts, writeLines } from '../helpers.js';

function execLog(t, content) {
  const logDir = tempDir(t);
  writeFileSync(join(logDir, 'exec.log'), content);
  return logDir;
}

async function readAll(logDir, options = {}) {
  const handle = streamLogs({ logDir }, options);
  const entries = await collect(handle);
  return { entries, malformed: handle.malformed };
}

test('records in the writer key order are read with time, source, session id and exact bytes', async (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log'), [
    '{"t":"2026-04-30T20:32:59.688Z","s":"stdout","d":"hello\\n","id":1}',
    '{"t":"2026-04-30T20:32:59.689Z","s":"stderr","d":"oops\\n","id":2}',
    '{"t":"2026-04-30T20:33:00.000Z","s":"output","d":"pty ✓","id":3}',
    '{"t":"2026-04-30T20:33:01.000Z","s":"system","d":"exited\\n"}',
  ]);
  const entries = await readLogs({ logDir }, { sources: 'all' });
  assert.deepEqual(
    entries.map((e) => [e.timestamp.toISOString(), e.source, e.sessionId, e.text()]),
    [
      ['2026-04-30T20:32:59.688Z', 'stdout', 1, 'hello\n'],
      ['2026-04-30T20:32:59.689Z', 'stderr', 2, 'oops\n'],
      ['2026-04-30T20:33:00.000Z', 'output', 3, 'pty ✓'],
      ['2026-04-30T20:33:01.000Z', 'system', null, 'exited\n'],
    ],
  );
  assert.ok(entries[2].data instanceof Uint8Array);
  assert.deepEqual(Buffer.from(entries[2].data), Buffer.from('pty ✓'));
});

test('records with other key orders, spacing and extra keys are read the same', async (t) => {
  const logDir = execLog(
    t,
    `${[
      '{"s":"stdout","d":"a","t":"2026-04-30T20:00:01.000Z","id":1}',
      '{ "id" : 2 , "d" : "b" , "s" : "stderr" , "t" : "2026-04-30T20:00:02.000Z" }',
      '{"t":"2026-04-30T20:00:03.000Z","s":"stdout","d":"c","id":3,"host":"x","extra":{"nested":[1,2]}}',
      '{"t":"2026-04-30T20:00:04.000Z","s":"stdout","d":"d","id":null,"e":null}',
      '{"t":"2026-04-30T20:00:05+02:00","s":"stdout","d":"e","id":4}',
    ].join('\n')}\n`,
  );
  const { entries, malformed } = await readAll(logDir);
  assert.equal(malformed, 0);
  // A snapshot is sorted by time (a stable sort, as microsandbox's): 'e' is two hours earlier in UTC.
  assert.deepEqual(texts(entries), ['e', 'a', 'b', 'c', 'd']);
  assert.deepEqual(
    entries.map((e) => e.sessionId),
    [4, 1, 2, 3, null],
  );
  assert.equal(entries[0].timestamp.toISOString(), '2026-04-30T18:00:05.000Z');
});

test('a record without d has an empty body', async (t) => {
  const logDir = execLog(t, '{"t":"2026-04-30T20:00:01.000Z","s":"stdout","id":1}\n');
  const entries = await readLogs({ logDir });
  assert.equal(entries.length, 1);
  assert.equal(entries[0].data.length, 0);
  assert.equal(entries[0].text(), '');
});

test('b64 bodies are decoded to their exact bytes; an invalid b64 body is delivered literally', async (t) => {
  const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x80]);
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log'), [
    recordLine(at(1), 'stdout', bytes.toString('base64'), 1, 'b64'),
    recordLine(at(2), 'stdout', 'not base64!', 1, 'b64'),
    `{"e":"b64","id":1,"t":${JSON.stringify(at(3))},"s":"stdout","d":${JSON.stringify(Buffer.from('slow path').toString('base64'))}}`,
  ]);
  const { entries, malformed } = await readAll(logDir);
  assert.equal(malformed, 0);
  assert.deepEqual(Buffer.from(entries[0].data), bytes);
  assert.equal(entries[0].text(), Buffer.from(bytes).toString('utf8'));
  assert.equal(entries[1].text(), 'not base64!');
  assert.equal(entries[2].text(), 'slow path');
});

test('JSON escapes in bodies are decoded, \\u surrogate pairs to one character; a lone surrogate makes the record malformed', async (t) => {
  const logDir = execLog(
    t,
    `${[
      String.raw`{"t":"2026-04-30T20:00:01.000Z","s":"stdout","d":"q\" b\\ s\/ n\n t\t r\r b\b f\f","id":1}`,
      String.raw`{"t":"2026-04-30T20:00:02.000Z","s":"stdout","d":"\u00e9\u2713 \ud83d\ude00!","id":1}`,
      String.raw`{"t":"2026-04-30T20:00:03.000Z","s":"stdout","d":"lone \ud800 x","id":1}`,
      String.raw`{"d":"slow \ud83d\ude00","t":"2026-04-30T20:00:04.000Z","s":"stdout","id":1}`,
    ].join('\n')}\n`,
  );
  const { entries, malformed } = await readAll(logDir);
  assert.equal(entries[0].text(), 'q" b\\ s/ n\n t\t r\r b\b f\f');
  assert.equal(entries[1].text(), 'é✓ 😀!');
  assert.deepEqual(Buffer.from(entries[1].data), Buffer.from('é✓ 😀!', 'utf8'));
  // microsandbox's serde reader refuses a lone surrogate: the record is skipped there, so here too.
  assert.equal(malformed, 1);
  assert.equal(entries.length, 3);
  assert.equal(entries[2].text(), 'slow 😀');
});

test('malformed lines are skipped and counted, and the records around them still come out', async (t) => {
  const good = (n) => recordLine(at(n), 'stdout', `good ${n}\n`, 1);
  const lines = [
    good(1),
    'this is not JSON',
    '{"t":"2026-04-30T20:00:02.000Z","s":"stdout","d":"cut off',
    recordLine(at(3), 'bogus', 'unknown source', 1),
    recordLine('yesterday', 'stdout', 'bad time', 1),
    recordLine('2026-02-30T20:00:00.000Z', 'stdout', 'no such day', 1),
    `{"t":${JSON.stringify(at(4))},"s":"stdout","d":42,"id":1}`,
    `{"t":12345,"s":"stdout","d":"numeric t","id":1}`,
    `{"t":${JSON.stringify(at(4))},"s":7,"d":"numeric s","id":1}`,
    `{"t":${JSON.stringify(at(4))},"s":"stdout","d":"negative id","id":-1}`,
    '[1,2,3]',
    'null',
    good(5),
  ];
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log'), lines);
  const { entries, malformed } = await readAll(logDir);
  assert.deepEqual(texts(entries), ['good 1\n', 'good 5\n']);
  assert.equal(malformed, lines.length - 2);
});

test('a record whose bytes are not valid UTF-8 is skipped and counted, on both parser paths', async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'exec.log');
  writeLines(path, [recordLine(at(1), 'stdout', 'before\n', 1)]);
  appendFileSync(
    path,
    Buffer.concat([
      Buffer.from(`{"t":"${at(2)}","s":"stdout","d":"bad `),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('","id":1}\n'),
    ]),
  );
  appendFileSync(
    path,
    Buffer.concat([Buffer.from(`{"d":"bad `), Buffer.from([0xff]), Buffer.from(`","s":"stdout","t":"${at(3)}"}\n`)]),
  );
  appendFileSync(path, `${recordLine(at(4), 'stdout', 'after\n', 1)}\n`);
  const { entries, malformed } = await readAll(logDir);
  assert.deepEqual(texts(entries), ['before\n', 'after\n']);
  assert.equal(malformed, 2);
});

test('blank lines are skipped without counting, and CRLF line ends are accepted', async (t) => {
  const logDir = execLog(
    t,
    `\n${recordLine(at(1), 'stdout', 'one', 1)}\r\n\n\n${recordLine(at(2), 'stdout', 'two', 1)}\n\n{"s":"stdout","t":"${at(3)}","d":"three"}\r\n`,
  );
  const { entries, malformed } = await readAll(logDir);
  assert.deepEqual(texts(entries), ['one', 'two', 'three']);
  assert.equal(malformed, 0);
});

test('a partial trailing line is not delivered until the writer finishes it', async (t) => {
  const logDir = tempDir(t);
  const path = join(logDir, 'exec.log');
  const line = recordLine(at(2), 'stdout', 'second\n', 1);
  writeFileSync(path, `${recordLine(at(1), 'stdout', 'first\n', 1)}\n${line.slice(0, 20)}`);
  const { entries, cursor } = await import('../../dist/index.js').then((m) => m.readLogsSnapshot({ logDir }));
  assert.deepEqual(texts(entries), ['first\n']);
  appendFileSync(path, `${line.slice(20)}\n`);
  const rest = await readLogs({ logDir }, { afterCursor: cursor });
  assert.deepEqual(texts(rest), ['second\n']);
});

test('only the requested sources come out, system only when asked for', async (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log'), [
    recordLine(at(1), 'stdout', 'o', 1),
    recordLine(at(2), 'stderr', 'e', 1),
    recordLine(at(3), 'output', 'p', 2),
    recordLine(at(4), 'system', 's\n'),
  ]);
  assert.deepEqual(texts(await readLogs({ logDir })), ['o', 'e', 'p']);
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: ['stderr'] })), ['e']);
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: 'stdout,system' })), ['o', 's\n']);
  assert.deepEqual(texts(await readLogs({ logDir }, { sources: ['all'] })), ['o', 'e', 'p', 's\n']);
});

test('lines of only spaces, tabs or a CR are blank: skipped and not counted as malformed', async (t) => {
  const logDir = execLog(
    t,
    `${recordLine(at(1), 'stdout', 'a', 1)}\r\n\r\n   \n\t\n \r\n${recordLine(at(2), 'stdout', 'b', 1)}\r\n`,
  );
  const { entries, malformed } = await readAll(logDir);
  assert.deepEqual(texts(entries), ['a', 'b']);
  assert.equal(malformed, 0);
  const tail = streamLogs({ logDir }, { tail: 5 });
  assert.deepEqual(texts(await collect(tail)), ['a', 'b']);
  assert.equal(tail.malformed, 0);
});

test('a b64 body written with JSON escapes (\\/) is unescaped before decoding, on both parser paths', async (t) => {
  const bytes = Buffer.from([0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xff, 0x3f]);
  const escaped = bytes.toString('base64').replace(/\//g, '\\/');
  assert.ok(escaped.includes('\\/'));
  const logDir = execLog(
    t,
    `{"t":"${at(1)}","s":"stdout","d":"${escaped}","id":1,"e":"b64"}\n{"e":"b64","id":1,"t":"${at(2)}","s":"stdout","d":"${escaped}"}\n`,
  );
  const entries = await readLogs({ logDir });
  assert.deepEqual(
    entries.map((e) => Buffer.from(e.data)),
    [bytes, bytes],
  );
});

test('each malformed record is reported to onWarning with where it ended, and counted', async (t) => {
  const logDir = tempDir(t);
  const good = recordLine('2026-04-30T20:00:00.000Z', 'stdout', 'ok\n', 1);
  writeLines(join(logDir, 'exec.log'), [good, '{"t":"2026-04-30T20:00:01.000Z","s":', good, 'not json at all']);
  const warnings = [];
  const handle = streamLogs({ logDir }, { onWarning: (warning) => warnings.push(warning) });
  const entries = [];
  for await (const entry of handle) entries.push(entry);
  assert.equal(entries.length, 2);
  assert.equal(handle.malformed, 2);
  assert.deepEqual(
    warnings.map((warning) => [warning.code, warning.file]),
    [
      ['MALFORMED_RECORD', 'exec.log'],
      ['MALFORMED_RECORD', 'exec.log'],
    ],
  );
  const firstEnd = Buffer.byteLength(`${good}\n{"t":"2026-04-30T20:00:01.000Z","s":\n`);
  assert.match(warnings[0].message, new RegExp(`offset ${firstEnd} `));
});
