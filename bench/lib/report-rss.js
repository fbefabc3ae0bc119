// Preloaded (`node --import`) into a measured process: prints its peak RSS on exit.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(Number(process.env.SANDLOG_BENCH_RSS_FD ?? 2), `SANDLOG_BENCH_MAXRSS=${process.resourceUsage().maxRSS}\n`);
});
