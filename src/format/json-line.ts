/**
 * The `--json` output line: one entry as `{"t","s","d","id","e","cursor"}`,
 * the shape `msb logs --json` prints, byte for byte. The one module that
 * knows that shape, in both its forms: built as a string (any entry), and
 * written straight from the read buffer as bytes (the hot path of
 * `sandlog logs --json`, for a record whose time and body can be copied as
 * they are on disk). Both must give the same bytes: the byte path is the
 * string path without the string.
 */
import { isUtf8 } from 'node:buffer';
import type { LogSource } from './source.js';

/**
 * Encodes an entry as one `--json` output line (without `\n`): keys `t`, `s`,
 * `d`, `id`, `e` and `cursor`. `bodyJson` is the body as a quoted JSON string
 * (see {@link bodyJsonString}), `base64` says whether it holds base64 because
 * the bytes are not UTF-8.
 */
export function encodeEntryJson(
  timeText: string,
  source: LogSource,
  bodyJson: string,
  base64: boolean,
  sessionId: number | bigint | null,
  cursor: string,
): string {
  return `{"t":${JSON.stringify(timeText)},"s":"${source}","d":${bodyJson},"id":${sessionId === null ? 'null' : sessionId},"e":${base64 ? '"b64"' : 'null'},"cursor":"${cursor}"}`;
}

/** The `boot-error` line of `--json` output: microsandbox's shape, the record itself under `d`. */
export function encodeBootErrorJson(record: Record<string, unknown>): string {
  return JSON.stringify({ t: record['t'] ?? null, s: 'boot-error', d: record });
}

const TERMINAL_CONTROL = /[\u007f-\u009f]/;
const TERMINAL_CONTROLS = /[\u007f-\u009f]/g;

/**
 * A body's text as the quoted JSON string of the `d` key: JSON.stringify,
 * with DEL and C1 controls escaped too. JSON allows them raw, but a terminal
 * showing the output would act on them (U+009B is CSI).
 */
export function bodyJsonString(text: string): string {
  const json = JSON.stringify(text);
  return TERMINAL_CONTROL.test(json)
    ? json.replace(TERMINAL_CONTROLS, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)
    : json;
}

// Literal parts of a `--json` line, for the byte path: stored byte by byte (a Buffer.copy per piece
// costs a call into C++ larger than these few bytes).
const JSON_T = Buffer.from('{"t":"', 'latin1');
const JSON_S = Buffer.from('","s":"', 'latin1');
const JSON_D = Buffer.from('","d":', 'latin1');
const JSON_ID = Buffer.from(',"id":', 'latin1');
const JSON_NULL = Buffer.from('null', 'latin1');
const JSON_CURSOR = Buffer.from(',"e":null,"cursor":"', 'latin1');
const JSON_END = Buffer.from('"}\n', 'latin1');
const SOURCE_BYTES: Readonly<Record<LogSource, Buffer>> = {
  stdout: Buffer.from('stdout'),
  stderr: Buffer.from('stderr'),
  output: Buffer.from('output'),
  system: Buffer.from('system'),
};
/** Bytes from which Buffer.copy beats a byte loop (Node 20 here: a copy costs ~45 ns whatever its size up to 256 bytes, a loop ~1 ns a byte). */
const COPY_BYTES = 48;

// `source[from, to)` into `target` at `at`; returns the end.
function put(target: Uint8Array, at: number, source: Uint8Array, from: number, to: number): number {
  if (to - from >= COPY_BYTES) return at + (source as Buffer).copy(target, at, from, to);
  for (let i = from; i < to; i++) target[at++] = source[i]!;
  return at;
}

// All of `literal` into `target` at `at`; returns the end.
function putAll(target: Uint8Array, at: number, literal: Uint8Array): number {
  for (let i = 0; i < literal.length; i++) target[at + i] = literal[i]!;
  return at + literal.length;
}

/**
 * An upper bound on the bytes of a line written by {@link writeEntryJsonHead}
 * and {@link writeEntryJsonEnd}, with the cursor between them: the literal
 * parts, the source and an id of up to 20 digits fit in 96.
 */
export function entryJsonBound(timeBytes: number, bodyBytes: number, cursorChars: number): number {
  return 96 + timeBytes + bodyBytes + cursorChars;
}

/**
 * Writes a `--json` line up to its cursor's value into `target` at `at`,
 * copying the time `buffer[timeStart, timeEnd)` (already in the form
 * microsandbox prints) and the body with its quotes, `buffer[bodyStart - 1,
 * bodyEnd + 1)` (already a valid JSON string that needs no re-escaping, and
 * not base64). Returns the end; the caller writes the cursor there, then
 * {@link writeEntryJsonEnd}. The caller checked the room with {@link entryJsonBound}.
 */
export function writeEntryJsonHead(
  target: Buffer,
  at: number,
  buffer: Buffer,
  timeStart: number,
  timeEnd: number,
  source: LogSource,
  bodyStart: number,
  bodyEnd: number,
  sessionId: number | bigint | null,
): number {
  at = putAll(target, at, JSON_T);
  at = put(target, at, buffer, timeStart, timeEnd);
  at = putAll(target, at, JSON_S);
  at = putAll(target, at, SOURCE_BYTES[source]);
  at = putAll(target, at, JSON_D);
  at = put(target, at, buffer, bodyStart - 1, bodyEnd + 1);
  at = putAll(target, at, JSON_ID);
  at = sessionId === null ? putAll(target, at, JSON_NULL) : writeDigits(sessionId, target, at);
  return putAll(target, at, JSON_CURSOR);
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');
// Per control character, the letter of the two-character escape JSON.stringify uses for it (`\b \t
// \n \f \r`); 0 for the others, which are `\u00xx`.
const SHORT_ESCAPES = new Uint8Array(0x20);
SHORT_ESCAPES.set([0x62, 0x74, 0x6e, 0, 0x66, 0x72], 0x08);

// `\u00xx` for the code point `code` (< 0x100) into `target` at `at`; returns the end.
function putUnicodeEscape(target: Uint8Array, at: number, code: number): number {
  target[at] = 0x5c;
  target[at + 1] = 0x75;
  target[at + 2] = 0x30;
  target[at + 3] = 0x30;
  target[at + 4] = HEX[code >>> 4]!;
  target[at + 5] = HEX[code & 15]!;
  return at + 6;
}

/**
 * Writes the text `bytes[start, end)` followed by a newline as the quoted JSON
 * string {@link bodyJsonString} makes of it (quotes included), escaping here:
 * `"`, `\`, controls, DEL and C1. Returns the end, or -1 when the bytes are not
 * valid UTF-8 (the string path then decides what they decode to). Needs room
 * for 6 bytes per byte of text, plus 4.
 */
export function writeTextAsJsonString(
  target: Uint8Array,
  at: number,
  bytes: Buffer,
  start: number,
  end: number,
): number {
  target[at++] = 0x22;
  let high = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c && c < 0x7f) {
      target[at++] = c;
    } else if (c === 0x22 || c === 0x5c) {
      target[at++] = 0x5c;
      target[at++] = c;
    } else if (c < 0x20) {
      const short = SHORT_ESCAPES[c]!;
      if (short === 0) {
        at = putUnicodeEscape(target, at, c);
      } else {
        target[at++] = 0x5c;
        target[at++] = short;
      }
    } else if (c === 0x7f) {
      at = putUnicodeEscape(target, at, c);
    } else if (c === 0xc2 && i + 1 < end && bytes[i + 1]! >= 0x80 && bytes[i + 1]! <= 0x9f) {
      // A C1 control (U+0080–U+009F).
      at = putUnicodeEscape(target, at, bytes[i + 1]!);
      i += 1;
    } else {
      high |= c;
      target[at++] = c;
    }
  }
  if (high !== 0 && !isUtf8(bytes.subarray(start, end))) return -1;
  target[at++] = 0x5c;
  target[at++] = 0x6e;
  target[at++] = 0x22;
  return at;
}

/**
 * Writes a `--json` line up to its cursor's value like {@link writeEntryJsonHead},
 * for an entry whose time is the string `time` (the printed form, ASCII) and
 * whose body is the raw text `bytes[bodyStart, bodyEnd)` plus a newline (a
 * text-log line's body), escaped by {@link writeTextAsJsonString}. Returns the
 * end, or -1 when the text is not valid UTF-8. Room: {@link entryJsonBound}
 * with 6 body bytes per byte of text, plus 4.
 */
export function writeTextEntryJsonHead(
  target: Buffer,
  at: number,
  time: string,
  source: LogSource,
  bytes: Buffer,
  bodyStart: number,
  bodyEnd: number,
  sessionId: number | bigint | null,
): number {
  at = putAll(target, at, JSON_T);
  for (let i = 0; i < time.length; i++) target[at++] = time.charCodeAt(i);
  at = putAll(target, at, JSON_S);
  at = putAll(target, at, SOURCE_BYTES[source]);
  at = putAll(target, at, JSON_D);
  at = writeTextAsJsonString(target, at, bytes, bodyStart, bodyEnd);
  if (at < 0) return -1;
  at = putAll(target, at, JSON_ID);
  at = sessionId === null ? putAll(target, at, JSON_NULL) : writeDigits(sessionId, target, at);
  return putAll(target, at, JSON_CURSOR);
}

/** Ends the line begun by {@link writeEntryJsonHead} after its cursor, with the `\n`; returns the end. */
export function writeEntryJsonEnd(target: Buffer, at: number): number {
  return putAll(target, at, JSON_END);
}

// Decimal digits of a non-negative integer into `target` at `at`; returns the end.
function writeDigits(value: number | bigint, target: Uint8Array, at: number): number {
  if (typeof value === 'number' && value < 10) {
    target[at] = 0x30 + value;
    return at + 1;
  }
  const text = String(value);
  for (let i = 0; i < text.length; i++) target[at + i] = text.charCodeAt(i);
  return at + text.length;
}
