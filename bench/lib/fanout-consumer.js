// The fan-out follower: one process following N sandboxes under HOME with
// `streamLogs({ follow: true })`, measuring each record's wake latency
// (`ns=` in the body, on the shared monotonic clock). Driven over stdin:
// `mark` starts a window, `report` prints { cpuMs, wallMs, rssBytes, delays }
// for the window as one JSON line, `exit` ends.
// Usage: node fanout-consumer.js HOME N
import events from 'node:events';
import { createInterface } from 'node:readline';
import { importSandlog } from './common.js';

const { streamLogs } = await importSandlog();

const [home, countText] = process.argv.slice(2);
const count = Number(countText);
const controller = new AbortController();
let delays = [];
const SEQ = /ns=(\d+)/;

async function follow(name) {
  const stream = streamLogs({ name, home }, { follow: true, signal: controller.signal });
  for await (const batch of stream.batches()) {
    const at = process.hrtime.bigint();
    for (const entry of batch) {
      const match = SEQ.exec(entry.text());
      if (match !== null) delays.push(Number(at - BigInt(match[1])) / 1e6);
    }
  }
}

const running = [];
events.setMaxListeners(0, controller.signal);
for (let i = 0; i < count; i++)
  running.push(follow(`box-${i}`).catch((error) => process.stderr.write(`box-${i}: ${error.message}\n`)));

let markCpu = process.cpuUsage();
let markTime = process.hrtime.bigint();
process.stderr.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'mark') {
    markCpu = process.cpuUsage();
    markTime = process.hrtime.bigint();
    delays = [];
  } else if (line === 'report') {
    const cpu = process.cpuUsage(markCpu);
    process.stdout.write(
      `${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs: Number(process.hrtime.bigint() - markTime) / 1e6, rssBytes: process.memoryUsage().rss, delays })}\n`,
    );
  } else if (line === 'exit') {
    break;
  }
}
controller.abort();
await Promise.all(running);
process.exit(0);
