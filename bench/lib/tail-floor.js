// The floor of any Node `--tail 100`: a program that opens the last file,
// reads its last 64 KiB and prints the last 100 lines — no parsing, no merge,
// no cursor. `sandlog logs --tail 100` is compared against it as well as
// against `node -e 0`: the difference between the two floors is what opening,
// reading and writing through process.stdout cost in any Node program.
// Usage: node tail-floor.js FILE
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const fd = openSync(process.argv[2], 'r');
const size = fstatSync(fd).size;
const length = Math.min(size, 64 * 1024);
const buffer = Buffer.allocUnsafe(length);
readSync(fd, buffer, 0, length, size - length);
closeSync(fd);
let at = length;
for (let lines = 0; lines <= 100 && at > 0; ) {
  at = buffer.lastIndexOf(10, at - 1);
  if (at < 0) break;
  lines += 1;
}
process.stdout.write(buffer.subarray(at + 1));
