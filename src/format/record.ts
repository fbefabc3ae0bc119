/**
 * The exec.log record codec: parsing one JSON Lines record and encoding one
 * for the writer (record-encoder.ts, re-exported here). With json-line.ts
 * (the `--json` output line, which uses the same keys) the one module that
 * knows the short on-disk keys (`t`, `s`, `d`, `id`, `e`).
 *
 * Parsing is the whole cost of reading a log, so the common shape —
 * `{"t":"…","s":"…","d":"…"[,"id":N][,"e":"b64"]}`, the key order both
 * microsandbox and sandlog write — is matched byte by byte: the source is
 * checked before the body is looked at, the body is validated in one pass and
 * left in the read buffer to be decoded only when asked for. Anything else
 * falls back to `JSON.parse` with the same acceptance rules as microsandbox's
 * serde reader: `t` and `s` strings, `d` a string (default empty), `id` a
 * non-negative integer or null, `e` a string or null; unknown keys ignored.
 */
import { isUtf8 } from 'node:buffer';
import {
  afterLowSurrogate,
  decodeBase64Body,
  exactSessionId,
  hexValue,
  isControlUnit,
  sessionIdOf,
  stringValue,
} from './record-values.js';
import { RecordParser } from './record-parser.js';
import { readRecordObject } from './json-object.js';
import { SOURCE_BITS, type LogSource } from './source.js';
import { parseTimestamp } from './time.js';

/** How a record's body is held. */
export const enum BodyKind {
  /** The bytes between the quotes are the body (no escapes). */
  Raw = 0,
  /** The bytes between the quotes are a valid JSON string body with escapes. */
  Escaped = 1,
  /** The bytes between the quotes are base64 (`e: "b64"`). */
  Base64 = 2,
  /** The body was decoded already (slow path). */
  Decoded = 3,
  /**
   * A text-log line: its body and time text are parsed again from the line's
   * bytes when asked for, so that a text log held whole for sorting holds only
   * its lines.
   */
  TextLine = 4,
}

/** Outcome of {@link parseRecord}. */
export const enum ParseOutcome {
  Ok = 0,
  /** A well-formed start whose source is not wanted, or whose time is before the lower bound. */
  Filtered = 1,
  /** Not a record: skipped, and counted. */
  Malformed = 2,
}

/** Fields of one parsed record. Reused between calls: copy what you keep. */
export interface RecordFields {
  time: number;
  /** `t` exactly as written: bytes [timeStart, timeEnd) of the buffer, or `timeText` on the slow path. */
  timeStart: number;
  timeEnd: number;
  timeText: string | undefined;
  source: LogSource;
  /** The record's `id`: a number when it is a safe integer, a bigint above 2^53 (ids are u64). */
  sessionId: number | bigint | null;
  bodyKind: BodyKind;
  bodyStart: number;
  bodyEnd: number;
  /** Set when `bodyKind` is {@link BodyKind.Decoded}. */
  decoded: Uint8Array | undefined;
  /**
   * True when the body's JSON cannot be copied to output as it is: it has
   * `\uD800`-style surrogate escapes that UTF-8 cannot carry, or raw DEL or C1
   * controls (U+007F–U+009F) that output escapes.
   */
  needsReencoding: boolean;
  /**
   * True when the body has a `\u` escape of a character other than a
   * control (C0, DEL, C1): one that could spell text a `--grep` literal
   * looks for. Only meaningful for {@link BodyKind.Escaped}.
   */
  spellingEscapes: boolean;
}

export function createRecordFields(): RecordFields {
  return {
    time: 0,
    timeStart: 0,
    timeEnd: 0,
    timeText: undefined,
    source: 'stdout',
    sessionId: null,
    bodyKind: BodyKind.Raw,
    bodyStart: 0,
    bodyEnd: 0,
    decoded: undefined,
    needsReencoding: false,
    spellingEscapes: false,
  };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;

// `{"t":"`, `","s":"`, `","d":"`, `,"id":`, `,"e":"b64"`
const PREFIX_T = Buffer.from('{"t":"');
const MIDDLE_S = Buffer.from('","s":"');
const MIDDLE_D = Buffer.from('","d":"');
const KEY_ID = Buffer.from(',"id":');
const KEY_E_B64 = Buffer.from(',"e":"b64"');

function matchesAt(bytes: Uint8Array, at: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

// The fixed parts of the common shape, spelled out: these run for every record.
function isPrefixT(b: Uint8Array, at: number): boolean {
  return (
    b[at] === 0x7b &&
    b[at + 1] === 0x22 &&
    b[at + 2] === 0x74 &&
    b[at + 3] === 0x22 &&
    b[at + 4] === 0x3a &&
    b[at + 5] === 0x22
  );
}
// `","X":"` with X the key's one letter.
function isMiddle(b: Uint8Array, at: number, key: number): boolean {
  return (
    b[at] === 0x22 &&
    b[at + 1] === 0x2c &&
    b[at + 2] === 0x22 &&
    b[at + 3] === key &&
    b[at + 4] === 0x22 &&
    b[at + 5] === 0x3a &&
    b[at + 6] === 0x22
  );
}

// The source name starting at `at` and ended by a quote, or undefined.
function sourceAt(bytes: Uint8Array, at: number): LogSource | undefined {
  const c0 = bytes[at];
  if (c0 === 0x73 /* s */) {
    if (bytes[at + 6] !== QUOTE) return undefined;
    if (bytes[at + 1] === 0x74 && bytes[at + 2] === 0x64) {
      // std…
      if (bytes[at + 3] === 0x6f && bytes[at + 4] === 0x75 && bytes[at + 5] === 0x74) return 'stdout';
      if (bytes[at + 3] === 0x65 && bytes[at + 4] === 0x72 && bytes[at + 5] === 0x72) return 'stderr';
      return undefined;
    }
    if (
      bytes[at + 1] === 0x79 &&
      bytes[at + 2] === 0x73 &&
      bytes[at + 3] === 0x74 &&
      bytes[at + 4] === 0x65 &&
      bytes[at + 5] === 0x6d
    ) {
      return 'system';
    }
    return undefined;
  }
  if (
    c0 === 0x6f &&
    bytes[at + 1] === 0x75 &&
    bytes[at + 2] === 0x74 &&
    bytes[at + 3] === 0x70 &&
    bytes[at + 4] === 0x75 &&
    bytes[at + 5] === 0x74 &&
    bytes[at + 6] === QUOTE
  ) {
    return 'output';
  }
  return undefined;
}

// The one parser state: parsing is synchronous, so every caller can share it.
const parser = new RecordParser();

/**
 * Parses the record in `bytes[start, end)` (one line, without its `\n`) into
 * `out`. Records whose source bit is not in `sourceMask`, or whose time is
 * before `minTime`, come back {@link ParseOutcome.Filtered} without their body
 * being examined.
 */
export function parseRecord(
  bytes: Uint8Array,
  start: number,
  end: number,
  sourceMask: number,
  minTime: number,
  out: RecordFields,
): ParseOutcome {
  // Tolerate CRLF line ends and trailing blanks, as JSON.parse would.
  while (end > start && (bytes[end - 1] === 0x0d || bytes[end - 1] === 0x20)) end -= 1;
  if (end - start < 30 || !isPrefixT(bytes, start)) {
    return parseRecordSlowly(bytes, start, end, sourceMask, minTime, out);
  }
  const timeStart = start + PREFIX_T.length;
  // The time writers emit is 24 bytes: checked whole at once, it needs no scan for its closing quote.
  let timeEnd = timeStart + 24;
  let time = bytes[timeEnd] === QUOTE ? parser.exactTime(bytes, timeStart) : undefined;
  if (time === undefined || Number.isNaN(time)) {
    // No exact time (or no real minute: parser.time below says so again, once the record's shape is known).
    time = undefined;
    timeEnd = timeStart;
    while (timeEnd < end && bytes[timeEnd] !== QUOTE && bytes[timeEnd] !== BACKSLASH) timeEnd += 1;
  }
  if (bytes[timeEnd] !== QUOTE || !isMiddle(bytes, timeEnd, 0x73 /* s */)) {
    return parseRecordSlowly(bytes, start, end, sourceMask, minTime, out);
  }
  const sourceStart = timeEnd + MIDDLE_S.length;
  const source = sourceAt(bytes, sourceStart);
  if (source === undefined) return parseRecordSlowly(bytes, start, end, sourceMask, minTime, out);
  const sourceEnd = sourceStart + source.length;
  if (!isMiddle(bytes, sourceEnd, 0x64 /* d */)) return parseRecordSlowly(bytes, start, end, sourceMask, minTime, out);
  if ((SOURCE_BITS[source] & sourceMask) === 0) return ParseOutcome.Filtered;
  time ??= parser.time(bytes, timeStart, timeEnd);
  if (time === undefined) return ParseOutcome.Malformed;
  if (time < minTime) return ParseOutcome.Filtered;

  // The body: one pass that finds the closing quote and validates escapes and control characters.
  const bodyStart = sourceEnd + MIDDLE_D.length;
  let at = bodyStart;
  let high = 0;
  let escaped = false;
  let needsReencoding = false;
  let spellingEscapes = false;
  const base = bytes.byteOffset;
  const words = parser.wordsOf(bytes);
  const wordsEnd = (base + end) >> 2;
  for (;;) {
    // Four bytes at a time while none is a quote, a backslash or a control character (the common case).
    if (((base + at) & 3) === 0) {
      let word = (base + at) >> 2;
      while (word < wordsEnd) {
        const w = words[word]!;
        const quote = w ^ 0x22222222;
        const backslash = w ^ 0x5c5c5c5c;
        const del = w ^ 0x7f7f7f7f;
        if (
          (((w - 0x20202020) & ~w) |
            ((quote - 0x01010101) & ~quote) |
            ((backslash - 0x01010101) & ~backslash) |
            ((del - 0x01010101) & ~del)) &
          0x80808080
        )
          break;
        high |= w;
        word += 1;
      }
      at = (word << 2) - base;
    }
    if (at >= end) return ParseOutcome.Malformed;
    const c = bytes[at]!;
    if (c === QUOTE) break;
    if (c === BACKSLASH) {
      escaped = true;
      const next = bytes[at + 1];
      if (next === 0x75 /* u */) {
        const h1 = hexValue(bytes[at + 2]);
        const h2 = hexValue(bytes[at + 3]);
        const h3 = hexValue(bytes[at + 4]);
        const h4 = hexValue(bytes[at + 5]);
        if ((h1 | h2 | h3 | h4) < 0) return ParseOutcome.Malformed;
        const unit = (h1 << 12) | (h2 << 8) | (h3 << 4) | h4;
        if (!isControlUnit(unit)) spellingEscapes = true;
        at += 6;
        if (h1 === 0xd && h2 >= 8) {
          at = afterLowSurrogate(bytes, at, h2);
          if (at < 0) return ParseOutcome.Malformed;
          needsReencoding = true;
        }
        continue;
      }
      if (
        next === QUOTE ||
        next === BACKSLASH ||
        next === 0x2f ||
        next === 0x62 ||
        next === 0x66 ||
        next === 0x6e ||
        next === 0x72 ||
        next === 0x74
      ) {
        at += 2;
        continue;
      }
      return ParseOutcome.Malformed;
    }
    if (c < 0x20) return ParseOutcome.Malformed;
    if (c === 0x7f) needsReencoding = true;
    high |= c;
    at += 1;
  }
  const bodyEnd = at;
  if ((high & 0x80808080) !== 0) {
    const body = bytes.subarray(bodyStart, bodyEnd);
    if (!isUtf8(body)) return ParseOutcome.Malformed;
    // C1 controls (U+0080–U+009F) are C2 80 … C2 9F in UTF-8.
    for (let c2 = body.indexOf(0xc2); c2 >= 0 && !needsReencoding; c2 = body.indexOf(0xc2, c2 + 1)) {
      if (body[c2 + 1]! <= 0x9f) needsReencoding = true;
    }
  }

  // What may follow the body: `}`, `,"id":N`, `,"e":"b64"`, in that order.
  at = bodyEnd + 1;
  let sessionId: number | bigint | null | undefined = null;
  let base64 = false;
  if (bytes[at] === COMMA && matchesAt(bytes, at, KEY_ID)) {
    at += KEY_ID.length;
    const digitsStart = at;
    let value = 0;
    while (at < end && bytes[at]! >= 0x30 && bytes[at]! <= 0x39) {
      value = value * 10 + (bytes[at]! - 0x30);
      at += 1;
    }
    const digits = at - digitsStart;
    if (digits === 0 || (digits > 1 && bytes[digitsStart] === 0x30)) {
      return parseRecordSlowly(bytes, start, end, sourceMask, minTime, out);
    }
    sessionId = Number.isSafeInteger(value) ? value : exactSessionId(bytes, digitsStart, digits);
    if (sessionId === undefined) return ParseOutcome.Malformed;
  }
  if (bytes[at] === COMMA) {
    if (!matchesAt(bytes, at, KEY_E_B64)) return parseRecordSlowly(bytes, start, end, sourceMask, minTime, out);
    at += KEY_E_B64.length;
    base64 = true;
    // A base64 body is decoded straight from the buffer: one written with escapes (`\/`) goes the general way.
    if (escaped) return parseRecordSlowly(bytes, start, end, sourceMask, minTime, out);
  }
  if (at !== end - 1 || bytes[at] !== CLOSE_BRACE)
    return parseRecordSlowly(bytes, start, end, sourceMask, minTime, out);

  out.time = time;
  out.timeStart = timeStart;
  out.timeEnd = timeEnd;
  out.timeText = undefined;
  out.source = source;
  out.sessionId = sessionId;
  out.bodyKind = base64 ? BodyKind.Base64 : escaped ? BodyKind.Escaped : BodyKind.Raw;
  out.bodyStart = bodyStart;
  out.bodyEnd = bodyEnd;
  out.decoded = undefined;
  out.needsReencoding = needsReencoding;
  out.spellingEscapes = spellingEscapes;
  return ParseOutcome.Ok;
}

// Kept out of parseRecord, which stays small enough to be optimised whole: the rare cases.

/** The general path: any valid JSON object with the record's keys, in any order, with any spacing. */
function parseRecordSlowly(
  bytes: Uint8Array,
  start: number,
  end: number,
  sourceMask: number,
  minTime: number,
  out: RecordFields,
): ParseOutcome {
  const line = bytes.subarray(start, end);
  // A lossy decode would accept broken UTF-8; serde (and so microsandbox) does not.
  if (!isUtf8(line)) return ParseOutcome.Malformed;
  const values = readRecordObject(Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8'));
  if (values === undefined) return ParseOutcome.Malformed;
  const t = stringValue(values.get('t'));
  const s = stringValue(values.get('s'));
  if (typeof t !== 'string' || typeof s !== 'string') return ParseOutcome.Malformed;
  const rawBody = values.get('d');
  const d = rawBody === undefined ? '' : stringValue(rawBody);
  if (typeof d !== 'string') return ParseOutcome.Malformed;
  const rawEncoding = values.get('e');
  const e = rawEncoding === undefined || rawEncoding === 'null' ? null : stringValue(rawEncoding);
  if (e === undefined) return ParseOutcome.Malformed;
  let sessionId: number | bigint | null = null;
  const rawId = values.get('id');
  if (rawId !== undefined && rawId !== 'null') {
    const id = sessionIdOf(rawId);
    if (id === undefined) return ParseOutcome.Malformed;
    sessionId = id;
  }
  if (s !== 'stdout' && s !== 'stderr' && s !== 'output' && s !== 'system') return ParseOutcome.Malformed;
  if ((SOURCE_BITS[s] & sourceMask) === 0) return ParseOutcome.Filtered;
  const time = parseTimestamp(t);
  if (time === undefined) return ParseOutcome.Malformed;
  if (time < minTime) return ParseOutcome.Filtered;
  out.time = time;
  out.timeStart = 0;
  out.timeEnd = 0;
  out.timeText = t;
  out.source = s;
  out.sessionId = sessionId;
  out.bodyKind = BodyKind.Decoded;
  out.bodyStart = 0;
  out.bodyEnd = 0;
  // An unknown `e` is no encoding: the body is its text, as microsandbox reads it.
  out.decoded = e === 'b64' ? decodeBase64Body(d) : Buffer.from(d, 'utf8');
  out.needsReencoding = false;
  out.spellingEscapes = false;
  return ParseOutcome.Ok;
}

// Encoding lives in record-encoder.ts (bytes straight into the writer's buffer); re-exported for callers of this module.
export { encodeRecord, encodeRecordInto, maxEncodedRecordBytes } from './record-encoder.js';
