// A producer for the rotation benchmark: writes COUNT records through
// ExecLogWriter into LOG_DIR as fast as it can (a batch of records per event
// loop turn, as a busy capture does), rotating every MAX_BYTES.
// Usage: node rotating-writer.js LOG_DIR COUNT MAX_BYTES
import { importSandlog } from './common.js';

const { ExecLogWriter } = await importSandlog();

const [logDir, countText, maxBytesText] = process.argv.slice(2);
const count = Number(countText);
const writer = new ExecLogWriter(logDir, { maxBytes: Number(maxBytesText) });
const PER_TURN = 64;
let seq = 0;
function turn() {
  for (let i = 0; i < PER_TURN && seq < count; i++, seq++) {
    writer.write('stdout', `seq=${seq} ns=${process.hrtime.bigint()} some output of a busy program\n`, 1);
  }
  if (seq < count) setImmediate(turn);
  else writer.close();
}
turn();
