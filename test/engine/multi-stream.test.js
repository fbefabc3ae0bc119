// The multi-sandbox engine: selections and shell-style patterns, the
// multi-cursor codec, the merged stream (snapshot and follow, with sandboxes
// appearing) and merged history pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  streamManyLogs,
  readManyHistory,
  readLogs,
  encodeMultiCursor,
  decodeMultiCursor,
  ExecLogWriter,
} from '../../dist/index.js';
import { globToRegExp, resolveSelection } from '../../dist/engine/selection.js';
import { at, collect, recordLine, tempDir, waitFor, withTimeout, writeLines } from '../helpers.js';

function homeWith(t, sandboxes) {
  const home = tempDir(t);
  for (const [name, records] of Object.entries(sandboxes)) {
    const logDir = join(home, 'sandboxes', name, 'logs');
    mkdirSync(logDir, { recursive: true });
    writeLines(
      join(logDir, 'exec.log'),
      records.map(([seconds, body]) => recordLine(at(seconds), 'stdout', body, 1)),
    );
  }
  return home;
}

const labels = (entries) => entries.map((entry) => `${entry.sandbox}:${entry.text().trim()}`);

test('shell-style patterns match as a shell would', () => {
  const cases = [
    ['web-*', ['web-1', 'web-', 'web-long.x'], ['web', 'aweb-1']],
    ['web-?', ['web-1', 'web-x'], ['web-12', 'web-']],
    ['db[0-2]', ['db0', 'db2'], ['db3', 'db']],
    ['db[!0-2]', ['db3', 'dbx'], ['db1']],
    ['a.b', ['a.b'], ['axb']],
    ['x[', ['x['], ['x']],
    ['[]]z', [']z'], ['z']],
    ['*', ['anything', 'é'], []],
    ['a\\[1]', ['a[1]'], ['a1']],
  ];
  for (const [glob, yes, no] of cases) {
    const pattern = globToRegExp(glob);
    for (const name of yes) assert.ok(pattern.test(name), `${glob} should match ${name}`);
    for (const name of no) assert.ok(!pattern.test(name), `${glob} should not match ${name}`);
  }
  assert.deepEqual(resolveSelection(['a', 'web-*', 'a']).names, ['a']);
  assert.equal(resolveSelection(['a']).dynamic, false);
  assert.equal(resolveSelection({ all: true }).dynamic, true);
  assert.throws(() => resolveSelection([]), { code: 'INVALID_OPTIONS' });
  assert.throws(() => resolveSelection(['../x']), { code: 'INVALID_SANDBOX_NAME' });
  assert.throws(() => resolveSelection(['a/*']), { code: 'INVALID_OPTIONS' });
});

test('a multi-cursor is base64url JSON with sorted names; bad ones are InvalidCursorErrors', () => {
  const cursor = encodeMultiCursor({ b: 'AA==', a: 'ASoAAAAAAAAAZAAAAAAAAAA=' });
  assert.match(cursor, /^[A-Za-z0-9_-]+$/);
  assert.equal(Buffer.from(cursor, 'base64url').toString(), '{"a":"ASoAAAAAAAAAZAAAAAAAAAA=","b":"AA=="}');
  assert.deepEqual(
    [...decodeMultiCursor(cursor)],
    [
      ['a', 'ASoAAAAAAAAAZAAAAAAAAAA='],
      ['b', 'AA=='],
    ],
  );
  assert.deepEqual([...decodeMultiCursor('{"x":"AA=="}')], [['x', 'AA==']]);
  for (const bad of [
    '',
    'not base64url!',
    Buffer.from('[1]').toString('base64url'),
    Buffer.from('{"a":1}').toString('base64url'),
    Buffer.from('{"a":"zz"}').toString('base64url'),
    Buffer.from('{"..":"AA=="}').toString('base64url'),
  ]) {
    assert.throws(() => decodeMultiCursor(bad), { code: 'INVALID_CURSOR' }, bad);
  }
});

test('the merged snapshot includes runtime.log entries and its end cursor names every sandbox', async (t) => {
  const home = homeWith(t, {
    a: [
      [1, 'a1\n'],
      [4, 'a2\n'],
    ],
    b: [[2, 'b1\n']],
  });
  writeLines(join(home, 'sandboxes', 'b', 'logs', 'runtime.log'), [`${at(3)} runtime says hi`]);
  const stream = streamManyLogs(['a', 'b'], { home, sources: 'all' });
  const entries = await collect(stream);
  assert.deepEqual(labels(entries), ['a:a1', 'b:b1', 'b:runtime says hi', 'a:a2']);
  assert.equal(entries[2].source, 'system');
  assert.deepEqual([...decodeMultiCursor(stream.cursor).keys()], ['a', 'b']);
  // Resuming from the middle with three-file cursors continues exactly.
  const rest = await collect(streamManyLogs(['a', 'b'], { home, sources: 'all', afterCursor: entries[1].cursor }));
  assert.deepEqual(labels(rest), ['b:runtime says hi', 'a:a2']);
  // The per-sandbox cursor resumes that sandbox alone.
  const alone = await readLogs({ name: 'b', home }, { sources: 'all', afterCursor: entries[1].sandboxCursor });
  assert.deepEqual(
    alone.map((entry) => entry.text()),
    ['runtime says hi\n'],
  );
});

test('following a pattern picks up a new sandbox (event before its entries) and ends on abort', async (t) => {
  const home = homeWith(t, { 'job-1': [[1, 'one\n']] });
  const controller = new AbortController();
  const added = [];
  const stream = streamManyLogs('job-*', {
    home,
    follow: true,
    signal: controller.signal,
    discoveryIntervalMs: 50,
    onSandboxAdded: (name) => added.push(name),
  });
  const events = [];
  const done = (async () => {
    for await (const event of stream.events()) events.push(event);
  })();
  await waitFor(() => events.length >= 1, { what: 'the snapshot' });
  const logDir = join(home, 'sandboxes', 'job-2', 'logs');
  mkdirSync(logDir, { recursive: true });
  const writer = new ExecLogWriter(logDir);
  t.after(() => writer.close());
  writer.write('stdout', 'two\n', 1);
  writer.flush();
  await waitFor(
    () => events.some((event) => event.type === 'entries' && event.entries.some((entry) => entry.sandbox === 'job-2')),
    { what: 'the new sandbox' },
  );
  assert.deepEqual(added, ['job-2']);
  const kinds = events.map((event) =>
    event.type === 'entries' ? labels(event.entries).join(',') : `${event.type}:${event.sandbox}`,
  );
  assert.deepEqual(kinds, ['job-1:one', 'sandbox-added:job-2', 'job-2:two']);
  assert.deepEqual(stream.sandboxes, ['job-1', 'job-2']);
  controller.abort();
  await withTimeout(done, 10_000, 'the stream to end on abort');
});

test('a followed stream hands out new entries of every sandbox, and its cursor resumes each exactly', async (t) => {
  const home = homeWith(t, { a: [], b: [] });
  const writers = Object.fromEntries(
    ['a', 'b'].map((name) => [name, new ExecLogWriter(join(home, 'sandboxes', name, 'logs'), { maxBytes: 400 })]),
  );
  t.after(() =>
    Object.values(writers).forEach((writer) => {
      writer.close();
    }),
  );
  const stream = streamManyLogs(['a', 'b'], { home, follow: true });
  const seen = [];
  const iterator = stream[Symbol.asyncIterator]();
  for (let i = 0; i < 30; i++) {
    const name = i % 3 === 0 ? 'b' : 'a';
    writers[name].write('stdout', `${name}${i}\n`, 1);
    writers[name].flush();
    const { value } = await withTimeout(iterator.next(), 10_000, `entry ${i}`);
    seen.push(value);
  }
  assert.deepEqual(
    labels(seen),
    Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? `b:b${i}` : `a:a${i}`)),
  );
  const cursor = stream.cursor;
  await iterator.return();
  writers.a.write('stdout', 'after\n', 1);
  writers.a.flush();
  const rest = await collect(streamManyLogs(['a', 'b'], { home, afterCursor: cursor }));
  assert.deepEqual(labels(rest), ['a:after']);
});

test('a merged history page leaves out sandboxes its cursor does not name', async (t) => {
  const home = homeWith(t, {
    a: [
      [1, 'a1\n'],
      [3, 'a2\n'],
    ],
    b: [
      [2, 'b1\n'],
      [4, 'b2\n'],
    ],
  });
  const newest = await readManyHistory({ all: true }, { home, limit: 3 });
  assert.deepEqual(labels(newest.entries), ['b:b1', 'a:a2', 'b:b2']);
  const older = await readManyHistory({ all: true }, { home, limit: 3, before: newest.cursor });
  assert.deepEqual(labels(older.entries), ['a:a1']);
  assert.equal(older.start, true);
  // Only `a` named: `b` contributes nothing.
  const onlyA = encodeMultiCursor({ a: decodeMultiCursor(newest.entries[1].cursor).get('a') });
  const page = await readManyHistory({ all: true }, { home, limit: 10, before: onlyA });
  assert.deepEqual(labels(page.entries), ['a:a1']);
  await assert.rejects(readManyHistory(['a'], { home, tail: 3 }), { code: 'INVALID_OPTIONS' });
});
