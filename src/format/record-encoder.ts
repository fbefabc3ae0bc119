/**
 * Encoding exec.log records straight into bytes, for the writer's hot path:
 * {@link encodeRecordInto} writes one record line into a caller's (reused)
 * buffer, with no string, no intermediate buffer and no UTF-8 round trip.
 *
 * The output is byte for byte what
 * `JSON.stringify(body.toString('utf8'))` gives for a valid UTF-8 body: `"`,
 * `\` and the C0 controls are escaped (`\b \t \n \f \r` in their short forms,
 * the others as lowercase `\u00xx`); everything else — DEL, C1 controls,
 * U+2028, any other character — is copied as its UTF-8 bytes (valid UTF-8 holds
 * no surrogates, so JSON.stringify's lone-surrogate escapes never arise). A
 * body that is not valid UTF-8 is written whole as base64 with `e: "b64"`.
 */
import { isUtf8 } from 'node:buffer';
import type { LogSource } from './source.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

// 1 for the bytes JSON.stringify escapes; valid UTF-8 has them only as ASCII characters.
const NEEDS_ESCAPE = new Uint8Array(256);
for (let byte = 0; byte < 0x20; byte++) NEEDS_ESCAPE[byte] = 1;
NEEDS_ESCAPE[QUOTE] = 1;
NEEDS_ESCAPE[BACKSLASH] = 1;

// The letter after `\` of the short escapes, 0 where the long `\u00xx` form is used.
const SHORT_ESCAPE = new Uint8Array(256);
SHORT_ESCAPE[0x08] = 0x62; // b
SHORT_ESCAPE[0x09] = 0x74; // t
SHORT_ESCAPE[0x0a] = 0x6e; // n
SHORT_ESCAPE[0x0c] = 0x66; // f
SHORT_ESCAPE[0x0d] = 0x72; // r
SHORT_ESCAPE[QUOTE] = QUOTE;
SHORT_ESCAPE[BACKSLASH] = BACKSLASH;

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

// Below this a body is copied byte by byte: setting up the word view costs more than it saves.
const WORD_SCAN_MIN_BYTES = 64;

// The record's head `{"t":"…","s":"…","d":"` changes once a millisecond: kept, with the time and source it spells.
let headTime = '';
let headSource = '';
let head: Buffer = Buffer.alloc(0);

function headOf(timeText: string, source: LogSource): Buffer {
  if (timeText !== headTime || source !== headSource) {
    head = Buffer.from(`{"t":"${timeText}","s":"${source}","d":"`, 'utf8');
    headTime = timeText;
    headSource = source;
  }
  return head;
}

const TAIL_B64 = Buffer.from(',"e":"b64"', 'latin1');

/**
 * The most bytes {@link encodeRecordInto} can write for a body of
 * `bodyLength` bytes (every byte escaped as `\u00xx`), with `timeText` and
 * `sessionId`.
 */
export function maxEncodedRecordBytes(
  timeText: string,
  bodyLength: number,
  sessionId?: number | bigint | null,
): number {
  const idLength = sessionId === undefined || sessionId === null ? 0 : String(sessionId).length;
  // `{"t":"` `","s":"` source (≤ 6) `","d":"` … `"` `,"id":` id `,"e":"b64"` `}\n`
  return 6 + Buffer.byteLength(timeText, 'utf8') + 7 + 6 + 7 + 6 * bodyLength + 1 + 6 + idLength + 10 + 2;
}

// One DataView per output buffer, for the unaligned 4-byte stores of the word loop.
let viewBuffer: Uint8Array | undefined;
let view: DataView = new DataView(new ArrayBuffer(0));

function viewOf(out: Uint8Array): DataView {
  if (out !== viewBuffer) {
    view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    viewBuffer = out;
  }
  return view;
}

function writeEscape(byte: number, out: Uint8Array, at: number): number {
  out[at] = BACKSLASH;
  const letter = SHORT_ESCAPE[byte]!;
  if (letter !== 0) {
    out[at + 1] = letter;
    return at + 2;
  }
  out[at + 1] = 0x75; // u
  out[at + 2] = 0x30;
  out[at + 3] = 0x30;
  out[at + 4] = HEX_DIGITS[byte >> 4]!;
  out[at + 5] = HEX_DIGITS[byte & 15]!;
  return at + 6;
}

function copyBytesEscaped(body: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  for (let i = from; i < to; i++) {
    const byte = body[i]!;
    if (NEEDS_ESCAPE[byte] === 0) out[at++] = byte;
    else at = writeEscape(byte, out, at);
  }
  return at;
}

/**
 * Writes the JSON string body of `body` (valid UTF-8, without the quotes) at
 * `out[at]`; returns the offset after it. `out` must have room for
 * `6 × body.length` bytes.
 */
export function writeJsonStringBody(body: Uint8Array, out: Uint8Array, at: number): number {
  const length = body.length;
  if (length < WORD_SCAN_MIN_BYTES) return copyBytesEscaped(body, 0, length, out, at);
  const base = body.byteOffset;
  // Bytes up to the first 4-byte boundary of the underlying memory, then whole words, then the rest.
  const lead = (4 - (base & 3)) & 3;
  at = copyBytesEscaped(body, 0, lead, out, at);
  const words = new Int32Array(body.buffer, base + lead, (length - lead) >> 2);
  const wordCount = words.length;
  const target = viewOf(out);
  for (let word = 0; word < wordCount; word++) {
    const w = words[word]!;
    const quote = w ^ 0x22222222;
    const backslash = w ^ 0x5c5c5c5c;
    // A byte below 0x20, a quote or a backslash somewhere in the word (never missed; rarely a false alarm).
    if (
      (((w - 0x20202020) & ~w) | ((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash)) &
      0x80808080
    ) {
      const first = lead + (word << 2);
      at = copyBytesEscaped(body, first, first + 4, out, at);
    } else {
      target.setInt32(at, w, true);
      at += 4;
    }
  }
  return copyBytesEscaped(body, lead + (wordCount << 2), length, out, at);
}

function writeAscii(text: string, out: Uint8Array, at: number): number {
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

/**
 * Encodes one exec.log record line (with its `\n`) into `out` at `at` and
 * returns the offset after it. `out` must have room for
 * {@link maxEncodedRecordBytes} bytes. Valid UTF-8 bodies are written as
 * text, anything else as base64 with `e: "b64"`; `sessionId` undefined or
 * null leaves out `id` (system markers).
 */
export function encodeRecordInto(
  out: Buffer,
  at: number,
  timeText: string,
  source: LogSource,
  body: Uint8Array,
  sessionId?: number | bigint | null,
): number {
  const recordHead = headOf(timeText, source);
  recordHead.copy(out, at);
  at += recordHead.length;
  const text = isUtf8(body);
  if (text) {
    at = writeJsonStringBody(body, out, at);
  } else {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    at += out.write(bytes.toString('base64'), at, 'latin1');
  }
  out[at++] = QUOTE;
  if (sessionId !== undefined && sessionId !== null) at = writeAscii(`,"id":${sessionId}`, out, at);
  if (!text) at += TAIL_B64.copy(out, at);
  out[at++] = 0x7d; // }
  out[at++] = 0x0a;
  return at;
}

/** Encodes one exec.log record line (with its `\n`) into a buffer of its own; see {@link encodeRecordInto}. */
export function encodeRecord(
  timeText: string,
  source: LogSource,
  body: Uint8Array,
  sessionId?: number | bigint | null,
): Buffer {
  const scratch = Buffer.allocUnsafe(maxEncodedRecordBytes(timeText, body.length, sessionId));
  const end = encodeRecordInto(scratch, 0, timeText, source, body, sessionId);
  return Buffer.from(scratch.subarray(0, end));
}
