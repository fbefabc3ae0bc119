// A producer for the holder benchmark: writes exec.log records through
// ExecLogWriter so that it rotates ROTATIONS_PER_S times a second for SECONDS,
// each record carrying its sequence number (`seq=N `). Prints
// "done <records> <rotations>" at the end.
// Usage: node holder-producer.js LOG_DIR ROTATIONS_PER_S SECONDS MAX_BYTES
import { importSandlog } from './common.js';

const { ExecLogWriter } = await importSandlog();

const [logDir, rateText, secondsText, maxBytesText] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const maxBytes = Number(maxBytesText);
const writer = new ExecLogWriter(logDir, { maxBytes, maxFiles: 4 });
const started = process.hrtime.bigint();
let seq = 0;
let bytes = 0;

function tick() {
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  // Bytes due by now: `rate` files' worth a second (a record's JSON framing is counted as written).
  const due = Math.min(elapsed, seconds) * rate * maxBytes;
  while (bytes < due) {
    const body = `seq=${seq} ${'output of a busy program '.repeat(3)}\n`;
    writer.write('stdout', body, 1);
    bytes += body.length + 64;
    seq += 1;
  }
  writer.flush();
  if (elapsed < seconds) setTimeout(tick, 5);
  else {
    writer.close();
    process.stdout.write(`done ${seq} ${writer.rotations}\n`);
  }
}
tick();
