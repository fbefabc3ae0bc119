// What `sandlog logs` lets reach a terminal: sandbox output is untrusted, so
// only text, newlines, tabs and (with colour on) SGR sequences pass. Also the
// boot error shown before the log, and a reader that goes away (`| head`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, recordLine, runCli, tempSandbox, waitForExit, writeLines, DEADLINE_MS } from '../helpers.js';

const iso = (seconds) => new Date(Date.UTC(2026, 3, 30, 20, 0, 0) + seconds * 1000).toISOString();

// Every kind of sequence a hostile program might print, between letters that must survive.
const HOSTILE =
  'A\u001b]0;pwned title\u0007B\u001b]52;c;Y2xpcGJvYXJk\u001b\\C\u001b[2J\u001b[HD\u001b[5AE\u0007F\u0008G\rH' +
  '\u0085I\u009b31mJ\u001bPdevice control\u001b\\K\u001b[31mred\u001b[0mL\u001bcM\u009d8;;http://x\u009cN\u007fO\ttab\n';

function sandbox(t, bodies) {
  const box = tempSandbox(t);
  writeLines(
    join(box.logDir, 'exec.log'),
    bodies.map((d, i) => recordLine(iso(i + 1), 'stdout', d, 1)),
  );
  return box;
}

// No control character but \n, \t and (when allowed) ESC starting an SGR sequence.
function assertTerminalSafe(text, { sgr }) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x09) continue;
    if (c === 0x1b && sgr) {
      assert.match(
        text.slice(i),
        /^\u001b\[[0-9;:]*m/,
        `only SGR escapes pass, at ${JSON.stringify(text.slice(i, i + 12))}`,
      );
      continue;
    }
    assert.ok(
      !(c < 0x20 || (c >= 0x7f && c <= 0x9f)),
      `control U+${c.toString(16).padStart(4, '0')} at ${i} of ${JSON.stringify(text)}`,
    );
  }
}

test('escape sequences and control characters never reach the terminal; text around them does', async (t) => {
  const { home } = sandbox(t, [HOSTILE]);
  for (const flags of [[], ['--color', 'never'], ['--no-color'], ['--timestamps', '--show-id']]) {
    const result = await runCli(['logs', 'box', '--home', home, ...flags]);
    assert.equal(result.code, 0, result.stderr);
    assertTerminalSafe(result.stdout, { sgr: false });
    assert.match(result.stdout, /ABCDEFGHIJK ?redLMNO\ttab\n$/, JSON.stringify(flags));
  }
});

test('--color always keeps SGR colour sequences and nothing else', async (t) => {
  const { home } = sandbox(t, [HOSTILE]);
  const result = await runCli(['logs', 'box', '--home', home, '--color', 'always']);
  assert.equal(result.code, 0, result.stderr);
  assertTerminalSafe(result.stdout, { sgr: true });
  assert.equal(result.stdout, 'ABCDEFGHIJK\u001b[31mred\u001b[0mLMNO\ttab\n');
});

test('an SGR left open at the end of an entry is reset, so colour does not bleed into the next', async (t) => {
  const { home } = sandbox(t, ['\u001b[1;31mbold red\n', 'plain\n']);
  const result = await runCli(['logs', 'box', '--home', home, '--color', 'always']);
  assert.equal(result.stdout, '\u001b[1;31mbold red\u001b[0m\nplain\n');
});

test('NO_COLOR and --no-color turn colour off; an explicit --color always wins over NO_COLOR', async (t) => {
  const { home } = sandbox(t, ['\u001b[32mgreen\u001b[0m\n']);
  const run = (flags, env) => runCli(['logs', 'box', '--home', home, ...flags], { env });
  assert.equal((await run([], { NO_COLOR: '1' })).stdout, 'green\n');
  assert.equal((await run(['--color', 'auto'], { NO_COLOR: '1' })).stdout, 'green\n');
  assert.equal((await run(['--no-color'], {})).stdout, 'green\n');
  assert.equal((await run(['--color', 'always'], { NO_COLOR: '1' })).stdout, '\u001b[32mgreen\u001b[0m\n');
  assert.equal((await run([], {})).stdout, 'green\n', 'a pipe is not a terminal: auto means no colour');
  const conflict = await run(['--no-color', '--color', 'always'], {});
  assert.equal(conflict.code, 2);
});

test('--color-sessions colours each session and its id label', async (t) => {
  const box = tempSandbox(t);
  writeLines(join(box.logDir, 'exec.log'), [
    recordLine(iso(1), 'stdout', 'one\n', 1),
    recordLine(iso(2), 'stdout', 'two\n', 2),
  ]);
  const colored = await runCli(['logs', 'box', '--home', box.home, '--color-sessions', '--color', 'always']);
  assertTerminalSafe(colored.stdout, { sgr: true });
  const [first, second] = colored.stdout.trimEnd().split('\n');
  assert.match(first, /^\u001b\[\d+m\[id: {2}1\]\u001b\[0m \u001b\[\d+mone\u001b\[0m$/);
  assert.notEqual(first.slice(0, 5), second.slice(0, 5), 'different sessions, different colours');
  const plain = await runCli(['logs', 'box', '--home', box.home, '--color-sessions']);
  assert.equal(plain.stdout, '[id:  1] one\n[id:  2] two\n');
});

test('--json is unaffected by sanitising: the exact text comes back through JSON', async (t) => {
  const { home } = sandbox(t, [HOSTILE]);
  const result = await runCli(['logs', 'box', '--home', home, '--json', '--color', 'always']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).d, HOSTILE);
  // JSON escapes every C0 control and so every ESC; sandlog escapes DEL and C1 controls too (JSON allows them raw).
  assert.ok(
    !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(result.stdout.slice(0, -1)),
    'no raw C0, DEL or C1 control',
  );
});

test('--json escapes DEL and C1 controls in bodies written raw, and keeps other text as it is', async (t) => {
  const box = tempSandbox(t);
  const record = (d) => `{"t":"${iso(1)}","s":"stdout","d":"${d}","id":1}\n`;
  writeFileSync(join(box.logDir, 'exec.log'), record('a\u009b2Jb\u007fc \u00b0 é') + record('plain é\\n'));
  const result = await runCli(['logs', 'box', '--home', box.home, '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!/[\u007f-\u009f]/.test(result.stdout), 'no raw DEL or C1 control');
  assert.match(result.stdout, /"d":"a\\u009b2Jb\\u007fc ° é"/);
  assert.deepEqual(
    result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line).d),
    ['a\u009b2Jb\u007fc \u00b0 é', 'plain é\n'],
  );
});

test('a text-log line is sanitised too', async (t) => {
  const box = tempSandbox(t);
  writeFileSync(join(box.logDir, 'runtime.log'), `${iso(1)} boot \u001b]0;x\u0007ok\u009b2J\n`);
  const result = await runCli(['logs', 'box', '--home', box.home, '--source', 'system']);
  assert.equal(result.stdout, 'boot ok\n');
});

test('boot-error.json is shown before the log, and as a boot-error line first in --json', async (t) => {
  const { home, logDir } = sandbox(t, ['after boot\n']);
  const record = { t: iso(0), stage: 'spawn', errno: 2, message: 'no such file: /bin/\u001b]0;evil\u0007app' };
  writeFileSync(join(logDir, 'boot-error.json'), `${JSON.stringify(record)}\n`);
  const text = await runCli(['logs', 'box', '--home', home]);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, 'after boot\n');
  assert.match(text.stderr, /spawn/);
  assert.match(text.stderr, /no such file: \/bin\/app/);
  assertTerminalSafe(text.stderr, { sgr: false });
  const json = await runCli(['logs', 'box', '--home', home, '--json']);
  const [first, second] = json.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(first, { t: iso(0), s: 'boot-error', d: record });
  assert.equal(second.d, 'after boot\n');
});

test('piping into head -c 10 ends quietly with exit 0', async (t) => {
  const bodies = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'x'.repeat(60)}\n`);
  const { home } = sandbox(t, bodies);
  for (const flags of [[], ['--json'], ['-f']]) {
    const script = `"${process.execPath}" "${CLI}" logs box --home "${home}" ${flags.join(' ')} | head -c 10; echo "status=\${PIPESTATUS[0]}"`;
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    const { code } = await waitForExit(child, DEADLINE_MS);
    assert.equal(code, 0);
    assert.equal(err, '', `quiet stderr with ${flags}`);
    assert.match(out, /status=0\n$/, `exit 0 with ${flags}: ${out}`);
    assert.equal(out.replace(/status=0\n$/, '').length, 10);
  }
});

test('--color auto colours on a terminal, unless NO_COLOR is set; hostile sequences are removed either way', async (t) => {
  const { spawn: spawnPty } = await import('node-pty');
  const { home } = sandbox(t, [`\u001b[32mgreen\u001b[0m \u001b]0;title\u0007\u001b[2Jok\n`]);
  const runInTerminal = (env) =>
    new Promise((resolve, reject) => {
      const terminal = spawnPty(process.execPath, [CLI, 'logs', 'box', '--home', home], {
        cols: 200,
        rows: 20,
        env: { ...process.env, ...env },
      });
      let out = '';
      const timer = setTimeout(() => {
        terminal.kill();
        reject(new Error(`no exit in a terminal; output so far ${JSON.stringify(out)}`));
      }, 20_000);
      terminal.onData((data) => (out += data));
      terminal.onExit(({ exitCode }) => {
        clearTimeout(timer);
        resolve({ exitCode, out });
      });
    });
  const colored = await runInTerminal({ NO_COLOR: '' });
  assert.equal(colored.exitCode, 0, colored.out);
  assert.equal(colored.out.replace(/\r\n/g, '\n'), '\u001b[32mgreen\u001b[0m ok\n');
  const plain = await runInTerminal({ NO_COLOR: '1' });
  assert.equal(plain.out.replace(/\r\n/g, '\n'), 'green ok\n');
});
