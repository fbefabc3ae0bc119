// The fan-out producer: for SECONDS seconds, appends one record per second to
// each of N sandboxes under HOME, spread evenly over each second, each record
// carrying its write time on the monotonic clock.
// Usage: node fanout-writer.js HOME N SECONDS
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const [home, countText, secondsText] = process.argv.slice(2);
const count = Number(countText);
const total = count * Number(secondsText);
const fds = Array.from({ length: count }, (_, i) =>
  openSync(join(home, 'sandboxes', `box-${i}`, 'logs', 'exec.log'), 'a'),
);
const start = process.hrtime.bigint();
const spacingMs = 1000 / count;
let written = 0;

function tick() {
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  while (written < total && written * spacingMs <= elapsed) {
    const line = `{"t":"${new Date().toISOString()}","s":"stdout","d":"seq=${written} ns=${process.hrtime.bigint()} heartbeat\\n","id":1}\n`;
    writeSync(fds[written % count], line);
    written += 1;
  }
  if (written >= total) {
    for (const fd of fds) closeSync(fd);
    return;
  }
  setTimeout(tick, 1);
}
tick();
