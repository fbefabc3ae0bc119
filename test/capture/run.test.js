// `sandlog run` in pipe mode, with real child processes: what reaches the log and the terminal,
// stdin, exit statuses and signals, start failures and boot-error.json, session ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, spawnCli, tempDir, tempSandbox, waitFor, withTimeout, DEADLINE_MS } from '../helpers.js';
import { fixture, readRecords, sessionBytes, systemTexts } from './support.js';

function run(home, name, command, options = {}) {
  return runCli(['run', name, '--home', home, ...(options.flags ?? []), '--', ...command], options);
}

/** Resolves with the child's exit { code, signal }. */
function exited(child, timeoutMs = DEADLINE_MS) {
  return withTimeout(
    new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal }))),
    timeoutMs,
    'sandlog run to exit',
  );
}

function collectOutput(stream) {
  const chunks = [];
  stream.on('data', (chunk) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

test('stdout and stderr are recorded as separate sources and passed through', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await run(home, name, [process.execPath, fixture('echo.js'), 'hello', 'world']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'out: hello world\n');
  assert.equal(result.stderr, 'err: hello world\n');
  const records = readRecords(logDir);
  assert.equal(sessionBytes(records, 'stdout', 1).toString(), 'out: hello world\n');
  assert.equal(sessionBytes(records, 'stderr', 1).toString(), 'err: hello world\n');
  assert.ok(records.every((r) => r.s !== 'output'));
});

test('--quiet records the output without passing it through', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await run(home, name, ['sh', '-c', 'echo visible; echo also >&2'], { flags: ['--quiet'] });
  assert.equal(result.code, 0);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, '');
  const records = readRecords(logDir);
  assert.equal(sessionBytes(records, 'stdout', 1).toString(), 'visible\n');
  assert.equal(sessionBytes(records, 'stderr', 1).toString(), 'also\n');
});

test('lifecycle markers name the command and pid, and the exit code; the exit marker comes last', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await run(home, name, ['sh', '-c', 'echo hi; exit 5']);
  assert.equal(result.code, 5);
  const records = readRecords(logDir);
  assert.equal(records[0].s, 'system');
  const start = /^exec session 1 started \(pid (\d+)\): sh -c 'echo hi; exit 5'\n$/.exec(records[0].d);
  assert.ok(start, records[0].d);
  assert.equal(records.at(-1).s, 'system');
  assert.equal(records.at(-1).d, `exec session 1 exited with code 5 (pid ${start[1]})\n`);
  assert.ok(records.every((r) => (r.s === 'system' ? r.id === undefined : r.id === 1)));
  const runtime = readFileSync(join(logDir, 'runtime.log'), 'utf8');
  assert.match(runtime, /^\S+Z sandlog: exec session 1 started \(pid \d+\)/m);
  assert.match(runtime, /^\S+Z sandlog: exec session 1 exited with code 5/m);
});

test('stdin is forwarded to the command', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await run(home, name, ['cat'], { input: 'line one\nline two' });
  assert.equal(result.code, 0);
  assert.equal(result.stdout, 'line one\nline two');
  assert.equal(sessionBytes(readRecords(logDir), 'stdout', 1).toString(), 'line one\nline two');
});

test('output written in the last moment before exit, without a newline, is recorded', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await run(home, name, [process.execPath, fixture('last-moment.js'), '9']);
  assert.equal(result.code, 9);
  const records = readRecords(logDir);
  assert.equal(sessionBytes(records, 'stdout', 1).toString(), 'last words without newline');
  assert.equal(sessionBytes(records, 'stderr', 1).toString(), 'final complaint');
  assert.match(records.at(-1).d, /exited with code 9/);
});

test('output of a descendant that outlives the command is waited for', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await run(home, name, ['sh', '-c', '(sleep 0.3; echo from-grandchild) & echo from-child']);
  assert.equal(result.code, 0);
  const records = readRecords(logDir);
  assert.equal(sessionBytes(records, 'stdout', 1).toString(), 'from-child\nfrom-grandchild\n');
  assert.match(records.at(-1).d, /exited with code 0/);
});

test('a command killed by SIGKILL exits 137 and its exit marker names the signal', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await run(home, name, ['sh', '-c', 'echo before; kill -KILL $$']);
  assert.equal(result.code, 137);
  const records = readRecords(logDir);
  assert.equal(sessionBytes(records, 'stdout', 1).toString(), 'before\n');
  assert.match(records.at(-1).d, /^exec session 1 killed by signal SIGKILL \(pid \d+\)\n$/);
});

test('SIGTERM, SIGINT and SIGHUP sent to sandlog are forwarded to the command', async (t) => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    const { home, logDir, name } = tempSandbox(t);
    const child = spawnCli(['run', name, '--home', home, '--', process.execPath, fixture('forever.js'), 'trap']);
    const stdout = collectOutput(child.stdout);
    const stderr = collectOutput(child.stderr);
    const done = exited(child);
    await waitFor(() => stdout().includes('ready\n'), { what: 'the command to be ready' });
    child.kill(signal);
    const { code } = await done;
    assert.equal(code, 7, `after ${signal}: ${stderr()}`);
    assert.equal(stdout(), `ready\ngot ${signal}\n`);
    assert.match(readRecords(logDir).at(-1).d, /exited with code 7/);
  }
});

test('a forwarded signal that kills the command gives 128 + its number', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const child = spawnCli(['run', name, '--home', home, '--', process.execPath, fixture('forever.js')]);
  const stdout = collectOutput(child.stdout);
  const done = exited(child);
  await waitFor(() => stdout().includes('ready\n'), { what: 'the command to be ready' });
  child.kill('SIGTERM');
  const { code } = await done;
  assert.equal(code, 143);
  assert.match(readRecords(logDir).at(-1).d, /killed by signal SIGTERM/);
});

test('a command that is not found exits 127 and writes a valid boot-error.json and a runtime.log line', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await run(home, name, ['sandlog-no-such-command-xyz', 'arg']);
  assert.equal(result.code, 127);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, 'sandlog: cannot start "sandlog-no-such-command-xyz": command not found (ENOENT)\n');
  const bootError = JSON.parse(readFileSync(join(logDir, 'boot-error.json'), 'utf8'));
  assert.deepEqual(Object.keys(bootError).sort(), ['errno', 'message', 'stage', 't']);
  assert.match(bootError.t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(bootError.stage, 'spawn');
  assert.equal(bootError.errno, 2);
  assert.match(bootError.message, /command not found/);
  assert.match(
    readFileSync(join(logDir, 'runtime.log'), 'utf8'),
    /Z sandlog: cannot start "sandlog-no-such-command-xyz".*exit status 127/,
  );
  // The reader shows it too.
  const logs = await runCli(['logs', name, '--home', home, '--json']);
  assert.equal(JSON.parse(logs.stdout.split('\n')[0]).s, 'boot-error');
});

test('a command that is not executable, or a missing --cwd, exits 126', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const script = join(tempDir(t), 'not-executable.sh');
  writeFileSync(script, 'echo never\n', { mode: 0o644 });
  const notExecutable = await run(home, name, [script]);
  assert.equal(notExecutable.code, 126, notExecutable.stderr);
  assert.match(notExecutable.stderr, /permission denied/);
  assert.equal(JSON.parse(readFileSync(join(logDir, 'boot-error.json'), 'utf8')).errno, 13);
  const badCwd = await run(home, name, ['ls'], { flags: ['--cwd', join(home, 'no-such-dir')] });
  assert.equal(badCwd.code, 126, badCwd.stderr);
  assert.match(badCwd.stderr, /working directory .*no-such-dir: it does not exist/);
  assert.equal(JSON.parse(readFileSync(join(logDir, 'boot-error.json'), 'utf8')).stage, 'cwd');
});

test('a successful start removes a stale boot-error.json', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  assert.equal((await run(home, name, ['sandlog-no-such-command-xyz'])).code, 127);
  assert.ok(existsSync(join(logDir, 'boot-error.json')));
  assert.equal((await run(home, name, ['true'])).code, 0);
  assert.ok(!existsSync(join(logDir, 'boot-error.json')));
});

test('session ids increment across runs, also past sessions that printed nothing', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  await run(home, name, ['echo', 'one']);
  await run(home, name, ['true']);
  await run(home, name, ['echo', 'three']);
  const records = readRecords(logDir);
  assert.equal(sessionBytes(records, 'stdout', 1).toString(), 'one\n');
  assert.equal(sessionBytes(records, 'stdout', 3).toString(), 'three\n');
  assert.deepEqual(
    systemTexts(records).map((text) => /^exec session (\d+) (started|exited)/.exec(text).slice(1).join(' ')),
    ['1 started', '1 exited', '2 started', '2 exited', '3 started', '3 exited'],
  );
});

test('binary output round-trips byte for byte through `sandlog logs --json`', async (t) => {
  const { home, name } = tempSandbox(t);
  const result = await run(home, name, [process.execPath, fixture('binary.js')]);
  assert.equal(result.code, 0);
  const expected = Buffer.concat([
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0x80, 0xed, 0xa0, 0x80]),
  ]);
  assert.deepEqual(result.stdoutBytes, expected);
  const logs = await runCli(['logs', name, '--home', home, '--json']);
  assert.equal(logs.code, 0, logs.stderr);
  const entries = logs.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.ok(entries.some((entry) => entry.e === 'b64'));
  const bytes = Buffer.concat(
    entries.map((entry) => (entry.e === 'b64' ? Buffer.from(entry.d, 'base64') : Buffer.from(entry.d, 'utf8'))),
  );
  assert.deepEqual(bytes, expected);
});

test('a 3-byte UTF-8 character split across writes stays one character', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await run(home, name, [process.execPath, fixture('split-utf8.js')]);
  assert.equal(result.code, 0);
  const records = readRecords(logDir).filter((r) => r.s === 'stdout');
  assert.ok(
    records.every((r) => r.e === undefined),
    'no record needed base64',
  );
  assert.equal(records.map((r) => r.d).join(''), 'a€b\nü');
});

test('--env sets variables and --cwd sets the working directory', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const dir = tempDir(t);
  const result = await run(home, name, ['sh', '-c', 'echo "$GREETING $OTHER"; pwd'], {
    flags: ['--env', 'GREETING=hello=there', '-e', 'OTHER=x', '--cwd', dir],
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(sessionBytes(readRecords(logDir), 'stdout', 1).toString(), `hello=there x\n${dir}\n`);
});

test('a new sandbox name gets its log directory created; --log-dir writes a directory directly', async (t) => {
  const home = tempDir(t);
  const result = await run(home, 'fresh-box', ['echo', 'hi']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(sessionBytes(readRecords(join(home, 'sandboxes', 'fresh-box', 'logs')), 'stdout', 1).toString(), 'hi\n');
  const logDir = join(tempDir(t), 'a', 'b');
  const direct = await runCli(['run', '--log-dir', logDir, '--', 'echo', 'direct']);
  assert.equal(direct.code, 0, direct.stderr);
  assert.equal(sessionBytes(readRecords(logDir), 'stdout', 1).toString(), 'direct\n');
});

test('invalid names and bad flags are usage errors (exit 2) and run nothing', async (t) => {
  const home = tempDir(t);
  for (const args of [
    ['run', '..', '--home', home, '--', 'true'],
    ['run', 'a\u0001b', '--home', home, '--', 'true'],
    ['run', 'box', '--home', home],
    ['run', 'box', '--home', home, '--max-bytes', '0', '--', 'true'],
    ['run', 'box', '--home', home, '--env', 'NOEQUALS', '--', 'true'],
    ['run', 'box', '--home', home, '--tty', '--detach', '--', 'true'],
  ]) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /^sandlog: /);
  }
  assert.ok(!existsSync(join(home, 'sandboxes', 'box')));
});

test('--detach prints the pid and leaves the command running, recorded only in the log', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const marker = join(tempDir(t), 'go');
  const result = await run(
    home,
    name,
    ['sh', '-c', `while [ ! -e '${marker}' ]; do sleep 0.02; done; echo done-waiting; exit 4`],
    { flags: ['-d'] },
  );
  assert.equal(result.code, 0, result.stderr);
  const pid = Number(result.stdout.trim());
  assert.ok(Number.isInteger(pid) && pid > 0, result.stdout);
  mkdirSync(marker);
  await waitFor(
    () =>
      existsSync(join(logDir, 'exec.log')) && /exited with code 4/.test(readFileSync(join(logDir, 'exec.log'), 'utf8')),
    {
      what: 'the detached command to finish',
    },
  );
  const records = readRecords(logDir);
  assert.match(records[0].d, new RegExp(`^exec session 1 started \\(pid ${pid}\\)`));
  assert.equal(sessionBytes(records, 'stdout', 1).toString(), 'done-waiting\n');
  await waitFor(() => !existsSync(join(logDir, 'sandlog.lock')), { what: 'the background writer to release its lock' });
});

test('--detach reports a start failure in the foreground with its exit status', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await run(home, name, ['sandlog-no-such-command-xyz'], { flags: ['--detach'] });
  assert.equal(result.code, 127);
  assert.match(result.stderr, /command not found/);
  assert.ok(existsSync(join(logDir, 'boot-error.json')));
});

test('a reader of the pass-through that goes away (| head) stops the pass-through, not the capture', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const child = spawnCli([
    'run',
    name,
    '--home',
    home,
    '--',
    process.execPath,
    fixture('print-lines.js'),
    String(4 * 1024 * 1024),
  ]);
  const done = exited(child, 60_000);
  await withTimeout(new Promise((resolve) => child.stdout.once('data', resolve)), DEADLINE_MS, 'the first output');
  child.stdout.destroy();
  const { code } = await done;
  assert.equal(code, 0);
  const records = readRecords(logDir);
  const bytes = sessionBytes(records, 'stdout', 1);
  assert.equal(bytes.length, Math.ceil((4 * 1024 * 1024) / 9) * 9);
  assert.match(records.at(-1).d, /exited with code 0/);
});

test('a log that cannot be written stops the recording, not the command, and says so', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  // A directory where the rotation must put exec.log.1 makes the first rotation fail.
  mkdirSync(join(logDir, 'exec.log.1', 'occupied'), { recursive: true });
  const result = await run(home, name, ['sh', '-c', 'for i in 1 2 3 4 5 6; do echo line $i; done'], {
    flags: ['--max-files', '1', '--max-bytes', '300'],
  });
  assert.equal(result.code, 0);
  assert.equal(result.stdout, 'line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n');
  assert.match(result.stderr, /^sandlog: cannot write exec\.log, recording of session 1 stopped: EISDIR/);
  const runtime = readFileSync(join(logDir, 'runtime.log'), 'utf8');
  assert.match(runtime, /sandlog: cannot write exec\.log, recording of session 1 stopped/);
  assert.match(runtime, /sandlog: exec session 1 exited with code 0/);
  assert.match(runtime, /sandlog: session 1: \d+ bytes of output were not recorded/);
});

test('a stream that ends in the middle of a character still has every byte recorded', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await run(home, name, ['sh', '-c', "printf 'x\\342\\202'; printf 'y\\303' >&2"]);
  assert.equal(result.code, 0, result.stderr);
  const records = readRecords(logDir);
  assert.deepEqual(sessionBytes(records, 'stdout', 1), Buffer.from([0x78, 0xe2, 0x82]));
  assert.deepEqual(sessionBytes(records, 'stderr', 1), Buffer.from([0x79, 0xc3]));
  assert.match(records.at(-1).d, /exited with code 0/);
});
