// dist/cli.cjs runs the CLI from its bundle (dist/cli.bundle.cjs, with V8's code cache made at build
// time) when the bundle is at least as new as the modules it was made from, and from the modules
// otherwise: the two give the same output, a stale bundle is never run, and a cache V8 refuses
// only costs the compile.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBundle, BUNDLE_PATH, CODE_CACHE_PATH } from '../../dist/cli/bundle.cjs';
import { CLI, ROOT, recordLine, runCli, tempDir, tempSandbox, writeLines } from '../helpers.js';

test('the build made the bundle and a code cache this Node accepts', () => {
  assert.ok(existsSync(BUNDLE_PATH), BUNDLE_PATH);
  assert.ok(existsSync(CODE_CACHE_PATH), CODE_CACHE_PATH);
  const loaded = loadBundle();
  assert.ok(loaded !== undefined);
  assert.equal(loaded.cacheUnused, false, 'V8 refused the code cache the build made');
  assert.equal(typeof loaded.exports.runProcess, 'function');
});

test('the bundle and the modules print the same, byte for byte', async (t) => {
  const { home, logDir } = tempSandbox(t);
  writeLines(join(logDir, 'exec.log'), [
    recordLine('2026-04-30T20:00:00.000Z', 'stdout', 'hello \u001b[31mred\u001b[0m\n', 1),
    recordLine('2026-04-30T20:00:01.000Z', 'stderr', 'café\n', 1),
    recordLine('2026-04-30T20:00:02.000Z', 'system', 'exited 0\n'),
  ]);
  writeFileSync(join(logDir, 'runtime.log'), '2026-04-30T20:00:00.500000Z  INFO msb::vm: started\n');
  for (const args of [
    ['logs', '--home', home, 'box', '--json', '--source', 'all'],
    ['logs', '--home', home, 'box', '--source', 'all', '--timestamps', '--color', 'always'],
    ['logs', '--home', home, 'box', '--grep', 'caf', '--tail', '1'],
    ['ls', '--home', home],
    ['logs', '--home', home, 'missing'],
    ['logs', '--tail', 'x', 'box'],
  ]) {
    const bundled = await runCli(args);
    const modules = await runCli(args, { env: { SANDLOG_NO_BUNDLE: '1' } });
    assert.deepEqual(bundled, modules, args.join(' '));
  }
});

// A copy of dist/ whose bundle only says that it ran.
function distWithMarkerBundle(t) {
  const root = tempDir(t);
  cpSync(join(ROOT, 'dist'), join(root, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  const bundle = join(root, 'dist', 'cli.bundle.cjs');
  writeFileSync(bundle, "exports.runProcess = async () => { process.stdout.write('from the bundle\\n'); };\n");
  return { cli: join(root, 'dist', 'cli.cjs'), bundle, entry: join(root, 'dist', 'cli', 'process.js') };
}

const run = (cli, args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('a bundle older than its entry module is not run; a refused code cache is only not used', (t) => {
  const { cli, bundle, entry } = distWithMarkerBundle(t);
  const past = new Date(Date.now() - 60_000);
  utimesSync(entry, past, past);
  // The cache was made for the real bundle: V8 refuses it for this one, and the bundle runs anyway.
  let result = run(cli, ['--version']);
  assert.equal(result.stdout, 'from the bundle\n', result.stderr);
  // Garbage where the cache should be: the same.
  writeFileSync(join(bundle, '..', 'cli.bundle.cache'), Buffer.alloc(4096, 7));
  result = run(cli, ['--version']);
  assert.equal(result.stdout, 'from the bundle\n', result.stderr);
  // The modules rebuilt after the bundle (tsc alone): the modules run.
  utimesSync(bundle, past, past);
  utimesSync(entry, new Date(), new Date());
  result = run(cli, ['--version']);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^sandlog \d+\.\d+\.\d+/);
  const direct = run(CLI, ['--version']);
  assert.equal(result.stdout, direct.stdout);
});

test('the executable runs the bundle without starting the ES module loader; dist/cli.js still runs it', (t) => {
  const { home } = tempSandbox(t);
  // Preloaded: reports at exit whether Node's ES module loader was ever loaded in the process.
  const probe = join(tempDir(t), 'probe.cjs');
  writeFileSync(
    probe,
    "process.on('exit', () => process.stderr.write(`esm:${process.moduleLoadList.some((m) => m.includes('esm/module_job'))}\\n`));\n",
  );
  const viaBin = spawnSync(process.execPath, ['-r', probe, CLI, 'ls', '--home', home], { encoding: 'utf8' });
  assert.equal(viaBin.status, 0, viaBin.stderr);
  assert.equal(viaBin.stderr, 'esm:false\n');
  const viaShim = spawnSync(process.execPath, ['-r', probe, join(ROOT, 'dist', 'cli.js'), 'ls', '--home', home], {
    encoding: 'utf8',
  });
  assert.equal(viaShim.status, 0, viaShim.stderr);
  assert.equal(viaShim.stdout, viaBin.stdout);
  assert.equal(viaShim.stderr, 'esm:true\n');
});

// Creating process.stdin costs a millisecond or more of every start (a stream over whatever fd 0 is),
// and only `run` reads it: the CLI hands commands a getter, so `logs` never makes it.
test('sandlog logs never creates process.stdin', (t) => {
  const { home, logDir } = tempSandbox(t);
  writeLines(join(logDir, 'exec.log'), [recordLine('2026-04-30T20:00:00.000Z', 'stdout', 'hello\n', 1)]);
  const probe = join(tempDir(t), 'stdin-probe.cjs');
  writeFileSync(
    probe,
    [
      "const own = Object.getOwnPropertyDescriptor(process, 'stdin');",
      'let made = false;',
      "Object.defineProperty(process, 'stdin', { configurable: true, enumerable: own.enumerable, get() { made = true; return own.get.call(process); } });",
      "process.on('exit', () => require('node:fs').writeSync(2, `stdin made: ${made}\\n`));",
      '',
    ].join('\n'),
  );
  for (const args of [
    ['logs', '--home', home, 'box', '--tail', '1'],
    ['logs', '--home', home, 'box', '--json'],
  ]) {
    const result = spawnSync(process.execPath, ['-r', probe, CLI, ...args], { encoding: 'utf8', input: 'ignored' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.includes('hello'), true, result.stdout);
    assert.match(result.stderr, /stdin made: false/, args.join(' '));
  }
});
