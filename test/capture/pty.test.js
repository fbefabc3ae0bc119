// `sandlog run --tty`: a pseudo-terminal merges stdout and stderr into `output` records, stdin reaches
// the command, the terminal size follows the caller's (SIGWINCH included), the caller's terminal
// leaves raw mode afterwards, and a missing node-pty fails --tty clearly without touching pipe mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, runCli, tempSandbox, waitFor, withTimeout, DEADLINE_MS } from '../helpers.js';
import { fixture, readRecords, sessionBytes } from './support.js';

const pty = createRequire(import.meta.url)('node-pty');

test('under --tty, stdout and stderr are recorded together as output, in the order written', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await runCli([
    'run',
    name,
    '--home',
    home,
    '--tty',
    '--',
    'sh',
    '-c',
    'echo one; echo two >&2; echo three; exit 3',
  ]);
  assert.equal(result.code, 3, result.stderr);
  const records = readRecords(logDir);
  assert.ok(
    records.every((r) => r.s === 'output' || r.s === 'system'),
    JSON.stringify(records),
  );
  assert.equal(sessionBytes(records, 'output', 1).toString(), 'one\r\ntwo\r\nthree\r\n');
  assert.equal(result.stdout, 'one\r\ntwo\r\nthree\r\n');
  assert.match(records.at(-1).d, /exited with code 3/);
});

test('under --tty, stdin is forwarded to the command', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const result = await runCli(['run', name, '--home', home, '--tty', '--', 'sh', '-c', 'read line; echo "got:$line"'], {
    input: 'hello\n',
  });
  assert.equal(result.code, 0, result.stderr);
  // The terminal echoes what it is sent, as a terminal does.
  assert.match(sessionBytes(readRecords(logDir), 'output', 1).toString(), /got:hello\r\n$/);
});

test('under --tty, a command killed by a signal exits 128 + n, and one not found exits 127', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const killed = await runCli(['run', name, '--home', home, '--tty', '--', 'sh', '-c', 'kill -KILL $$']);
  assert.equal(killed.code, 137);
  assert.match(readRecords(logDir).at(-1).d, /killed by signal SIGKILL/);
  const missing = await runCli(['run', name, '--home', home, '--tty', '--', 'sandlog-no-such-command-xyz']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /command not found/);
  assert.equal(JSON.parse(readFileSync(join(logDir, 'boot-error.json'), 'utf8')).errno, 2);
});

test("the pty's size follows the caller's terminal, also when it is resized, and raw mode is undone at exit", async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const script = `'${process.execPath}' '${CLI}' run ${name} --home '${home}' --tty -- '${process.execPath}' '${fixture('winsize.js')}'; echo "status:$?"; stty -a`;
  const outer = pty.spawn('sh', ['-c', script], { cols: 100, rows: 30, env: { ...process.env, TERM: 'xterm' } });
  t.after(() => {
    try {
      outer.kill('SIGKILL');
    } catch {
      // already gone
    }
  });
  let screen = '';
  outer.onData((data) => (screen += data));
  const exited = withTimeout(
    new Promise((resolve) => outer.onExit(resolve)),
    DEADLINE_MS,
    'the outer terminal to exit',
  );

  await waitFor(() => screen.includes('size 100x30'), { what: 'the initial size' });
  outer.resize(120, 40);
  await waitFor(() => screen.includes('size 120x40'), { what: 'the size after a resize' });
  outer.write('q\r');
  await exited;

  assert.match(screen, /status:0/);
  const settings = screen.slice(screen.indexOf('status:0'));
  assert.match(settings, /(^|[\s;])icanon/, 'canonical mode is back');
  assert.doesNotMatch(settings, /-icanon|-echo\b/);
  const output = sessionBytes(readRecords(logDir), 'output', 1).toString();
  assert.match(output, /^size 100x30\r\n/);
  assert.match(output, /size 120x40\r\n/);
});

test('--tty fails with a clear message when node-pty cannot be loaded; pipe mode still works', async (t) => {
  const { home, logDir, name } = tempSandbox(t);
  const env = { NODE_OPTIONS: `--require ${fixture('no-pty.cjs')}` };
  const tty = await runCli(['run', name, '--home', home, '--tty', '--', 'echo', 'hi'], { env });
  assert.equal(tty.code, 1);
  assert.match(
    tty.stderr,
    /^sandlog: --tty needs the optional dependency node-pty, which cannot be loaded here \(simulated: .*\); run without --tty/,
  );
  assert.ok(!existsSync(join(logDir, 'boot-error.json')));
  const pipe = await runCli(['run', name, '--home', home, '--', 'echo', 'hi'], { env });
  assert.equal(pipe.code, 0, pipe.stderr);
  assert.equal(sessionBytes(readRecords(logDir), 'stdout', 1).toString(), 'hi\n');
});
