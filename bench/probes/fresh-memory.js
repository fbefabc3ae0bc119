// Why the line reader reuses its read buffers: reads 10 MiB of the bench
// chain's oldest file in 256 KiB blocks, and finds every line end, once into
// a fresh buffer per block and once into one reused buffer. On a virtual
// machine whose host hands out pages lazily the fresh buffers cost several
// times the reused one. `npm run build && node bench/probes/fresh-memory.js`
// (not a scenario of `npm run bench`: it measures the machine, not sandlog;
// bench/probes/ holds such one-off probes).
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { dataset } from '../lib/data.js';

const BLOCK = 256 * 1024;
const { logDir } = dataset();
const fd = openSync(join(logDir, 'exec.log.4'));

function lineEnds(buffer, length) {
  let count = 0;
  for (let at = buffer.indexOf(0x0a); at >= 0 && at < length; at = buffer.indexOf(0x0a, at + 1)) count += 1;
  return count;
}

for (const mode of ['fresh', 'reused', 'fresh', 'reused']) {
  const reused = Buffer.allocUnsafe(BLOCK);
  let readMs = 0;
  let scanMs = 0;
  let lines = 0;
  for (let position = 0; ; position += BLOCK) {
    const buffer = mode === 'reused' ? reused : Buffer.allocUnsafe(BLOCK);
    let started = performance.now();
    const length = readSync(fd, buffer, 0, BLOCK, position);
    readMs += performance.now() - started;
    if (length === 0) break;
    started = performance.now();
    lines += lineEnds(buffer, length);
    scanMs += performance.now() - started;
  }
  console.log(`${mode.padEnd(6)} read ${readMs.toFixed(1)} ms, line ends ${scanMs.toFixed(1)} ms (${lines} lines)`);
}
closeSync(fd);
