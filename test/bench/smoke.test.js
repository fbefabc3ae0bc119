// Every benchmark scenario runs at a tiny size through the runner, so that
// none of them rots. No timing is asserted: benchmarks do not gate CI, they
// only have to run to the end and report their bars.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT } from '../helpers.js';

const SCENARIOS = ['snapshot', 'tail', 'since', 'follow-latency', 'rotation', 'fanout', 'writer', 'capture', 'server-sse', 'server', 'ship'];

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
      reject(new Error(`bench ${name} did not finish within 60 s; stderr: ${stderr}`));
    }, 60_000);
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
