// `sandlog ls` (the sandboxes under a home) and the generated help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { recordLine, runCli, tempDir, writeLines } from '../helpers.js';

const iso = (seconds) => new Date(Date.UTC(2026, 3, 30, 20, 0, 0) + seconds * 1000).toISOString();

function home(t) {
  const dir = tempDir(t);
  const box = (name) => {
    const logDir = join(dir, 'sandboxes', name, 'logs');
    mkdirSync(logDir, { recursive: true });
    return logDir;
  };
  const web = box('web-1');
  writeLines(
    join(web, 'exec.log.1'),
    Array.from({ length: 40 }, (_, i) => recordLine(iso(i), 'stdout', `old ${i}\n`, 1)),
  );
  writeLines(
    join(web, 'exec.log'),
    Array.from({ length: 60 }, (_, i) => recordLine(iso(100 + i), 'stdout', `new ${i}\n`, 1)),
  );
  writeLines(join(web, 'runtime.log'), [`${iso(500)} runtime is newest`]);
  box('empty');
  return { dir, web };
}

test('ls --json lists every sandbox with log size, files, last entry time and an entry estimate', async (t) => {
  const { dir, web } = home(t);
  const result = await runCli(['ls', '--json', '--home', dir]);
  assert.equal(result.code, 0, result.stderr);
  const list = JSON.parse(result.stdout);
  assert.deepEqual(
    list.map((s) => s.name),
    ['empty', 'web-1'],
  );
  const [empty, box] = list;
  assert.deepEqual([empty.bytes, empty.files, empty.lastEntry, empty.entriesEstimate], [0, 0, null, 0]);
  const bytes = ['exec.log', 'exec.log.1', 'runtime.log'].reduce((sum, f) => sum + statSync(join(web, f)).size, 0);
  assert.equal(box.bytes, bytes);
  assert.equal(box.files, 3);
  assert.equal(box.logDir, web);
  assert.equal(box.lastEntry, iso(500));
  assert.ok(box.entriesEstimate >= 90 && box.entriesEstimate <= 115, `estimate ${box.entriesEstimate} of 101`);
});

test('ls prints a table, honours MSB_HOME, and lists nothing for an empty home', async (t) => {
  const { dir } = home(t);
  const table = await runCli(['ls'], { env: { MSB_HOME: dir } });
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^NAME\s+LOG SIZE\s+ENTRIES\s+LAST ENTRY$/);
  assert.match(lines[2], new RegExp(`^web-1\\s+\\d+\\.\\d KiB\\s+~\\d+\\s+${iso(500).replace(/\./g, '\\.')}$`));
  const none = await runCli(['ls', '--json', '--home', tempDir(t)]);
  assert.deepEqual(JSON.parse(none.stdout), []);
  assert.equal((await runCli(['ls', 'extra', '--home', dir])).code, 2);
});

test('--help describes the commands and every logs flag, on stdout with exit 0', async () => {
  const top = await runCli(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /logs/);
  assert.match(top.stdout, /ls/);
  const logs = await runCli(['logs', '--help']);
  assert.equal(logs.code, 0);
  assert.equal(logs.stderr, '');
  for (const flag of [
    '--tail',
    '--since',
    '--until',
    '--follow',
    '--timestamps',
    '--source',
    '--grep',
    '--json',
    '--color',
    '--no-color',
    '--show-id',
    '--color-sessions',
    '--after-cursor',
    '--show-cursor',
    '--cursor-file',
    '--home',
    '--log-dir',
  ]) {
    assert.ok(logs.stdout.includes(flag), `help mentions ${flag}`);
  }
  assert.match((await runCli(['ls', '--help'])).stdout, /--json/);
});

test('ls leaves out a sandbox whose logs lead outside the home, as logs refuses it', async (t) => {
  const { dir } = home(t);
  const outside = tempDir(t);
  mkdirSync(join(outside, 'logs'));
  writeLines(join(outside, 'logs', 'exec.log'), [recordLine(iso(1), 'stdout', 'secret\n', 1)]);
  symlinkSync(outside, join(dir, 'sandboxes', 'evil'));
  symlinkSync(join(dir, 'sandboxes', 'web-1'), join(dir, 'sandboxes', 'alias'));
  const list = JSON.parse((await runCli(['ls', '--json', '--home', dir])).stdout);
  assert.deepEqual(
    list.map((s) => s.name),
    ['alias', 'empty', 'web-1'],
  );
  assert.equal((await runCli(['logs', 'evil', '--home', dir])).code, 1);
});
