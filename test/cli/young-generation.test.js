// The CLI caps V8's young generation (src/cli/young-generation.ts): a process allocating many
// short-lived objects, some of which survive a few scavenges, in small steps between turns of the
// event loop (as a read does), grows it to the cap and no further; the same process without the cap
// grows past it (else this test would show nothing).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT } from '../helpers.js';

const CAP_MIB = 8;
const MODULE = pathToFileURL(join(ROOT, 'dist', 'cli', 'young-generation.js')).href;

const program = (capped) => `
  import { getHeapSpaceStatistics } from 'node:v8';
  ${capped ? `(await import(${JSON.stringify(MODULE)})).capYoungGeneration();` : ''}
  const newSpace = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
  const ring = new Array(50_000);
  let max = 0;
  for (let step = 0; step < 400; step++) {
    for (let i = 0; i < 5_000; i++) ring[(step * 5_000 + i * 7) % ring.length] = { step, i, text: 'x' + i };
    await new Promise((resolve) => setImmediate(resolve));
    max = Math.max(max, newSpace());
  }
  process.stdout.write(String(max / 1048576));
`;

function maxNewSpaceMiB(capped) {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', program(capped)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return Number(result.stdout);
}

test('the young generation grows past the cap by default and stops at it with the cap', () => {
  const uncapped = maxNewSpaceMiB(false);
  assert.ok(
    uncapped > CAP_MIB,
    `without the cap the new space grew only to ${uncapped} MiB: the workload shows nothing`,
  );
  const capped = maxNewSpaceMiB(true);
  assert.ok(capped <= CAP_MIB, `with the cap the new space grew to ${capped} MiB`);
  assert.ok(
    capped >= CAP_MIB / 2,
    `with the cap the new space stayed at ${capped} MiB: it should still grow to the cap`,
  );
});
