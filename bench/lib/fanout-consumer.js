// The fan-out follower: one process following N sandboxes under HOME with
// `streamLogs({ follow: true })`, measuring each record's wake latency
// (`ns=` in the body, on the shared monotonic clock). Driven over stdin
// (fanout-protocol.js).
// Usage: node fanout-consumer.js HOME N
import events from 'node:events';
import { importSandlog } from './common.js';
import { answerMarks } from './fanout-protocol.js';

const { streamLogs } = await importSandlog();

const [home, countText] = process.argv.slice(2);
const count = Number(countText);
const controller = new AbortController();
const delays = [];
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

await answerMarks(delays);
controller.abort();
await Promise.all(running);
process.exit(0);
