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
import { copyBytes } from './bytes.js';
import { writeJsonStringBody } from './record-encoder.js';
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
  at = writeUpToBody(target, at, buffer, timeStart, timeEnd, source);
  at = copyBytes(target, at, buffer, bodyStart - 1, bodyEnd + 1);
  return writeIdToCursor(target, at, sessionId);
}

// `{"t":"…","s":"…","d":` with the time `time[timeStart, timeEnd)`; returns the end.
function writeUpToBody(
  target: Buffer,
  at: number,
  time: Uint8Array,
  timeStart: number,
  timeEnd: number,
  source: LogSource,
): number {
  at = putAll(target, at, JSON_T);
  at = copyBytes(target, at, time, timeStart, timeEnd);
  at = putAll(target, at, JSON_S);
  at = putAll(target, at, SOURCE_BYTES[source]);
  return putAll(target, at, JSON_D);
}

// `,"id":…,"e":null,"cursor":"` after the body; returns the end.
function writeIdToCursor(target: Buffer, at: number, sessionId: number | bigint | null): number {
  at = putAll(target, at, JSON_ID);
  at = sessionId === null ? putAll(target, at, JSON_NULL) : writeDigits(sessionId, target, at);
  return putAll(target, at, JSON_CURSOR);
}

/** Whether `bytes` (UTF-8) hold DEL or a C1 control (C2 80 … C2 9F), which {@link bodyJsonString} escapes. */
function hasTerminalControl(bytes: Buffer): boolean {
  if (bytes.indexOf(0x7f) >= 0) return true;
  for (let at = bytes.indexOf(0xc2); at >= 0; at = bytes.indexOf(0xc2, at + 1)) {
    if (bytes[at + 1]! <= 0x9f) return true;
  }
  return false;
}

/**
 * Writes the text `bytes[start, end)` followed by a newline as the quoted JSON
 * string {@link bodyJsonString} makes of it (quotes included), escaping here
 * (the record encoder's escaper: what JSON.stringify escapes). Returns the
 * end, or -1 when the text is not valid UTF-8 or holds DEL or a C1 control
 * (rare in a text log: the string path makes those). Needs room for 6 bytes
 * per byte of text, plus 4.
 */
export function writeTextAsJsonString(
  target: Uint8Array,
  at: number,
  bytes: Buffer,
  start: number,
  end: number,
): number {
  const text = bytes.subarray(start, end);
  if (!isUtf8(text) || hasTerminalControl(text)) return -1;
  target[at++] = 0x22;
  at = writeJsonStringBody(text, target, at);
  target[at++] = 0x5c;
  target[at++] = 0x6e;
  target[at++] = 0x22;
  return at;
}

// A time string's bytes (the printed form is at most 27 characters).
const TIME_SCRATCH = Buffer.alloc(64);

/**
 * Writes a `--json` line up to its cursor's value like {@link writeEntryJsonHead},
 * for an entry whose time is the string `time` (the printed form, ASCII) and
 * whose body is the raw text `bytes[bodyStart, bodyEnd)` plus a newline (a
 * text-log line's body), escaped by {@link writeTextAsJsonString}. Returns the
 * end, or -1 when {@link writeTextAsJsonString} leaves the text to the string path. Room: {@link entryJsonBound}
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
  const timeLength = TIME_SCRATCH.write(time, 0, 'latin1');
  at = writeUpToBody(target, at, TIME_SCRATCH, 0, timeLength, source);
  at = writeTextAsJsonString(target, at, bytes, bodyStart, bodyEnd);
  return at < 0 ? -1 : writeIdToCursor(target, at, sessionId);
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
