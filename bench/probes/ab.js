// Interleaved A/B of whole commands: `node bench/probes/ab.js N -- label cmd args… -- label cmd args…`
// runs each command N times (plus one warm-up round), alternating the order each round so that
// machine noise hits all alike, and prints each one's median and minimum wall time and median CPU
// (user + system of the child, from /proc, in 10 ms ticks). stdout goes to /dev/null. Not a
// scenario of `npm run bench`: a tool for measuring one lever against the build before it, e.g.
//   node bench/probes/ab.js 9 -- before node /tmp/before/cli.js logs --home H box --json \
//                             -- after node dist/cli.cjs logs --home H box --json
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const [countText, ...rest] = process.argv.slice(2);
const count = Number(countText);
const commands = [];
for (const arg of rest) {
  if (arg === '--') commands.push([]);
  else commands.at(-1)?.push(arg);
}
if (!Number.isInteger(count) || count < 1 || commands.length === 0 || commands.some((c) => c.length < 2)) {
  process.stderr.write('usage: node bench/probes/ab.js N -- label command [args…] [-- label command [args…]]…\n');
  process.exit(2);
}

function childrenCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

const samples = commands.map(() => ({ wall: [], cpu: [] }));
for (let round = 0; round <= count; round++) {
  const order = commands.map((_, i) => i);
  if (round % 2 === 1) order.reverse();
  for (const i of order) {
    const [label, command, ...args] = commands[i];
    const cpuBefore = childrenCpuMs();
    const started = process.hrtime.bigint();
    const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`${label}: ${command} exited ${result.status}`);
    if (round > 0) {
      samples[i].wall.push(ms);
      samples[i].cpu.push(childrenCpuMs() - cpuBefore);
    }
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
commands.forEach(([label], i) => {
  const { wall, cpu } = samples[i];
  process.stdout.write(
    `${label.padEnd(16)} wall ${median(wall).toFixed(0)} ms (min ${Math.min(...wall).toFixed(0)}), CPU ${median(cpu)} ms\n`,
  );
});
