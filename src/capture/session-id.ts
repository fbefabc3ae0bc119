/**
 * Choosing the next exec session id of a sandbox: one more than the highest
 * id in its retained exec.log chain, so ids never repeat within what is kept.
 * Ids are taken from records' `id` keys and from sandlog's lifecycle markers
 * (`exec session N started …`), so a session that printed nothing still
 * counts.
 *
 * Cost: every file of the retained chain is read (issue 3: ids never repeat
 * within what is kept, and sessions can overlap, so the newest file need not
 * hold the highest id: an older session may still be talking while a newer
 * one's whole output sits in an older file). The search is a byte search, so
 * a full 50 MiB chain takes some tens of milliseconds, once per run.
 *
 * Each file is searched for the `"id":` key (and for a body starting with
 * the marker prefix) with a byte search instead of parsing every line: inside
 * a JSON string a quote is always escaped, so a `"id":` preceded by `{` or `,`
 * can only be a key, and `"s":"system","d":"exec session ` only the start
 * of a marker's body. A run
 * against a 10 MiB file takes a few milliseconds.
 */
import { closeSync, openSync, readSync, readdirSync, constants } from 'node:fs';
import { EXEC_LOG, rotatedPath } from '../files/layout.js';
import { MARKER_PREFIX } from './markers.js';

const READ_BLOCK_BYTES = 1024 * 1024;
const ID_KEY = Buffer.from('"id":');
// Markers are recognised only in the key order sandlog writes: source, then body.
const MARKER_BODY = Buffer.from(`"s":"system","d":"${MARKER_PREFIX}`);
// Enough to hold a key split across two blocks together with its digits.
const OVERLAP_BYTES = 64;
const MAX_ID_DIGITS = 15;
const KEY_CONTEXT_BYTES = 16;

/** Indexes of the chain's files present now, newest first (0 is the live file). */
function chainIndexes(logDir: string, fileName: string): number[] {
  let names: string[];
  try {
    names = readdirSync(logDir);
  } catch {
    return [];
  }
  const prefix = `${fileName}.`;
  const indexes = [0];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const suffix = name.slice(prefix.length);
    if (/^[1-9][0-9]{0,5}$/.test(suffix)) indexes.push(Number(suffix));
  }
  return indexes.sort((a, b) => a - b);
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d;
}

/** The decimal number at `buffer[at…]` (0 when there is none or it is too long). */
function numberAt(buffer: Buffer, at: number): number {
  let value = 0;
  let digits = 0;
  while (digits <= MAX_ID_DIGITS) {
    const byte = buffer[at + digits];
    if (byte === undefined || byte < 0x30 || byte > 0x39) break;
    value = value * 10 + (byte - 0x30);
    digits++;
  }
  return digits > 0 && digits <= MAX_ID_DIGITS ? value : 0;
}

/** Highest id whose `"id":` key or marker starts in `buffer[0, scanEnd)`; the digits may run up to `buffer.length`. */
function highestIdIn(buffer: Buffer, scanEnd: number): number {
  let highest = 0;
  let marker = buffer.indexOf(MARKER_BODY, 0);
  while (marker >= 0 && marker < scanEnd) {
    highest = Math.max(highest, numberAt(buffer, marker + MARKER_BODY.length));
    marker = buffer.indexOf(MARKER_BODY, marker + 1);
  }
  let at = buffer.indexOf(ID_KEY, 0);
  while (at >= 0 && at < scanEnd) {
    let before = at - 1;
    while (before >= 0 && isSpace(buffer[before])) before--;
    const opener = before >= 0 ? buffer[before] : undefined;
    if (opener === 0x2c /* , */ || opener === 0x7b /* { */) {
      let digit = at + ID_KEY.length;
      while (isSpace(buffer[digit])) digit++;
      highest = Math.max(highest, numberAt(buffer, digit));
    }
    at = buffer.indexOf(ID_KEY, at + 1);
  }
  return highest;
}

/** Highest session id in one file (0 when it has none or does not exist). */
function highestIdInFile(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch {
    return 0;
  }
  try {
    const buffer = Buffer.allocUnsafe(OVERLAP_BYTES + KEY_CONTEXT_BYTES + READ_BLOCK_BYTES);
    let carried = 0;
    let highest = 0;
    for (;;) {
      const read = readSync(fd, buffer, carried, READ_BLOCK_BYTES, null);
      const filled = carried + read;
      if (read === 0) {
        if (carried > 0) highest = Math.max(highest, highestIdIn(buffer.subarray(0, filled), filled));
        return highest;
      }
      // Keys starting in the last OVERLAP_BYTES are looked at again with the next block, digits and all.
      const scanEnd = Math.max(0, filled - OVERLAP_BYTES);
      highest = Math.max(highest, highestIdIn(buffer.subarray(0, filled), scanEnd));
      // The bytes just before such a key come along too: they tell a key from a look-alike.
      const keep = Math.max(0, scanEnd - KEY_CONTEXT_BYTES);
      buffer.copy(buffer, 0, keep, filled);
      carried = filled - keep;
    }
  } catch {
    // A file that cannot be read (a directory, no permission) holds no id we can know of.
    return 0;
  } finally {
    closeSync(fd);
  }
}

/**
 * The id for the next exec session written to `logDir`: 1 + the highest id
 * anywhere in the retained chain (1 when none has one). Ids too long to be
 * held exactly (more than 15 digits) are not counted.
 */
export function nextSessionId(logDir: string, fileName: string = EXEC_LOG): number {
  let highest = 0;
  for (const index of chainIndexes(logDir, fileName)) {
    highest = Math.max(highest, highestIdInFile(rotatedPath(logDir, fileName, index)));
  }
  return highest + 1;
}
