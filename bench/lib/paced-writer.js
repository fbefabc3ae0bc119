// A producer for the follow benchmarks: appends `count` exec.log records to
// `file`, one every `intervalMs`, each carrying its write time (the monotonic
// clock, shared by every process on the machine) and its sequence number.
// Usage: node paced-writer.js FILE COUNT INTERVAL_MS
import { closeSync, openSync, writeSync } from 'node:fs';

const [file, countText, intervalText] = process.argv.slice(2);
const count = Number(countText);
const intervalMs = Number(intervalText);
const fd = openSync(file, 'a');
const start = process.hrtime.bigint();
let seq = 0;

function writeOne() {
  const ns = process.hrtime.bigint();
  const line = `{"t":"${new Date().toISOString()}","s":"stdout","d":"seq=${seq} ns=${ns} padding to a typical chunk size of about one hundred bytes\\n","id":1}\n`;
  writeSync(fd, line);
  seq += 1;
}

function tick() {
  while (seq < count && Number(process.hrtime.bigint() - start) / 1e6 >= seq * intervalMs) writeOne();
  if (seq >= count) {
    closeSync(fd);
    return;
  }
  const dueIn = seq * intervalMs - Number(process.hrtime.bigint() - start) / 1e6;
  setTimeout(tick, Math.max(0, Math.floor(dueIn)));
}
tick();
