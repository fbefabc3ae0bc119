// The fan-out floor: the least a Node process can do to follow N sandboxes —
// one `fs.watch` per directory, a `readSync` of what was appended on each
// event, each line's body taken with `JSON.parse` and its wake latency
// measured as fanout-consumer.js measures it. No rotation, no cursors, no
// partial lines, no ordering: what is left of sandlog's per-record cost when
// everything it does beyond delivering the record is removed.
// Same protocol as fanout-consumer.js (stdin: mark, report, exit).
// Usage: node fanout-floor.js HOME N
import { fstatSync, openSync, readSync, watch } from 'node:fs';
import { join } from 'node:path';
import { answerMarks } from './fanout-protocol.js';

const [home, countText] = process.argv.slice(2);
const count = Number(countText);
const SEQ = /ns=(\d+)/;
const buffer = Buffer.allocUnsafe(64 * 1024);
const delays = [];

for (let i = 0; i < count; i++) {
  const dir = join(home, 'sandboxes', `box-${i}`, 'logs');
  const fd = openSync(join(dir, 'exec.log'), 'r');
  let position = fstatSync(fd).size;
  watch(dir, { persistent: false }, () => {
    for (;;) {
      const length = readSync(fd, buffer, 0, buffer.length, position);
      if (length === 0) return;
      position += length;
      const at = process.hrtime.bigint();
      for (const line of buffer.toString('utf8', 0, length).split('\n')) {
        if (line === '') continue;
        const match = SEQ.exec(JSON.parse(line).d);
        if (match !== null) delays.push(Number(at - BigInt(match[1])) / 1e6);
      }
      if (length < buffer.length) return;
    }
  });
}

await answerMarks(delays);
process.exit(0);
