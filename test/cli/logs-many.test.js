// `sandlog logs` over several sandboxes (names, shell-style patterns, --all)
// as a real process: merged order, prefixes and colour, --json, --tail per
// sandbox, picking up sandboxes while following a pattern, cursor files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecLogWriter } from '../../dist/index.js';
import { at, recordLine, runCli, spawnCli, tempDir, waitFor, waitForExit, writeLines } from '../helpers.js';

// A home with sandboxes whose exec.log holds the given [seconds, body] records.
function homeWith(t, sandboxes) {
  const home = tempDir(t);
  for (const [name, records] of Object.entries(sandboxes)) {
    const logDir = join(home, 'sandboxes', name, 'logs');
    mkdirSync(logDir, { recursive: true });
    writeLines(
      join(logDir, 'exec.log'),
      records.map(([seconds, body, source = 'stdout']) => recordLine(at(seconds), source, body, 1)),
    );
  }
  return home;
}

function append(home, name, records) {
  appendFileSync(
    join(home, 'sandboxes', name, 'logs', 'exec.log'),
    records.map(([seconds, body]) => `${recordLine(at(seconds), 'stdout', body, 1)}\n`).join(''),
  );
}

const ESC = '\u001b';

test('entries of several sandboxes come out merged by time, ties in name order', async (t) => {
  const home = homeWith(t, {
    'web-1': [
      [1, 'w1 a\n'],
      [4, 'w1 b\n'],
      [6, 'w1 c\n'],
    ],
    'web-2': [
      [2, 'w2 a\n'],
      [4, 'w2 b\n'],
      [5, 'w2 c\n'],
    ],
    db: [
      [0, 'db a\n'],
      [7, 'db b\n'],
    ],
  });
  const { code, stdout, stderr } = await runCli(['logs', '--home', home, 'web-2', 'db', 'web-1']);
  assert.equal(code, 0, stderr);
  assert.equal(
    stdout,
    [
      'db    | db a',
      'web-1 | w1 a',
      'web-2 | w2 a',
      'web-1 | w1 b',
      'web-2 | w2 b',
      'web-2 | w2 c',
      'web-1 | w1 c',
      'db    | db b',
      '',
    ].join('\n'),
  );
});

test('patterns and --all select sandboxes shell-style; every line of a body gets the prefix', async (t) => {
  const home = homeWith(t, {
    'web-1': [[1, 'one\ntwo\n']],
    'web-22': [[2, 'partial line without newline']],
    'worker-a': [[3, 'worker\n']],
    api: [[4, 'api\n']],
  });
  let result = await runCli(['logs', '--home', home, 'web-*']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'web-1  | one\nweb-1  | two\nweb-22 | partial line without newline\n');
  result = await runCli(['logs', '--home', home, 'w?????-[a-c]', 'api']);
  assert.equal(result.stdout, 'worker-a | worker\napi      | api\n');
  result = await runCli(['logs', '--home', home, 'web-[!2]*']);
  assert.equal(result.stdout, 'web-1 | one\nweb-1 | two\n');
  result = await runCli(['logs', '--home', home, '--all']);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    result.stdout.split('\n').map((line) => line.split(' ')[0]),
    ['web-1', 'web-1', 'web-22', 'worker-a', 'api', ''],
  );
  assert.match(result.stdout, /^api {6}\| api$/m);
});

test('a single plain name prints exactly as before: no prefix', async (t) => {
  const home = homeWith(t, {
    'web-1': [
      [1, 'one\n'],
      [2, 'two\n'],
    ],
    'web-2': [[1, 'other\n']],
  });
  const { code, stdout } = await runCli(['logs', '--home', home, 'web-1']);
  assert.equal(code, 0);
  assert.equal(stdout, 'one\ntwo\n');
});

test('the name prefix is coloured per sandbox with a stable colour when colour is on, plain when off', async (t) => {
  const home = homeWith(t, { alpha: [[1, 'a\n']], beta: [[2, 'b\n']], gamma: [[3, 'g\n']] });
  const on = await runCli(['logs', '--home', home, '--all', '--color', 'always']);
  assert.equal(on.code, 0, on.stderr);
  const lines = on.stdout.trimEnd().split('\n');
  const colours = lines.map((line) => line.match(/^\u001b\[(\d+)m(\w+) +\|\u001b\[0m /));
  assert.ok(
    colours.every((match) => match !== null),
    JSON.stringify(on.stdout),
  );
  assert.deepEqual(
    colours.map((match) => match[2]),
    ['alpha', 'beta', 'gamma'],
  );
  assert.ok(new Set(colours.map((match) => match[1])).size >= 2, 'different sandboxes get different colours here');
  const again = await runCli(['logs', '--home', home, 'alpha', 'gamma', '--color', 'always']);
  assert.equal(again.stdout.split('\n')[0], lines[0]);
  assert.equal(again.stdout.split('\n')[1], lines[2]);
  for (const args of [['--color', 'never'], ['--no-color'], []]) {
    const off = await runCli(['logs', '--home', home, '--all', ...args]);
    assert.equal(off.stdout, 'alpha | a\nbeta  | b\ngamma | g\n');
    assert.ok(!off.stdout.includes(ESC));
  }
  const noColor = await runCli(['logs', '--home', home, '--all', '--color', 'auto'], { env: { NO_COLOR: '1' } });
  assert.ok(!noColor.stdout.includes(ESC));
});

test('bodies stay terminal-safe behind the prefix', async (t) => {
  const home = homeWith(t, { a: [[1, 'evil \u001b]0;title\u0007 \u001b[31mred\u001b[0m\n']], b: [[2, 'ok\n']] });
  const { stdout } = await runCli(['logs', '--home', home, 'a', 'b']);
  assert.ok(!stdout.includes(ESC), JSON.stringify(stdout));
  assert.match(stdout, /^a \| evil /);
});

test('--json adds "sandbox" and a multi-cursor that --after-cursor resumes from', async (t) => {
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
  const { code, stdout } = await runCli(['logs', '--home', home, 'a', 'b', '--json']);
  assert.equal(code, 0);
  const lines = stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.map((line) => [line.sandbox, line.d]),
    [
      ['a', 'a1\n'],
      ['b', 'b1\n'],
      ['a', 'a2\n'],
      ['b', 'b2\n'],
    ],
  );
  assert.deepEqual(Object.keys(lines[0]), ['t', 's', 'd', 'id', 'e', 'cursor', 'sandbox']);
  const resumed = await runCli(['logs', '--home', home, 'a', 'b', '--json', '--after-cursor', lines[1].cursor]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(
    resumed.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line).d),
    ['a2\n', 'b2\n'],
  );
  const bad = await runCli(['logs', '--home', home, 'a', 'b', '--after-cursor', 'not a cursor!']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^sandlog: invalid multi-cursor/);
});

test('--tail N takes the last N entries of each sandbox', async (t) => {
  const home = homeWith(t, {
    a: [
      [1, 'a1\n'],
      [2, 'a2\n'],
      [3, 'a3\n'],
      [4, 'a4\n'],
    ],
    b: [
      [5, 'b1\n'],
      [6, 'b2\n'],
      [7, 'b3\n'],
    ],
    c: [[0, 'c1\n']],
  });
  const { stdout } = await runCli(['logs', '--home', home, '--all', '--tail', '2']);
  assert.equal(stdout, 'c | c1\na | a3\na | a4\nb | b2\nb | b3\n');
});

test('no sandbox matching exits 1 with one line', async (t) => {
  const home = homeWith(t, { a: [[1, 'a\n']] });
  for (const args of [['web-*'], ['web-*', 'x?'], ['--all', '--home', tempDir(t)], ['web-*', '-f']]) {
    const { code, stdout, stderr } = await runCli(['logs', '--home', home, ...args]);
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '');
    assert.equal(stderr.split('\n').length, 2, stderr);
    assert.match(stderr, /^sandlog: no sandbox(es)? (matches|under)/);
  }
  const missing = await runCli(['logs', '--home', home, 'a', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^sandlog: sandbox "nope" not found/);
});

test('conflicting selections are usage errors', async (t) => {
  const home = homeWith(t, { a: [[1, 'a\n']] });
  for (const args of [
    ['--all', 'a'],
    ['a', 'b', '--log-dir', home],
    ['a', 'b/c'],
    ['a', 'b', '--after-cursor', 'x', '--tail', '1'],
  ]) {
    const { code, stderr } = await runCli(['logs', '--home', home, ...args]);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
  }
});

test('following a pattern picks up a sandbox created while it runs, and says when one goes away', async (t) => {
  const home = homeWith(t, { 'web-1': [[1, 'first\n']], other: [[1, 'not shown\n']] });
  const child = spawnCli(['logs', '--home', home, 'web-*', '-f']);
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  await waitFor(() => out.includes('first'), { what: 'the existing entry' });

  const logDir = join(home, 'sandboxes', 'web-22', 'logs');
  mkdirSync(logDir, { recursive: true });
  const writer = new ExecLogWriter(logDir);
  writer.write('stdout', 'hello from web-22\n', 1);
  writer.flush();
  await waitFor(() => out.includes('hello from web-22'), { what: "the new sandbox's entry", timeoutMs: 15_000 });
  assert.match(err, /^\+ web-22$/m);
  append(home, 'web-1', [[9, 'later\n']]);
  await waitFor(() => out.includes('later'), { what: 'a new entry of the first sandbox' });
  writer.close();
  rmSync(join(home, 'sandboxes', 'web-22'), { recursive: true, force: true });
  await waitFor(() => /^- web-22$/m.test(err), { what: '"- web-22"', timeoutMs: 15_000 });
  child.kill('SIGINT');
  const { code } = await waitForExit(child);
  assert.equal(code, 0, err);
  assert.equal(out, 'web-1 | first\nweb-22 | hello from web-22\nweb-1  | later\n');
  assert.ok(!out.includes('not shown'));
});

test('--cursor-file stores one cursor per sandbox and resumes each exactly', async (t) => {
  const home = homeWith(t, { a: [[1, 'a1\n']], b: [[2, 'b1\n']] });
  const file = join(tempDir(t), 'cursors.json');
  let result = await runCli(['logs', '--home', home, 'a', 'b', '--cursor-file', file]);
  assert.equal(result.stdout, 'a | a1\nb | b1\n');
  const stored = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(Object.keys(stored).sort(), ['a', 'b']);
  append(home, 'a', [
    [3, 'a2\n'],
    [5, 'a3\n'],
  ]);
  append(home, 'b', [[4, 'b2\n']]);
  result = await runCli(['logs', '--home', home, 'a', 'b', '--cursor-file', file]);
  assert.equal(result.stdout, 'a | a2\nb | b2\na | a3\n');
  result = await runCli(['logs', '--home', home, 'a', 'b', '--cursor-file', file]);
  assert.equal(result.stdout, '');

  // Following, interrupted, then resumed: nothing lost, nothing repeated.
  const child = spawnCli(['logs', '--home', home, 'a', 'b', '-f', '--cursor-file', file]);
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  append(home, 'b', [[6, 'b3\n']]);
  await waitFor(() => out.includes('b3'), { what: 'the followed entry' });
  child.kill('SIGINT');
  assert.equal((await waitForExit(child)).code, 0);
  append(home, 'a', [[7, 'a4\n']]);
  append(home, 'b', [[8, 'b4\n']]);
  result = await runCli(['logs', '--home', home, 'a', 'b', '--cursor-file', file]);
  assert.equal(result.stdout, 'a | a4\nb | b4\n');

  // A sandbox the file does not name yet starts from its beginning.
  result = await runCli(['logs', '--home', home, 'a', 'b', 'c*', '--cursor-file', file]);
  assert.equal(result.stdout, '');
  const single = join(tempDir(t), 'single.cursor');
  writeFileSync(single, 'AA==\n');
  result = await runCli(['logs', '--home', home, 'a', 'b', '--cursor-file', single]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /single sandbox's cursor/);
});

test('following a pattern with --until ends by itself once that time has passed', async (t) => {
  const home = homeWith(t, { 'web-1': [] });
  const until = new Date(Date.now() + 1000).toISOString();
  const { code, stdout, stderr } = await runCli(['logs', '--home', home, 'web-*', '-f', '--until', until], {
    timeoutMs: 20_000,
  });
  assert.equal(code, 0, stderr);
  assert.equal(stdout, '');
});
