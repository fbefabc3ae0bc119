// The holder benchmark's followers: N streams following one log directory in
// this process, each checking that records arrive in sequence (`seq=N `).
// Driven over stdin: `mark` starts the measured window (CPU, peak RSS, opens
// by the generation holder); `drain <records>` waits until every stream has
// that many records or failed, then prints one JSON line; `exit` ends.
// Usage: node holder-followers.js LOG_DIR N
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { DIST, importSandlog } from './common.js';

const { streamLogs } = await importSandlog();
const { generationOpenCount } = await import(join(DIST, 'engine', 'generation-holder.js'));

const [logDir, countText] = process.argv.slice(2);
const count = Number(countText);
const controller = new AbortController();
const SEQ = /^seq=(\d+) /;
const streams = [];

for (let i = 0; i < count; i++) {
  const state = {
    next: 0,
    error: undefined,
    outOfOrder: 0,
    handle: streamLogs({ logDir }, { follow: true, signal: controller.signal }),
  };
  streams.push(state);
  state.done = (async () => {
    for await (const batch of state.handle.batches()) {
      for (const entry of batch) {
        const match = SEQ.exec(entry.text());
        if (match === null || Number(match[1]) !== state.next) state.outOfOrder += 1;
        state.next += 1;
      }
    }
  })().catch((error) => {
    state.error = error.code ?? error.message;
  });
}

let markCpu = process.cpuUsage();
let markTime = process.hrtime.bigint();
let markOpens = generationOpenCount();
let peakRss = process.memoryUsage().rss;
setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50).unref();

// Ready once every stream has opened its files (a sandbox's followers are running before it gets busy).
await Promise.all(streams.map((state) => state.handle.open()));
process.stderr.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const [command, argument] = line.split(' ');
  if (command === 'mark') {
    markCpu = process.cpuUsage();
    markTime = process.hrtime.bigint();
    markOpens = generationOpenCount();
    peakRss = process.memoryUsage().rss;
  } else if (command === 'drain') {
    const records = Number(argument);
    // Streams that neither finish nor fail by then are reported as incomplete.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !streams.every((state) => state.error !== undefined || state.next >= records)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const cpu = process.cpuUsage(markCpu);
    const errors = {};
    for (const state of streams) if (state.error !== undefined) errors[state.error] = (errors[state.error] ?? 0) + 1;
    process.stdout.write(
      `${JSON.stringify({
        cpuMs: (cpu.user + cpu.system) / 1000,
        wallMs: Number(process.hrtime.bigint() - markTime) / 1e6,
        peakRss,
        opens: generationOpenCount() - markOpens,
        complete: streams.filter(
          (state) => state.error === undefined && state.next === records && state.outOfOrder === 0,
        ).length,
        outOfOrder: streams.reduce((sum, state) => sum + state.outOfOrder, 0),
        behind: streams.filter((state) => state.error === undefined && state.next < records).map((state) => state.next),
        errors,
      })}\n`,
    );
  } else if (command === 'exit') {
    break;
  }
}
controller.abort();
await Promise.all(streams.map((state) => state.done));
// stdin stays open in the parent: leave without waiting for it.
process.exit(0);
