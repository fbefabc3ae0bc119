/**
 * A strict reader of one JSON object's top level, for exec.log records that
 * the byte-level fast path does not recognise. It accepts exactly what
 * microsandbox's serde reader accepts and `JSON.parse` does not tell apart:
 *
 * - a record key given twice (`t`, `s`, `d`, `id`, `e`, also when spelt with
 *   escapes such as `"\u0074"`) makes the record malformed; an unknown key
 *   given twice does not;
 * - a lone surrogate escape (`\ud800`) in a key makes the record malformed
 *   (in a record key's value the caller checks; in an unknown key's value it
 *   is accepted, as serde skips such values without decoding them);
 * - numbers keep their literal text, so `id` can be checked as a u64
 *   (`1.0`, `1e2`, `-0` are not integers to serde);
 * - nesting has no depth limit, and is validated without recursion (a
 *   100,000-deep array in an unknown key is a valid record to microsandbox,
 *   and would overflow `JSON.parse`'s stack).
 */

/** Keys of an exec.log record. */
const RECORD_KEYS = new Set(['t', 's', 'd', 'id', 'e']);

/** The literal text of each record key's value (unknown keys are validated and dropped). */
export type RecordValues = Map<string, string>;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether a decoded string holds a surrogate that is not half of a pair (only a `\u` escape can make one). */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

function skipSpace(text: string, at: number): number {
  for (;;) {
    const c = text.charCodeAt(at);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return at;
    at += 1;
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

// The end of the JSON string starting at `text[at]` (a quote), or -1.
function skipString(text: string, at: number): number {
  if (text.charCodeAt(at) !== 0x22) return -1;
  at += 1;
  for (;;) {
    const c = text.charCodeAt(at);
    if (Number.isNaN(c) || c < 0x20) return -1;
    if (c === 0x22) return at + 1;
    if (c === 0x5c) {
      const next = text.charCodeAt(at + 1);
      if (next === 0x75) {
        if (
          !isHex(text.charCodeAt(at + 2)) ||
          !isHex(text.charCodeAt(at + 3)) ||
          !isHex(text.charCodeAt(at + 4)) ||
          !isHex(text.charCodeAt(at + 5))
        )
          return -1;
        at += 6;
        continue;
      }
      // " \ / b f n r t
      if (
        next !== 0x22 &&
        next !== 0x5c &&
        next !== 0x2f &&
        next !== 0x62 &&
        next !== 0x66 &&
        next !== 0x6e &&
        next !== 0x72 &&
        next !== 0x74
      )
        return -1;
      at += 2;
      continue;
    }
    at += 1;
  }
}

// The end of the scalar (string, number, literal) at `text[at]`, or -1.
function skipScalar(text: string, at: number): number {
  const c = text.charCodeAt(at);
  if (c === 0x22) return skipString(text, at);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
    NUMBER.lastIndex = at;
    return NUMBER.test(text) ? NUMBER.lastIndex : -1;
  }
  for (const literal of ['true', 'false', 'null']) {
    if (text.startsWith(literal, at)) return at + literal.length;
  }
  return -1;
}

const IN_OBJECT = 0;
const IN_ARRAY = 1;

// Past `"key"` and `:` inside an object (at the key's quote); -1 when malformed.
function skipMember(text: string, at: number): number {
  at = skipString(text, at);
  if (at < 0) return -1;
  at = skipSpace(text, at);
  return text.charCodeAt(at) === 0x3a ? skipSpace(text, at + 1) : -1;
}

/** The end of the JSON value starting at `text[at]` (after blanks), or -1; iterative, so any depth is fine. */
function skipValue(text: string, at: number): number {
  const stack: number[] = [];
  for (;;) {
    at = skipSpace(text, at);
    const c = text.charCodeAt(at);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const close = c === 0x7b ? 0x7d : 0x5d;
      at = skipSpace(text, at + 1);
      if (text.charCodeAt(at) !== close) {
        stack.push(c === 0x7b ? IN_OBJECT : IN_ARRAY);
        if (c === 0x7b) {
          at = skipMember(text, at);
          if (at < 0) return -1;
        }
        continue;
      }
      at += 1;
    } else {
      at = skipScalar(text, at);
      if (at < 0) return -1;
    }
    // After a value: close what it completes, or move to the next element.
    for (;;) {
      if (stack.length === 0) return at;
      at = skipSpace(text, at);
      const top = stack[stack.length - 1];
      const next = text.charCodeAt(at);
      if (next === 0x2c /* , */) {
        at = skipSpace(text, at + 1);
        if (top === IN_OBJECT) {
          at = skipMember(text, at);
          if (at < 0) return -1;
        }
        break;
      }
      if ((top === IN_OBJECT && next === 0x7d) || (top === IN_ARRAY && next === 0x5d)) {
        stack.pop();
        at += 1;
        continue;
      }
      return -1;
    }
  }
}

/**
 * Reads the JSON object that is the whole of `text` (blanks around it
 * allowed). Returns the literal text of each record key's value, or
 * undefined when `text` is not one valid object, repeats a record key, or
 * has a key with a lone surrogate.
 */
export function readRecordObject(text: string): RecordValues | undefined {
  let at = skipSpace(text, 0);
  if (text.charCodeAt(at) !== 0x7b) return undefined;
  const values: RecordValues = new Map();
  at = skipSpace(text, at + 1);
  if (text.charCodeAt(at) === 0x7d) return skipSpace(text, at + 1) === text.length ? values : undefined;
  for (;;) {
    const keyEnd = skipString(text, at);
    if (keyEnd < 0) return undefined;
    const rawKey = text.slice(at, keyEnd);
    const key = rawKey.includes('\\') ? (JSON.parse(rawKey) as string) : rawKey.slice(1, -1);
    if (hasLoneSurrogate(key)) return undefined;
    at = skipSpace(text, keyEnd);
    if (text.charCodeAt(at) !== 0x3a) return undefined;
    const valueStart = skipSpace(text, at + 1);
    const valueEnd = skipValue(text, valueStart);
    if (valueEnd < 0) return undefined;
    if (RECORD_KEYS.has(key)) {
      if (values.has(key)) return undefined;
      values.set(key, text.slice(valueStart, valueEnd));
    }
    at = skipSpace(text, valueEnd);
    const c = text.charCodeAt(at);
    if (c === 0x7d) return skipSpace(text, at + 1) === text.length ? values : undefined;
    if (c !== 0x2c) return undefined;
    at = skipSpace(text, at + 1);
  }
}
