// `sandlog logs -f` as a real process while a writer rotates under it: the
// snapshot-then-follow hand-off and every rotation lose and repeat nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecLogWriter } from '../../dist/index.js';
import { spawnCli, tempSandbox, waitFor, waitForExit, DEADLINE_MS } from '../helpers.js';

test('-f --json across many rotations prints every record exactly once, in order', async (t) => {
  const { home, logDir } = tempSandbox(t);
  const writer = new ExecLogWriter(logDir, { maxBytes: 1500 }); // 75-byte records: 20 to a file
  t.after(() => writer.close());
  const body = (n) => `record ${String(n).padStart(6, '0')}\n`;
  for (let n = 0; n < 50; n++) writer.write('stdout', body(n), 1);
  writer.flush();
  const child = spawnCli(['logs', 'box', '--home', home, '-f', '--json', '--tail', '10']);
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  const printed = () => out.split('\n').length - 1;
  await waitFor(() => printed() >= 10, { what: 'the tail' });
  const total = 1500;
  for (let n = 50; n < total; n++) {
    writer.write('stdout', body(n), 1);
    if (n % 10 === 9) {
      writer.flush();
      // Stay within retention: at most two files ahead of what the CLI has printed.
      await waitFor(() => printed() + 40 >= n - 40 + 1, {
        timeoutMs: DEADLINE_MS,
        intervalMs: 2,
        what: `output to reach ${n - 40}`,
      });
    }
  }
  writer.flush();
  await waitFor(() => printed() >= total - 40, { timeoutMs: DEADLINE_MS, what: 'every record' });
  child.kill('SIGINT');
  const { code } = await waitForExit(child);
  assert.equal(code, 0, err);
  assert.equal(err, '');
  const numbers = out
    .trimEnd()
    .split('\n')
    .map((line) => Number(JSON.parse(line).d.slice(7, 13)));
  assert.deepEqual(
    numbers,
    Array.from({ length: total - 40 }, (_, i) => i + 40),
  );
  assert.ok(writer.rotations > 50, `rotated ${writer.rotations} times`);
});
