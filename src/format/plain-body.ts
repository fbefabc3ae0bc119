/**
 * Terminal text straight from a record's JSON string body: the bytes between
 * its quotes are copied into an output buffer with `\n`, `\t`, `\"`, `\\` and
 * `\/` unescaped and SGR colour sequences (`\u001b[…m`) removed, optionally
 * with a prefix at the start of every line. A body with any other escape
 * (`\r`, `\b`, `\f`, another `\uXXXX`: a control character or a character
 * spelled out) is left to the general path, which sanitises it: what this
 * copies is what the terminal sanitiser, colour off, would make of the body.
 */

import { isUtf8 } from 'node:buffer';
import { copyBytes } from './bytes.js';

const BACKSLASH = 0x5c;
const ESCAPED_ESC = Buffer.from('001b', 'latin1');

// With `bytes[at]` just after `\u`: the end of an escaped SGR sequence `001b[` + digits, `;` and `:` +
// `m` (hex digits in either case), or -1 when these bytes are anything else.
function endOfEscapedSgr(bytes: Uint8Array, at: number, end: number): number {
  if (at + 5 > end) return -1;
  for (let k = 0; k < 4; k++) if ((bytes[at + k]! | (k === 3 ? 0x20 : 0)) !== ESCAPED_ESC[k]) return -1;
  if (bytes[at + 4] !== 0x5b /* [ */) return -1;
  for (let i = at + 5; i < end; i++) {
    const c = bytes[i]!;
    if (c === 0x6d /* m */) return i + 1;
    if (!((c >= 0x30 && c <= 0x39) || c === 0x3b || c === 0x3a)) return -1;
  }
  return -1;
}
const NEWLINE = 0x0a;

/**
 * Writes the text of the JSON string body `bytes[start, end)` (validated by
 * the record parser: UTF-8, no raw control characters) into `target` at `at`.
 * Without prefixes the text is copied as it is. With them, the first line
 * starts with `first`, every other non-empty line with `continuation`, the
 * text ends with a newline whether or not the body did, and an empty body
 * writes nothing. Returns the end, or -1 when the
 * body has an escape this does not take, or when it might not fit.
 */
export function writePlainBody(
  bytes: Uint8Array,
  start: number,
  end: number,
  target: Uint8Array,
  at: number,
  first?: Uint8Array,
  continuation?: Uint8Array,
): number {
  const prefixed = first !== undefined && continuation !== undefined;
  // Unescaping only shrinks: the body and the first prefix fit if this holds; each continuation is checked as it comes.
  if (at + (end - start) + (prefixed ? first.length + 1 : 0) > target.length) return -1;
  const origin = at;
  if (prefixed) {
    target.set(first, at);
    at += first.length;
  }
  const textStart = at;
  let lastWasNewline = false;
  let i = start;
  while (i < end) {
    // The run up to the next escape is copied as it is: a JSON string holds no raw newline, so no
    // prefix goes inside it.
    let runEnd = (bytes as Buffer).indexOf(BACKSLASH, i);
    if (runEnd < 0 || runEnd > end) runEnd = end;
    if (runEnd > i) {
      // As msb logs prints them: a line after the first that is empty has no prefix.
      if (lastWasNewline && prefixed) {
        if (at + continuation.length + (end - i) + 1 > target.length) return -1;
        target.set(continuation, at);
        at += continuation.length;
      }
      at = copyBytes(target, at, bytes, i, runEnd);
      lastWasNewline = false;
      i = runEnd;
      if (i === end) break;
    }
    const next = bytes[i + 1];
    let c: number;
    if (next === 0x6e) c = NEWLINE;
    else if (next === 0x74) c = 0x09;
    else if (next === 0x22 || next === BACKSLASH || next === 0x2f) c = next;
    else if (next === 0x75 /* u */) {
      // Colour, `\u001b[…m`: the sanitiser removes a whole SGR sequence when colour is off.
      const sgrEnd = endOfEscapedSgr(bytes, i + 2, end);
      if (sgrEnd < 0) return -1;
      i = sgrEnd;
      continue;
    } else return -1;
    if (lastWasNewline && prefixed && c !== NEWLINE) {
      if (at + continuation.length + (end - i) + 1 > target.length) return -1;
      target.set(continuation, at);
      at += continuation.length;
    }
    target[at++] = c;
    lastWasNewline = c === NEWLINE;
    i += 2;
  }
  // An empty body prints nothing at all, not even its prefix.
  if (prefixed && at === textStart) return origin;
  if (prefixed && !lastWasNewline) target[at++] = NEWLINE;
  return at;
}

/**
 * Writes the raw text `bytes[start, end)` (one line of a text log's body, no
 * newline in it), then a newline, into `target` at `at`, after `first` when
 * given: what the terminal sanitiser, colour off, makes of that text, when it
 * holds nothing the sanitiser would change (no control character but tab, no
 * DEL, no C1, valid UTF-8). Returns the end, or -1 when it holds such a byte
 * or might not fit.
 */
export function writePlainTextLine(
  bytes: Buffer,
  start: number,
  end: number,
  target: Uint8Array,
  at: number,
  first?: Uint8Array,
): number {
  if (at + (first?.length ?? 0) + (end - start) + 1 > target.length) return -1;
  let high = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return -1;
    // C1 controls are C2 80 … C2 9F in UTF-8.
    if (c === 0xc2 && bytes[i + 1]! <= 0x9f) return -1;
    high |= c;
  }
  if (high >= 0x80 && !isUtf8(bytes.subarray(start, end))) return -1;
  if (first !== undefined) {
    target.set(first, at);
    at += first.length;
  }
  at = copyBytes(target, at, bytes, start, end);
  target[at++] = NEWLINE;
  return at;
}
