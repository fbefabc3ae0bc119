// The fan-out followers' protocol (fanout-consumer.js, fanout-floor.js): says
// `ready` on stderr, then answers stdin — `mark` starts a window, `report`
// prints { cpuMs, wallMs, rssBytes, delays } for the window as one JSON line,
// `exit` returns. `delays` is the follower's array of wake latencies (ms),
// emptied at each mark.
import { createInterface } from 'node:readline';

export async function answerMarks(delays) {
  let markCpu = process.cpuUsage();
  let markTime = process.hrtime.bigint();
  process.stderr.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'mark') {
      markCpu = process.cpuUsage();
      markTime = process.hrtime.bigint();
      delays.length = 0;
    } else if (line === 'report') {
      const cpu = process.cpuUsage(markCpu);
      process.stdout.write(
        `${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs: Number(process.hrtime.bigint() - markTime) / 1e6, rssBytes: process.memoryUsage().rss, delays })}\n`,
      );
    } else if (line === 'exit') {
      return;
    }
  }
}
