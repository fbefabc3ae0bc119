/**
 * Terminal text straight from a record's JSON string body: the bytes between
 * its quotes are copied into an output buffer with `\n`, `\t`, `\"`, `\\` and
 * `\/` unescaped, optionally with a prefix at the start of every line. A body
 * with any other escape (`\r`, `\b`, `\f`, `\uXXXX`: a control character or a
 * character spelled out) is left to the general path, which sanitises it: a
 * body that this copies holds nothing but printable text, newlines and tabs,
 * so the terminal sanitiser would leave it unchanged.
 */

const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

/**
 * Writes the text of the JSON string body `bytes[start, end)` (validated by
 * the record parser: UTF-8, no raw control characters) into `target` at `at`.
 * Without prefixes the text is copied as it is. With them, the first line
 * starts with `first`, every other line with `continuation`, and the text ends
 * with a newline whether or not the body did. Returns the end, or -1 when the
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
  if (prefixed) {
    target.set(first, at);
    at += first.length;
  }
  let lastWasNewline = false;
  for (let i = start; i < end; i++) {
    let c = bytes[i]!;
    if (c === BACKSLASH) {
      i += 1;
      const next = bytes[i];
      if (next === 0x6e) c = NEWLINE;
      else if (next === 0x74) c = 0x09;
      else if (next === 0x22 || next === BACKSLASH || next === 0x2f) c = next;
      else return -1;
    }
    if (lastWasNewline && prefixed) {
      if (at + continuation.length + (end - i) + 1 > target.length) return -1;
      target.set(continuation, at);
      at += continuation.length;
    }
    target[at++] = c;
    lastWasNewline = c === NEWLINE;
  }
  if (prefixed && !lastWasNewline) target[at++] = NEWLINE;
  return at;
}
