// Every benchmark scenario runs at a tiny size through the runner, so that
// none of them rots. No timing is asserted: benchmarks do not gate CI, they
// only have to run to the end and report their bars.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT } from '../helpers.js';

// The runner's own limit per scenario: three tiny scenarios side by side on a loaded machine can be slow,
// and a deadline here only says how long a hung scenario takes to be reported.
const SCENARIO_DEADLINE_MS = 240_000;
const SCENARIOS = [
  'snapshot',
  'tail',
  'since',
  'follow-latency',
  'rotation',
  'fanout',
  'writer',
  'capture',
  'server-sse',
  'server',
  'history',
  'viewer',
  'holder-fanout',
  'vs-msb',
  'ship',
];

function runTiny(name) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'run.js'), '--tiny', name], {
      cwd: ROOT,
      env: { ...process.env, SANDLOG_BENCH_QUIET: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench ${name} did not finish within ${SCENARIO_DEADLINE_MS / 1000} s; stderr: ${stderr}`));
    }, SCENARIO_DEADLINE_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

test('every scenario file of bench/ is known to the smoke test', () => {
  const files = readdirSync(join(ROOT, 'bench')).filter((file) => file.endsWith('.js') && file !== 'run.js');
  for (const file of files) assert.ok(SCENARIOS.includes(file.replace(/\.js$/, '')), `bench/${file} has no smoke test`);
});

// The scenarios mostly wait on child processes: running them side by side keeps the whole test short.
test('each benchmark scenario runs to the end at a tiny size', { concurrency: 3 }, async (t) => {
  await Promise.all(
    SCENARIOS.map((name) =>
      t.test(`bench scenario ${name} runs at a tiny size`, async () => {
        const { code, stderr } = await runTiny(name);
        assert.equal(code, 0, `bench ${name} exited ${code}: ${stderr}`);
        assert.match(stderr, /1 scenario\(s\) in/);
      }),
    ),
  );
});
