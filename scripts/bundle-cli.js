// Build step after tsc: bundles the CLI (dist/cli/process.js and everything it imports, packages
// left to node_modules) into one CommonJS script, dist/cli.bundle.cjs, then runs a few
// representative commands through it in this process and stores V8's code cache of the functions
// they compiled in dist/cli.bundle.cache. dist/cli.cjs loads both (src/cli/bundle.cts says why).
// esbuild is a devDependency: it only runs here. Usage: node scripts/bundle-cli.js (npm run build).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { build } from 'esbuild';
import { BUNDLE_PATH, BUNDLE_URL_NAME, CODE_CACHE_PATH, loadBundle } from '../dist/cli/bundle.cjs';

await build({
  entryPoints: [new URL('../dist/cli/process.js', import.meta.url).pathname],
  outfile: BUNDLE_PATH,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  define: { 'import.meta.url': BUNDLE_URL_NAME },
  logLevel: 'warning',
  minifyWhitespace: true,
  minifySyntax: true,
});

// A small sandbox with every kind of record and a runtime.log, for the commands to read.
const home = mkdtempSync(join(tmpdir(), 'sandlog-bundle-'));
try {
  const logDir = join(home, 'sandboxes', 'warm', 'logs');
  mkdirSync(logDir, { recursive: true });
  const base = Date.UTC(2026, 0, 1);
  const records = [];
  const runtime = [];
  for (let i = 0; i < 400; i++) {
    const t = new Date(base + i * 7).toISOString();
    const s = ['stdout', 'stderr', 'output', 'system'][i % 4];
    const id = s === 'system' ? '' : `,"id":${1 + (i % 3)}`;
    const d =
      i % 5 === 0
        ? '\\u001b[32mINFO\\u001b[0m TRACE request elapsed=12ms\\n'
        : i % 7 === 0
          ? 'caf\\u00e9 \\"quoted\\" tab\\there\\n'
          : `line ${i} ok\\n`;
    records.push(`{"t":"${t}","s":"${s}","d":"${d}"${id}}`);
    if (i % 37 === 0) records.push(`{"t":"${t}","s":"stdout","d":"${Buffer.from([0xff, 0xfe, i]).toString('base64')}","id":1,"e":"b64"}`);
    if (i % 4 === 0) runtime.push(`${new Date(base + i * 7 + 3).toISOString()}  \u001b[32mINFO\u001b[0m msb::vm: step ${i}`);
  }
  writeFileSync(join(logDir, 'exec.log'), `${records.join('\n')}\n`);
  writeFileSync(join(logDir, 'runtime.log'), `${runtime.join('\n')}\n`);

  const loaded = loadBundle(false);
  if (loaded === undefined) throw new Error(`${BUNDLE_PATH} was not written`);
  const sink = () =>
    new Writable({
      write(_chunk, _encoding, done) {
        done();
      },
    });
  const middle = new Date(base + 1400).toISOString();
  const commands = [
    ['--json', '--source', 'all'],
    ['--source', 'all', '--color', 'never'],
    ['--source', 'all', '--timestamps', '--color', 'always'],
    ['--source', 'stderr', '--json'],
    ['--tail', '100', '--json'],
    ['--tail', '20'],
    ['--since', middle, '--json'],
    ['--until', middle],
    ['--grep', 'TRACE.*elapsed', '--json'],
    ['--grep', 'NO-SUCH-TEXT', '--json'],
  ];
  for (const args of [...commands.map((rest) => ['logs', '--home', home, 'warm', ...rest]), ['ls', '--home', home]]) {
    const code = await loaded.exports.main(args, {
      stdout: sink(),
      stderr: sink(),
      env: {},
      signal: new AbortController().signal,
      claimSignals: () => {},
      stdin: process.stdin,
    });
    if (code !== 0) throw new Error(`sandlog ${args.join(' ')} exited ${code} while making the code cache`);
  }
  writeFileSync(CODE_CACHE_PATH, loaded.script.createCachedData());
} finally {
  rmSync(home, { recursive: true, force: true });
}
