#!/usr/bin/env node
// `npm run test:repeat -- N [files…]`: builds once, then runs the test suite (or the given test
// files) N times in a row exactly as `npm test` does, and reports every test that failed at least
// once, with its file and the run numbers. Exits 1 if any test failed in any run, 2 on bad usage.
// It is how a test whose outcome depends on timing is caught: one green `npm test` proves little.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from './helpers.js';

const USAGE = 'usage: npm run test:repeat -- N [test files…]   (N: runs, 1 or more)';

function fail(message, code = 2) {
  process.stderr.write(`test:repeat: ${message}\n${USAGE}\n`);
  process.exit(code);
}

// Every *.test.js under test/, sorted: the list `npm test` runs.
function allTestFiles(dir = join(ROOT, 'test')) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...allTestFiles(path));
    else if (entry.name.endsWith('.test.js')) files.push(relative(ROOT, path));
  }
  return files.sort();
}

const [countText, ...fileArgs] = process.argv.slice(2);
if (countText === undefined || !/^[1-9][0-9]{0,3}$/.test(countText))
  fail(`Expected N to be a positive integer, got ${JSON.stringify(countText ?? '')}`);
const runs = Number(countText);
const files = fileArgs.length > 0 ? fileArgs : allTestFiles();

const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) fail('the build failed', 1);

const scratch = mkdtempSync(join(tmpdir(), 'sandlog-repeat-'));
/** `file › test` → { file, name, runs: [run numbers], message: first failure's message }. */
const failures = new Map();
let failedRuns = 0;
try {
  for (let run = 1; run <= runs; run++) {
    const report = join(scratch, `run-${run}.jsonl`);
    const started = Date.now();
    const result = spawnSync(
      process.execPath,
      [
        '--test',
        '--test-concurrency=2',
        '--test-reporter=dot',
        '--test-reporter-destination=stdout',
        `--test-reporter=${join(ROOT, 'test', 'repeat-reporter.js')}`,
        `--test-reporter-destination=${report}`,
        ...files,
      ],
      { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const lines = readFileSync(report, 'utf8')
      .split('\n')
      .filter((line) => line !== '');
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    for (const line of lines) {
      const failure = JSON.parse(line);
      const file = failure.file === null ? '(no file)' : relative(ROOT, failure.file);
      const name = [...failure.path, failure.name].join(' › ');
      const key = `${file} › ${name}`;
      const known = failures.get(key) ?? { file, name, runs: [], message: failure.message };
      if (!known.runs.includes(run)) known.runs.push(run);
      failures.set(key, known);
    }
    // A non-zero exit with no failed test named (a crash of the runner itself) still fails the run.
    const failed = lines.length > 0 || result.status !== 0;
    if (failed) failedRuns += 1;
    process.stdout.write(
      `\ntest:repeat: run ${run}/${runs} ${failed ? `FAILED (${lines.length} failing test${lines.length === 1 ? '' : 's'}, exit ${result.status ?? result.signal})` : 'passed'} in ${seconds} s\n`,
    );
    // What each failure said, whole: a property test's seed and path are there, to replay it.
    for (const line of lines) {
      const failure = JSON.parse(line);
      const detail = (failure.detail ?? failure.message).replace(/\n/g, '\n    ');
      process.stdout.write(`  ${[...failure.path, failure.name].join(' › ')}:\n    ${detail}\n`);
    }
    if (failed && lines.length === 0) {
      const key = `(run ${run}) › the test runner exited with ${result.status ?? result.signal}`;
      failures.set(key, { file: '(runner)', name: `exit ${result.status ?? result.signal}`, runs: [run], message: '' });
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

process.stdout.write(`\ntest:repeat: ${runs - failedRuns} of ${runs} runs passed (${files.length} test files)\n`);
if (failures.size === 0) process.exit(0);
process.stdout.write(`tests that failed at least once:\n`);
for (const { file, name, runs: failedIn, message } of failures.values()) {
  process.stdout.write(
    `  ${file}: ${name}\n    failed in run${failedIn.length === 1 ? '' : 's'} ${failedIn.join(', ')} of ${runs}: ${message}\n`,
  );
}
process.exit(1);
