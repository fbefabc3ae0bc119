// Where logs live and which names may become paths: sandbox name validation,
// the home, targets, and a log directory that leads outside the home.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  assertSandboxName,
  defaultHome,
  InvalidSandboxNameError,
  readLogs,
  SandboxNotFoundError,
  sandboxLogDir,
  streamLogs,
} from '../../dist/index.js';
import { MAX_NAME_BYTES, sandboxNameProblem } from '../../dist/format/name.js';
import { at, recordLine, tempDir, tempSandbox, texts, writeLines } from '../helpers.js';

test('ordinary names of 1 to 128 UTF-8 bytes are valid', () => {
  for (const name of [
    'box',
    'a',
    'web-1_prod.v2',
    'with space',
    'ünïcødé',
    '🦀',
    'a'.repeat(MAX_NAME_BYTES),
    '...x',
    '.hidden',
  ]) {
    assert.equal(sandboxNameProblem(name), undefined, name);
    assert.doesNotThrow(() => assertSandboxName(name));
  }
});

test('names that could escape or corrupt a path are refused', () => {
  const bad = {
    empty: '',
    dot: '.',
    'dot dot': '..',
    slash: 'a/b',
    'leading slash': '/etc',
    backslash: 'a\\b',
    NUL: 'a\u0000b',
    newline: 'a\nb',
    tab: '\tbox',
    escape: 'box\u001b[2J',
    DEL: 'box\u007f',
    'C1 control': 'box\u0085',
    '129 bytes': 'a'.repeat(MAX_NAME_BYTES + 1),
    '130 bytes of 2-byte characters': 'é'.repeat(65),
    'lone surrogate': 'box\ud800',
  };
  for (const [why, name] of Object.entries(bad)) {
    assert.equal(typeof sandboxNameProblem(name), 'string', why);
    assert.throws(() => assertSandboxName(name), InvalidSandboxNameError, why);
    assert.throws(() => sandboxLogDir('/home', name), InvalidSandboxNameError, why);
  }
  assert.throws(() => assertSandboxName(42), InvalidSandboxNameError);
});

test('reading an invalid sandbox name fails with InvalidSandboxNameError before any entry', async (t) => {
  const { home } = tempSandbox(t);
  for (const name of ['..', '.', '', 'a\\b', 'x\u0000', 'a/b']) {
    await assert.rejects(readLogs({ name, home }), InvalidSandboxNameError, JSON.stringify(name));
  }
  await assert.rejects(readLogs('..', { home }), InvalidSandboxNameError);
});

test('a sandbox name resolves to <home>/sandboxes/<name>/logs', async (t) => {
  const { home, logDir } = tempSandbox(t, 'web-1');
  writeLines(join(logDir, 'exec.log'), [recordLine(at(1), 'stdout', 'hi', 1)]);
  assert.equal(sandboxLogDir(home, 'web-1'), logDir);
  assert.deepEqual(texts(await readLogs({ name: 'web-1', home })), ['hi']);
  assert.deepEqual(texts(await readLogs('web-1', { home })), ['hi']);
  assert.deepEqual(texts(await readLogs(logDir)), ['hi'], 'a string with a slash is a directory');
});

test('the home is $MSB_HOME verbatim when set, else ~/.microsandbox', () => {
  assert.equal(defaultHome({ MSB_HOME: '/srv/msb' }), '/srv/msb');
  assert.equal(defaultHome({ MSB_HOME: 'relative/home' }), 'relative/home');
  assert.equal(defaultHome({}), join(homedir(), '.microsandbox'));
});

test('a sandbox or log directory that does not exist is SandboxNotFoundError', async (t) => {
  const { home } = tempSandbox(t);
  await assert.rejects(readLogs({ name: 'missing', home }), (error) => {
    assert.ok(error instanceof SandboxNotFoundError);
    assert.equal(error.code, 'SANDBOX_NOT_FOUND');
    assert.match(error.message, /missing/);
    return true;
  });
  await assert.rejects(readLogs({ logDir: join(home, 'nope') }), SandboxNotFoundError);
  const handle = streamLogs({ name: 'missing', home }, { follow: true });
  await assert.rejects(handle[Symbol.asyncIterator]().next(), SandboxNotFoundError);
});

test('a sandbox log directory symlinked outside the home is refused', async (t) => {
  const { home } = tempSandbox(t, 'box');
  const outside = tempDir(t);
  writeLines(join(outside, 'exec.log'), [recordLine(at(1), 'stdout', 'secret', 1)]);
  mkdirSync(join(home, 'sandboxes', 'evil'));
  symlinkSync(outside, join(home, 'sandboxes', 'evil', 'logs'));
  await assert.rejects(readLogs({ name: 'evil', home }), (error) => {
    assert.ok(error instanceof SandboxNotFoundError);
    assert.match(error.message, /outside the home/);
    return true;
  });
  symlinkSync(join(outside), join(home, 'sandboxes', 'evil2'));
  mkdirSync(join(outside, 'logs'));
  await assert.rejects(readLogs({ name: 'evil2', home }), SandboxNotFoundError);
});

test('a symlink that stays inside the home is followed', async (t) => {
  const { home, logDir } = tempSandbox(t, 'real');
  writeLines(join(logDir, 'exec.log'), [recordLine(at(1), 'stdout', 'inside', 1)]);
  symlinkSync(join(home, 'sandboxes', 'real'), join(home, 'sandboxes', 'alias'));
  assert.deepEqual(texts(await readLogs({ name: 'alias', home })), ['inside']);
});
