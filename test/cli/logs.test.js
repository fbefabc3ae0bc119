// `sandlog logs` as a real process: every flag of the issue, the --json shape,
// cursors (--after-cursor, --show-cursor, --cursor-file), following, and exit
// codes with one clear line on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  handCursor,
  inodeOf,
  recordLine,
  runCli,
  spawnCli,
  tempDir,
  tempSandbox,
  waitFor,
  waitForExit,
  writeLines,
  DEADLINE_MS,
} from '../helpers.js';

function sandbox(t, records, name = 'box') {
  const box = tempSandbox(t, name);
  writeLines(join(box.logDir, 'exec.log'), records);
  return box;
}

const iso = (seconds) => new Date(Date.UTC(2026, 3, 30, 20, 0, 0) + seconds * 1000).toISOString();
const rec = (n, source = 'stdout', id = 1, d = `line ${n}\n`) =>
  recordLine(iso(n), source, d, source === 'system' ? undefined : id);
const jsonLines = (stdout) =>
  stdout
    .trimEnd()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

function assertCleanError(result, code, pattern) {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  const lines = result.stderr.trimEnd().split('\n');
  assert.match(lines[0], /^sandlog: /);
  assert.match(lines[0], pattern);
  assert.ok(!/\n\s+at /.test(result.stderr), `no stack trace: ${result.stderr}`);
  if (code === 1) assert.equal(lines.length, 1, `one line: ${result.stderr}`);
}

test('prints the default sources of a sandbox by name under --home, and by MSB_HOME', async (t) => {
  const { home } = sandbox(t, [rec(1), rec(2, 'stderr'), rec(3, 'system'), rec(4, 'output', 2)]);
  const result = await runCli(['logs', 'box', '--home', home]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'line 1\nline 2\nline 4\n');
  assert.equal(result.stderr, '');
  const fromEnv = await runCli(['logs', 'box'], { env: { MSB_HOME: home } });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.equal(fromEnv.stdout, 'line 1\nline 2\nline 4\n', fromEnv.stderr);
});

test('--log-dir reads a directory directly, without a name', async (t) => {
  const { logDir } = sandbox(t, [rec(1)]);
  const result = await runCli(['logs', '--log-dir', logDir]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'line 1\n');
});

test('--source is repeatable and comma-separated; all includes system and text logs', async (t) => {
  const { home, logDir } = sandbox(t, [rec(1), rec(2, 'stderr'), rec(3, 'system')]);
  writeLines(join(logDir, 'runtime.log'), [`${iso(4)} runtime`]);
  const run = (...flags) => runCli(['logs', 'box', '--home', home, ...flags]);
  assert.equal((await run('--source', 'stderr')).stdout, 'line 2\n');
  assert.equal((await run('--source', 'stdout', '--source', 'system')).stdout, 'line 1\nline 3\nruntime\n');
  assert.equal((await run('--source', 'stderr,system')).stdout, 'line 2\nline 3\nruntime\n');
  assert.equal((await run('--source', 'all')).stdout, 'line 1\nline 2\nline 3\nruntime\n');
});

test('--tail N (and -n) counts after --source and --grep', async (t) => {
  const records = [];
  for (let n = 1; n <= 30; n++)
    records.push(rec(n, n % 2 ? 'stdout' : 'stderr', 1, `line ${n}${n % 5 === 0 ? ' five' : ''}\n`));
  const { home } = sandbox(t, records);
  const run = (...flags) => runCli(['logs', 'box', '--home', home, ...flags]);
  assert.equal((await run('--tail', '2')).stdout, 'line 29\nline 30 five\n');
  assert.equal((await run('-n', '2', '--source', 'stderr')).stdout, 'line 28\nline 30 five\n');
  assert.equal((await run('--tail', '2', '--grep', 'five')).stdout, 'line 25 five\nline 30 five\n');
  assert.equal((await run('--tail', '1', '--grep', 'five', '--source', 'stdout')).stdout, 'line 25 five\n');
  assert.equal((await run('--tail', '0')).stdout, '');
});

test('--since (inclusive) and --until (exclusive) take RFC 3339 and relative times', async (t) => {
  // Relative times are taken when each run starts, seconds after these records are stamped on a loaded
  // machine: every record sits minutes away from every bound, the newest one ahead of the clock.
  const now = Date.now();
  const { home } = sandbox(t, [
    recordLine(new Date(now - 5 * 3600_000).toISOString(), 'stdout', 'five hours ago\n', 1),
    recordLine(new Date(now - 10 * 60_000).toISOString(), 'stdout', 'ten minutes ago\n', 1),
    recordLine(new Date(now + 3600_000).toISOString(), 'stdout', 'an hour ahead\n', 1),
  ]);
  const run = (...flags) => runCli(['logs', 'box', '--home', home, ...flags]);
  assert.equal((await run('--since', '2h')).stdout, 'ten minutes ago\nan hour ahead\n');
  assert.equal((await run('--since', '1d', '--until', '1m')).stdout, 'five hours ago\nten minutes ago\n');
  assert.equal((await run('--since', '30s')).stdout, 'an hour ahead\n');
  const exact = new Date(now - 10 * 60_000).toISOString();
  assert.equal((await run('--since', exact)).stdout, 'ten minutes ago\nan hour ahead\n');
  assert.equal((await run('--until', exact)).stdout, 'five hours ago\n');
});

test('--timestamps and --show-id prefix every line of an entry', async (t) => {
  const { home } = sandbox(t, [rec(1, 'stdout', 7, 'a\nb\n'), rec(2, 'system')]);
  const run = (...flags) => runCli(['logs', 'box', '--home', home, '--source', 'all', ...flags]);
  const stamped = await run('--timestamps');
  assert.equal(stamped.stdout, `${iso(1)}\ta\n${' '.repeat(iso(1).length)}\tb\n${iso(2)}\tline 2\n`);
  const ids = await run('--show-id');
  assert.equal(ids.stdout, '[id:  7] a\n[id:  7] b\n[id:sys] line 2\n');
  assert.equal((await run('-t', '--show-id')).stdout.split('\n')[0], `${iso(1)}\t[id:  7] a`);
});

test('--json prints t, s, d, id, e and cursor; e is "b64" only for bytes that are not UTF-8', async (t) => {
  const binary = Buffer.from([0xff, 0x00, 0xfe]);
  const { home, logDir } = sandbox(t, [
    rec(1, 'stdout', 3, 'plain ✓\n'),
    recordLine(iso(2), 'stderr', binary.toString('base64'), 4, 'b64'),
    recordLine(iso(3), 'stdout', Buffer.from('utf8 in b64').toString('base64'), 4, 'b64'),
    rec(4, 'system'),
  ]);
  writeLines(join(logDir, 'runtime.log'), [`${iso(5)} rt`]);
  const result = await runCli(['logs', 'box', '--home', home, '--json', '--source', 'all']);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split('\n');
  const objects = lines.map((line) => JSON.parse(line));
  for (const object of objects) assert.deepEqual(Object.keys(object), ['t', 's', 'd', 'id', 'e', 'cursor']);
  assert.deepEqual(
    objects.map(({ t: time, s, d, id, e }) => [time, s, d, id, e]),
    [
      [iso(1), 'stdout', 'plain ✓\n', 3, null],
      [iso(2), 'stderr', binary.toString('base64'), 4, 'b64'],
      [iso(3), 'stdout', 'utf8 in b64', 4, null],
      [iso(4), 'system', 'line 4\n', null, null],
      [iso(5), 'system', 'rt\n', null, null],
    ],
  );
  const execIno = inodeOf(join(logDir, 'exec.log'));
  const execEnd = readFileSync(join(logDir, 'exec.log')).length;
  assert.equal(
    objects[3].cursor,
    handCursor([
      [execIno, execEnd],
      [0, 0],
      [0, 0],
    ]),
  );
});

test('--after-cursor starts strictly after the cursor; --show-cursor prints the last one on stderr', async (t) => {
  const { home, logDir } = sandbox(t, [rec(1), rec(2), rec(3)]);
  const first = jsonLines((await runCli(['logs', 'box', '--home', home, '--json'])).stdout);
  const after = await runCli(['logs', 'box', '--home', home, '--after-cursor', first[0].cursor, '--show-cursor']);
  assert.equal(after.code, 0, after.stderr);
  assert.equal(after.stdout, 'line 2\nline 3\n');
  assert.equal(after.stderr, `-- cursor: ${first[2].cursor}\n`);
  appendFileSync(join(logDir, 'exec.log'), `${rec(4)}\n`);
  assert.equal((await runCli(['logs', 'box', '--home', home, '--after-cursor', first[2].cursor])).stdout, 'line 4\n');
});

test('--cursor-file stores the cursor (with its checkpoint digests) and a second run resumes after it', async (t) => {
  const { home, logDir } = sandbox(t, [rec(1), rec(2)]);
  const file = join(tempDir(t), 'box.cursor');
  const first = await runCli(['logs', 'box', '--home', home, '--cursor-file', file, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const shown = jsonLines(first.stdout);
  const stored = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(stored.cursor, shown.at(-1).cursor);
  assert.match(stored.digests[0], /^[A-Za-z0-9_-]{16}$/);
  const again = await runCli(['logs', 'box', '--home', home, '--cursor-file', file]);
  assert.equal(again.stdout, '', 'nothing new');
  appendFileSync(join(logDir, 'exec.log'), `${rec(3)}\n${rec(4)}\n`);
  // --tail only shapes the first run: the stored cursor wins.
  const third = await runCli(['logs', 'box', '--home', home, '--cursor-file', file, '--tail', '1']);
  assert.equal(third.stdout, 'line 3\nline 4\n');
  assert.equal((await runCli(['logs', 'box', '--home', home, '--cursor-file', file])).stdout, '');
});

test('-f follows new entries and Ctrl-C exits 0 after storing the cursor of the last entry shown', async (t) => {
  const { home, logDir } = sandbox(t, [rec(1), rec(2), rec(3)]);
  const file = join(tempDir(t), 'follow.cursor');
  const child = spawnCli([
    'logs',
    'box',
    '--home',
    home,
    '-f',
    '--tail',
    '1',
    '--json',
    '--cursor-file',
    file,
    '--show-cursor',
  ]);
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  await waitFor(() => out.includes('line 3'), { what: 'the tail' });
  appendFileSync(join(logDir, 'exec.log'), `${rec(4)}\n`);
  await waitFor(() => out.includes('line 4'), { what: 'the followed entry' });
  await waitFor(
    () => existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).cursor === jsonLines(out).at(-1).cursor,
    { what: 'the cursor file' },
  );
  child.kill('SIGINT');
  const { code } = await waitForExit(child);
  assert.equal(code, 0, err);
  const shown = jsonLines(out);
  assert.deepEqual(
    shown.map((o) => o.d),
    ['line 3\n', 'line 4\n'],
  );
  for (const object of shown) assert.deepEqual(Object.keys(object), ['t', 's', 'd', 'id', 'e', 'cursor']);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).cursor, shown[1].cursor);
  assert.match(err, new RegExp(`-- cursor: ${shown[1].cursor.replace(/[+/=]/g, '\\$&')}\n`));
});

test('usage errors exit 2 with a clear message and no stack trace', async (t) => {
  const { home } = sandbox(t, [rec(1)]);
  const cases = [
    [['logs', 'box', '--home', home, '--tail', 'ten'], /--tail/],
    [['logs', 'box', '--home', home, '--tail', '-3'], /tail/],
    [['logs', 'box', '--home', home, '--since', 'yesterday'], /--since/],
    [['logs', 'box', '--home', home, '--until', '5 minutes'], /--until/],
    [['logs', 'box', '--home', home, '--source', 'stdin'], /stdin/],
    [['logs', 'box', '--home', home, '--grep', '(unclosed'], /regular expression/],
    [['logs', 'box', '--home', home, '--color', 'sometimes'], /--color/],
    [['logs', 'box', '--home', home, '--bogus'], /bogus/],
    [['logs', '--home', home], /name/],
    [['logs', '..', '--home', home], /sandbox name/],
    [['logs', 'x\u0001y', '--home', home], /sandbox name/],
    [['logs', 'box', '--home', home, '--after-cursor', 'AA==', '--since', '1h'], /conflicts/],
    [['logs', 'box', '--home', home, '--after-cursor', 'AA==', '--tail', '3'], /conflicts/],
    [['logs', 'box', '--home', home, '-f', '--hold-generations', '-1'], /--hold-generations/],
    [['logs', 'box', '--home', home, '-f', '--hold-generations', '2.5'], /--hold-generations/],
    [['logs', 'box', '--home', home, '-f', '--hold-generations', 'many'], /--hold-generations/],
    [['logs', 'box', '--home', home, '-f', '--hold-generations', ''], /--hold-generations/],
  ];
  for (const [args, pattern] of cases) assertCleanError(await runCli(args), 2, pattern);
  const unknown = await runCli(['frobnicate']);
  assert.equal(unknown.code, 2);
});

test('runtime errors exit 1 with one line: not found, invalid cursor, stale generation', async (t) => {
  const { home, logDir } = sandbox(t, [rec(1)]);
  assertCleanError(await runCli(['logs', 'nobody', '--home', home]), 1, /not found/);
  assertCleanError(await runCli(['logs', '--log-dir', join(home, 'missing')]), 1, /not found/);
  assertCleanError(
    await runCli(['logs', 'box', '--home', home, '--after-cursor', 'not*base64']),
    1,
    /not valid base64/,
  );
  assertCleanError(await runCli(['logs', 'box', '--home', home, '--after-cursor', 'AQ==']), 1, /wrong length/);
  const stale = handCursor([[inodeOf(join(logDir, 'exec.log')) + 99_999n, 0]]);
  assertCleanError(await runCli(['logs', 'box', '--home', home, '--after-cursor', stale, '-f']), 1, /rotation chain/);
});

test('an exec.log that is a FIFO, a directory or a symbolic link is a one-line runtime error, not a hang', async (t) => {
  const { home, logDir } = sandbox(t, []);
  const path = join(logDir, 'exec.log');
  rmSync(path);
  execFileSync('mkfifo', [path]);
  assertCleanError(await runCli(['logs', 'box', '--home', home], { timeoutMs: DEADLINE_MS }), 1, /FIFO/);
  rmSync(path);
  mkdirSync(path);
  assertCleanError(await runCli(['logs', 'box', '--home', home]), 1, /directory/);
  rmSync(path, { recursive: true });
  symlinkSync('/etc/hostname', path);
  assertCleanError(await runCli(['logs', 'box', '--home', home, '--tail', '1']), 1, /symbolic link/);
});

test('-f with an --until already past prints what came before it and ends with exit 0', async (t) => {
  const now = Date.now();
  const { home } = sandbox(t, [
    recordLine(new Date(now - 10 * 60_000).toISOString(), 'stdout', 'ten minutes ago\n', 1),
    // Ahead of the clock, so that it stays after --until however long the run takes to start.
    recordLine(new Date(now + 3600_000).toISOString(), 'stdout', 'an hour ahead\n', 1),
  ]);
  const result = await runCli(['logs', 'box', '--home', home, '-f', '--until', '1m']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'ten minutes ago\n');
});
