// Hostile input corpus (issue 6, part 4): log directories a broken or
// malicious sandbox (or a careless admin) could leave. Each case has one
// defined outcome — the record skipped and counted (handle.malformed), a clear
// SandlogError, a warning, or the stream ending — and none may hang, crash, or
// read outside the home. Every read here runs under a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  streamLogs,
  ExecLogWriter,
  SandlogError,
  SandboxNotFoundError,
  LogFileError,
  InvalidSandboxNameError,
} from '../../dist/index.js';
import { at, recordLine, runCli, tempDir, tempSandbox, withTimeout, DEADLINE_MS } from '../helpers.js';

const T = at(0);

/** Reads a whole log (not following): { entries, malformed, warnings, error }. Never hangs: a deadline fails the test. */
async function readAll(target, options = {}) {
  const warnings = [];
  const handle = streamLogs(target, { ...options, onWarning: (warning) => warnings.push(warning) });
  const entries = [];
  let error;
  try {
    await withTimeout(
      (async () => {
        for await (const batch of handle.batches()) entries.push(...batch);
      })(),
      DEADLINE_MS,
      'reading the log',
    );
  } catch (caught) {
    if (/timed out/.test(String(caught?.message))) throw caught;
    error = caught;
  }
  return { entries, malformed: handle.malformed, warnings, error };
}

function writeExecLog(logDir, lines, name = 'exec.log') {
  writeFileSync(
    join(logDir, name),
    Buffer.concat(
      lines.map((line) => Buffer.concat([Buffer.isBuffer(line) ? line : Buffer.from(line), Buffer.from('\n')])),
    ),
  );
}

const good = (d, id = 1) => recordLine(T, 'stdout', d, id);
const text = (entry) => Buffer.from(entry.data).toString('utf8');

// Lines that are not records: each must be skipped and counted, and the record after it delivered.
const MALFORMED_LINES = {
  'truncated JSON': `{"t":"${T}","s":"stdout","d":"half a rec`,
  'truncated after a key': `{"t":"${T}","s":"stdout","d":`,
  'a lone brace': '{',
  'not JSON': 'hello world',
  'a JSON array': '[1,2,3]',
  'a JSON string': '"just a string"',
  'invalid UTF-8 in a value': Buffer.concat([
    Buffer.from(`{"t":"${T}","s":"stdout","d":"a`),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('b","id":1}'),
  ]),
  'invalid UTF-8 in a key': Buffer.concat([
    Buffer.from(`{"t":"${T}","s":"stdout","d":"a","`),
    Buffer.from([0xc3, 0x28]),
    Buffer.from('":1}'),
  ]),
  'invalid UTF-8 in the time': Buffer.concat([
    Buffer.from(`{"t":"2026-04-30T20:00:00.000`),
    Buffer.from([0xe2, 0x82]),
    Buffer.from('","s":"stdout","d":"a"}'),
  ]),
  'a raw NUL inside the body': Buffer.concat([
    Buffer.from(`{"t":"${T}","s":"stdout","d":"a`),
    Buffer.from([0]),
    Buffer.from('b","id":1}'),
  ]),
  'a line of NUL bytes (a crash on some file systems)': Buffer.alloc(4096),
  'a raw newline-free control byte': `{"t":"${T}","s":"stdout","d":"a\u0001b","id":1}`,
  'time as a number': `{"t":1714507200000,"s":"stdout","d":"x","id":1}`,
  'source as a number': `{"t":"${T}","s":1,"d":"x","id":1}`,
  'body as a number': `{"t":"${T}","s":"stdout","d":5,"id":1}`,
  'body as an object': `{"t":"${T}","s":"stdout","d":{"nested":true},"id":1}`,
  'id as a string': `{"t":"${T}","s":"stdout","d":"x","id":"3"}`,
  'negative id': `{"t":"${T}","s":"stdout","d":"x","id":-1}`,
  'fractional id': `{"t":"${T}","s":"stdout","d":"x","id":1.5}`,
  'encoding as a number': `{"t":"${T}","s":"stdout","d":"x","id":1,"e":7}`,
  'unknown source': `{"t":"${T}","s":"stdin","d":"x","id":1}`,
  'month 13': `{"t":"2026-13-01T00:00:00.000Z","s":"stdout","d":"x","id":1}`,
  'February 30': `{"t":"2026-02-30T00:00:00.000Z","s":"stdout","d":"x","id":1}`,
  'hour 24': `{"t":"2026-04-30T24:00:00.000Z","s":"stdout","d":"x","id":1}`,
  'a six-digit year': `{"t":"+275760-09-13T00:00:00.000Z","s":"stdout","d":"x","id":1}`,
  'no time zone': `{"t":"2026-04-30T20:00:00.000","s":"stdout","d":"x","id":1}`,
  'an offset out of range': `{"t":"2026-04-30T20:00:00.000+24:00","s":"stdout","d":"x","id":1}`,
  'a bad escape': `{"t":"${T}","s":"stdout","d":"\\x41","id":1}`,
  'a short unicode escape': `{"t":"${T}","s":"stdout","d":"\\u12","id":1}`,
  'deeply nested JSON in d': `{"t":"${T}","s":"stdout","d":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)},"id":1}`,
  'a line of 1,000,000 nested arrays': `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`,
};

test('each malformed line is skipped and counted, and the records around it are delivered', async (t) => {
  for (const [name, line] of Object.entries(MALFORMED_LINES)) {
    const logDir = join(tempDir(t), 'logs');
    mkdirSync(logDir);
    writeExecLog(logDir, [good('before\n'), line, good('after\n')]);
    const { entries, malformed, error } = await readAll({ logDir });
    assert.equal(error, undefined, `${name}: ${error}`);
    assert.deepEqual(entries.map(text), ['before\n', 'after\n'], `${name}: records around it`);
    assert.equal(malformed, 1, `${name}: counted as one malformed record`);
  }
});

test('records with surprising but valid fields are delivered as the format defines', async (t) => {
  const { logDir } = tempSandbox(t);
  const lines = [
    `{"t":"${T}","s":"stdout","d":"big id","id":9007199254740993}`,
    `{"t":"${T}","s":"stdout","d":"huge id","id":${'9'.repeat(400)}}`,
    `{"t":"2026-04-30T22:00:00.000+02:00","s":"stdout","d":"offset","id":1}`,
    `{"t":"2026-04-30T20:00:00.000-00:00","s":"stdout","d":"minus zero","id":1}`,
    `{"t":"2026-04-30T20:00:00.123456789Z","s":"stdout","d":"nanoseconds","id":1}`,
    `{"t":"9999-12-31T23:59:59.999Z","s":"stdout","d":"far future","id":1}`,
    `{"t":"1970-01-01T00:00:00Z","s":"stdout","d":"epoch","id":1}`,
    `{"t":"${T}","s":"stdout","d":"escaped NUL \\u0000 and ESC \\u001b","id":1}`,
    `{"t":"${T}","s":"stdout","d":"{\\"nested\\":{\\"json\\":[1,2,{\\"x\\":null}]}}","id":1}`,
    `{"t":"${T}","s":"stdout","d":"not base64!","id":1,"e":"b64"}`,
    `{"t":"${T}","s":"stdout","d":"lone surrogate \\ud800","id":1}`,
    `{"id":2,"d":"keys in another order","s":"stderr","t":"${T}"}`,
    `{"t":"${T}","s":"stdout","d":"unknown keys","id":1,"x":{"y":[1]},"zz":null}`,
    `{"t":"${T}","s":"stdout","d":"CRLF line end","id":1}\r`,
    `  {"t":"${T}","s":"stdout","d":"leading spaces","id":1}  `,
  ];
  writeExecLog(logDir, lines);
  const { entries, malformed, error } = await readAll({ logDir });
  assert.equal(error, undefined);
  // As microsandbox (issue 9): an id that is not a u64 and a lone surrogate escape make a record malformed.
  assert.equal(malformed, 2);
  const byText = new Map(entries.map((entry) => [text(entry), entry]));
  assert.equal(entries.length, lines.length - 2);
  assert.equal(byText.get('big id').sessionId, 9007199254740993n, 'an id beyond 2^53 is held exactly, as a bigint');
  assert.ok(!byText.has('huge id'));
  assert.equal(byText.get('offset').timestamp.toISOString(), '2026-04-30T20:00:00.000Z', 'an offset is applied');
  assert.equal(byText.get('minus zero').timestamp.toISOString(), '2026-04-30T20:00:00.000Z');
  assert.equal(byText.get('far future').timestamp.toISOString(), '9999-12-31T23:59:59.999Z');
  assert.ok(byText.has('escaped NUL \u0000 and ESC \u001b'), 'escaped control characters are data');
  assert.ok(byText.has('{"nested":{"json":[1,2,{"x":null}]}}'));
  assert.ok(byText.has('not base64!'), 'a b64 body that does not decode is its literal text');
  assert.ok(!byText.has('lone surrogate \ufffd'));
  assert.equal(byText.get('keys in another order').source, 'stderr');
  assert.ok(byText.has('CRLF line end'), 'a CRLF line end is a line end, and the CR is not data');
  assert.ok(byText.has('leading spaces'));
  // A snapshot is sorted by time, as microsandbox's (a stable sort: equal times keep file order).
  assert.equal(text(entries[0]), 'epoch');
  assert.equal(entries.at(-1).timestamp.toISOString(), '9999-12-31T23:59:59.999Z');
});

test('a 64 MiB record is delivered whole, and a 64 MiB garbage line is skipped and counted', {
  timeout: 120_000,
}, async (t) => {
  const { logDir } = tempSandbox(t);
  const big = Buffer.alloc(64 * 1024 * 1024, 'x');
  const fd = openSync(join(logDir, 'exec.log'), 'w');
  writeSync(fd, `${good('first\n')}\n`);
  writeSync(fd, `{"t":"${T}","s":"stdout","d":"`);
  writeSync(fd, big);
  writeSync(fd, '","id":7}\n');
  writeSync(fd, big); // 64 MiB of garbage on one line
  writeSync(fd, `\n${good('last\n')}\n`);
  closeSync(fd);
  const { entries, malformed, error } = await readAll({ logDir });
  assert.equal(error, undefined);
  assert.equal(entries.length, 3);
  assert.equal(text(entries[0]), 'first\n');
  assert.equal(entries[1].data.length, big.length);
  assert.ok(Buffer.from(entries[1].data).equals(big), 'the 64 MiB body is byte-identical');
  assert.equal(entries[1].sessionId, 7);
  assert.equal(text(entries[2]), 'last\n');
  assert.equal(malformed, 1);
  entries.length = 0;
  const tail = await readAll({ logDir }, { tail: 2 });
  assert.deepEqual(
    tail.entries.map((entry) => entry.data.length),
    [big.length, 5],
    'tail reads backwards over the long lines',
  );
});

test('a sandbox whose log directory is a symbolic link out of the home is not found, and nothing outside is read', async (t) => {
  const home = tempDir(t);
  const outside = tempDir(t);
  mkdirSync(join(outside, 'logs'));
  writeExecLog(join(outside, 'logs'), [good('SECRET outside the home\n')]);
  mkdirSync(join(home, 'sandboxes', 'evil'), { recursive: true });
  symlinkSync(join(outside, 'logs'), join(home, 'sandboxes', 'evil', 'logs'));
  symlinkSync(outside, join(home, 'sandboxes', 'evil2'));
  for (const name of ['evil', 'evil2']) {
    const { entries, error } = await readAll({ name, home });
    assert.ok(error instanceof SandboxNotFoundError, `${name}: ${error}`);
    assert.match(error.message, /outside the home/);
    assert.equal(entries.length, 0);
    const cli = await runCli(['logs', name, '--home', home]);
    assert.equal(cli.code, 1);
    assert.ok(
      !cli.stdout.includes('SECRET') && !cli.stderr.includes('SECRET'),
      'nothing from outside the home is shown',
    );
    assert.equal(cli.stderr.trim().split('\n').length, 1, `one line: ${cli.stderr}`);
  }
});

test('log files that are symbolic links are refused with a clear error, not followed', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const outside = tempDir(t);
  writeExecLog(outside, [good('SECRET\n')], 'target.log');
  for (const link of ['exec.log', 'exec.log.1']) {
    if (link === 'exec.log.1') writeExecLog(logDir, [good('live\n')]);
    symlinkSync(join(outside, 'target.log'), join(logDir, link));
    const { entries, error } = await readAll({ name, home });
    assert.ok(error instanceof LogFileError, `${link}: ${error}`);
    assert.match(error.message, /symbolic link/);
    assert.ok(!entries.some((entry) => text(entry).includes('SECRET')));
    unlinkSync(join(logDir, link));
  }
  symlinkSync(join(outside, 'target.log'), join(logDir, 'runtime.log'));
  const system = await readAll({ name, home }, { sources: 'all' });
  assert.ok(system.error instanceof LogFileError, `runtime.log link: ${system.error}`);
});

test('exec.log replaced by a directory or a FIFO gives a clear error and never blocks', async (t) => {
  const { logDir } = tempSandbox(t);
  mkdirSync(join(logDir, 'exec.log'));
  let result = await readAll({ logDir });
  assert.ok(result.error instanceof LogFileError, String(result.error));
  assert.match(result.error.message, /is a directory/);
  rmSync(join(logDir, 'exec.log'), { recursive: true });
  execFileSync('mkfifo', [join(logDir, 'exec.log')]);
  result = await readAll({ logDir });
  assert.ok(result.error instanceof LogFileError, String(result.error));
  assert.match(result.error.message, /FIFO/);
  result = await readAll({ logDir }, { tail: 5 });
  assert.ok(result.error instanceof LogFileError, `tail: ${result.error}`);
  const cli = await runCli(['logs', '--log-dir', logDir, '-f'], { timeoutMs: DEADLINE_MS });
  assert.equal(cli.code, 1, 'following a FIFO fails at once');
  assert.match(cli.stderr, /^sandlog: .*FIFO.*\n$/);
});

test('exec.log replaced by a directory while being followed ends the stream with a clear error', async (t) => {
  const { logDir } = tempSandbox(t);
  const writer = new ExecLogWriter(logDir);
  writer.write('stdout', 'one\n', 1);
  writer.close();
  const handle = streamLogs({ logDir }, { follow: true, pollIntervalMs: 50 });
  const iterator = handle[Symbol.asyncIterator]();
  assert.equal(text((await withTimeout(iterator.next(), DEADLINE_MS, 'first entry')).value), 'one\n');
  unlinkSync(join(logDir, 'exec.log'));
  mkdirSync(join(logDir, 'exec.log'));
  await assert.rejects(
    withTimeout(iterator.next(), DEADLINE_MS, 'the follower noticing'),
    (error) => error instanceof SandlogError && !/timed out/.test(error.message),
  );
  await handle.close();
});

test('files without read permission: refused with a clear error, or read when the process may read them anyway (root)', async (t) => {
  const { logDir } = tempSandbox(t);
  writeExecLog(logDir, [good('private\n')]);
  chmodSync(join(logDir, 'exec.log'), 0o000);
  let readable = true;
  try {
    readFileSync(join(logDir, 'exec.log'));
  } catch {
    readable = false;
  }
  const { entries, error } = await readAll({ logDir });
  if (readable) {
    // Root (CAP_DAC_OVERRIDE) reads mode-000 files: the defined outcome is then an ordinary read.
    assert.equal(error, undefined);
    assert.deepEqual(entries.map(text), ['private\n']);
  } else {
    assert.ok(error instanceof LogFileError, String(error));
    assert.match(error.message, /permission denied/);
  }
  t.diagnostic(`mode 000 exec.log ${readable ? 'readable (running as root)' : 'refused'}`);
});

test('a log directory deleted while being followed ends the stream after what was written', async (t) => {
  const { logDir } = tempSandbox(t);
  const writer = new ExecLogWriter(logDir);
  writer.write('stdout', 'one\n', 1);
  writer.flush();
  const handle = streamLogs({ logDir }, { follow: true, pollIntervalMs: 50 });
  const iterator = handle[Symbol.asyncIterator]();
  assert.equal(text((await withTimeout(iterator.next(), DEADLINE_MS, 'first entry')).value), 'one\n');
  writer.write('stdout', 'two\n', 1);
  writer.close();
  rmSync(logDir, { recursive: true, force: true });
  const rest = [];
  await withTimeout(
    (async () => {
      for (;;) {
        const step = await iterator.next();
        if (step.done) return;
        rest.push(text(step.value));
      }
    })(),
    DEADLINE_MS,
    'the follower ending after its directory was deleted',
  );
  assert.deepEqual(rest, ['two\n'], 'what was written before the deletion is still delivered (from the open file)');
});

test('copytruncate: the live file truncated and rewritten in place is detected, warned about and read from the start', async (t) => {
  const { logDir } = tempSandbox(t);
  const path = join(logDir, 'exec.log');
  writeExecLog(logDir, [good('one\n'), good('two\n'), good('three\n')]);
  const warnings = [];
  const handle = streamLogs(
    { logDir },
    { follow: true, pollIntervalMs: 50, onWarning: (warning) => warnings.push(warning) },
  );
  const iterator = handle[Symbol.asyncIterator]();
  for (const expected of ['one\n', 'two\n', 'three\n']) {
    assert.equal(text((await withTimeout(iterator.next(), DEADLINE_MS, expected)).value), expected);
  }
  // As logrotate's copytruncate does: same inode, cut to zero, then the writer goes on.
  truncateSync(path, 0);
  appendFileSync(path, `${good('new\n')}\n`);
  const next = await withTimeout(iterator.next(), DEADLINE_MS, 'the record written after the truncation');
  assert.equal(text(next.value), 'new\n');
  assert.ok(
    warnings.some((warning) => warning.code === 'FILE_TRUNCATED'),
    `warned: ${JSON.stringify(warnings)}`,
  );
  // And again, while the follower waits at the end of the file. (What is detectable is a size below the
  // reader's offset: content rewritten past that offset before the reader looks is indistinguishable from appends.)
  // The follower is most likely waiting by the time the file is cut, but not necessarily: reading a cut
  // file before or after it would wait gives the same outcome, so no sleep is needed to get the order.
  const waiting = withTimeout(iterator.next(), DEADLINE_MS, 'the record after the second truncation');
  await new Promise((resolve) => setImmediate(resolve));
  truncateSync(path, 0);
  appendFileSync(path, `${good('2\n')}\n`);
  assert.equal(text((await waiting).value), '2\n');
  assert.equal(warnings.filter((warning) => warning.code === 'FILE_TRUNCATED').length, 2);
  await handle.close();
});

test('a snapshot from a cursor beyond a truncated file warns and reads the file from the start', async (t) => {
  const { logDir } = tempSandbox(t);
  writeExecLog(logDir, [good('one\n'), good('two\n')]);
  const first = await readAll({ logDir });
  const cursor = first.entries.at(-1).cursor;
  truncateSync(join(logDir, 'exec.log'), 0);
  appendFileSync(join(logDir, 'exec.log'), `${good('fresh\n')}\n`);
  const { entries, error, warnings } = await readAll({ logDir }, { afterCursor: cursor });
  // Either defined outcome is acceptable: a clear invalid-cursor error, or a warning and the new content.
  if (error !== undefined) {
    assert.ok(error instanceof SandlogError, String(error));
  } else {
    assert.deepEqual(entries.map(text), ['fresh\n']);
    assert.ok(warnings.some((warning) => warning.code === 'FILE_TRUNCATED'));
  }
});

test('hostile sandbox names are refused before any path is built', async (t) => {
  const home = tempDir(t);
  for (const name of ['..', '.', 'a/b', '../x', 'a\u0000b', 'x\u001b[2J', '', 'n'.repeat(129)]) {
    const { error } = await readAll({ name, home });
    assert.ok(error instanceof InvalidSandboxNameError, `${JSON.stringify(name)}: ${error}`);
  }
});

test('text logs with CRLF, NUL bytes, escapes and invalid UTF-8 become system entries without crashing', async (t) => {
  const { logDir } = tempSandbox(t);
  writeFileSync(
    join(logDir, 'runtime.log'),
    Buffer.concat([
      Buffer.from(`${T} crlf line\r\n`),
      Buffer.from(`${T} nul \u0000 byte\n`),
      Buffer.from(`${T} \u001b[31mred\u001b[0m\n`),
      Buffer.from(`${T} bad `),
      Buffer.from([0xff, 0xc3]),
      Buffer.from('\n'),
      Buffer.from('no timestamp at all\n'),
    ]),
  );
  const { entries, error } = await readAll({ logDir }, { sources: 'system' });
  assert.equal(error, undefined);
  // A CR before the newline stays in a text-log body, as microsandbox reads it.
  assert.deepEqual(entries.map(text), [
    'crlf line\r\n',
    'nul \u0000 byte\n',
    'red\n',
    'bad \ufffd\ufffd\n',
    'no timestamp at all\n',
  ]);
});

test('the CLI shows a hostile corpus without crashing and reports the skipped records on stderr', async (t) => {
  const { logDir } = tempSandbox(t);
  writeExecLog(logDir, [
    good('before\n'),
    ...Object.values(MALFORMED_LINES).filter((line) => line.length < 100_000),
    good('after\n'),
  ]);
  const cli = await runCli(['logs', '--log-dir', logDir]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(cli.stdout, 'before\nafter\n');
  assert.match(cli.stderr, /skipped \d+ malformed record/);
});
