// The capture floor: the least a Node process does to capture a child — spawn
// it with its stdout and stderr piped (as `sandlog run` does) and take every
// chunk, discarding it. What is left of `sandlog run`'s time when encoding and
// writing the records is removed.
// Usage: node capture-floor.js COMMAND [ARGS...]
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
let bytes = 0;
child.stdout.on('data', (chunk) => (bytes += chunk.length));
child.stderr.on('data', (chunk) => (bytes += chunk.length));
child.on('close', (code) => {
  if (bytes === 0) process.stderr.write('capture-floor: the child printed nothing\n');
  process.exit(code ?? 1);
});
