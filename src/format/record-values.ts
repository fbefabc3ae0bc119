/**
 * Decoding a record's values where the parser found them: bodies (JSON string
 * escapes, `b64`), u64 session ids, and JSON string literals of the general
 * path. No key names here: record.ts says which value is which.
 */
import { isStrictBase64 } from './cursor.js';
import { hasLoneSurrogate } from './json-object.js';

const BACKSLASH = 0x5c;

/** The value of one hex digit's character code, or -1. */
export function hexValue(code: number | undefined): number {
  if (code === undefined) return -1;
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** The UTF-16 unit of the four hex digits at `at` (negative when one is not a hex digit). */
export function hexUnit(bytes: Uint8Array, at: number): number {
  return (
    (hexValue(bytes[at]) << 12) |
    (hexValue(bytes[at + 1]) << 8) |
    (hexValue(bytes[at + 2]) << 4) |
    hexValue(bytes[at + 3])
  );
}

/** Whether a UTF-16 unit is a C0 control, DEL or a C1 control: text a `--grep` literal never holds. */
export function isControlUnit(unit: number): boolean {
  return unit < 0x20 || (unit >= 0x7f && unit <= 0x9f);
}

/**
 * After a high surrogate escape whose second hex digit is `h2` (8–F), ending
 * at `at`: the position after the low surrogate escape that must follow it,
 * or -1 (a lone surrogate, which serde refuses).
 */
export function afterLowSurrogate(bytes: Uint8Array, at: number, h2: number): number {
  if (h2 >= 0xc || bytes[at] !== BACKSLASH || bytes[at + 1] !== 0x75 || hexValue(bytes[at + 2]) !== 0xd) return -1;
  if (hexValue(bytes[at + 3]) < 0xc || (hexValue(bytes[at + 4]) | hexValue(bytes[at + 5])) < 0) return -1;
  return at + 6;
}

/** Decodes a `b64` body; one that is not valid base64 is delivered as its literal text, as the format says. */
export function decodeBase64Body(text: string): Uint8Array {
  return isStrictBase64(text) ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
}

/** Decodes an escaped JSON string body (validated by {@link parseRecord}) to UTF-8 bytes. */
export function decodeEscapedBody(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const out = Buffer.allocUnsafe(end - start);
  let length = 0;
  let at = start;
  while (at < end) {
    const c = bytes[at]!;
    if (c !== BACKSLASH) {
      out[length++] = c;
      at += 1;
      continue;
    }
    const next = bytes[at + 1]!;
    at += 2;
    switch (next) {
      case 0x6e:
        out[length++] = 0x0a;
        break;
      case 0x74:
        out[length++] = 0x09;
        break;
      case 0x72:
        out[length++] = 0x0d;
        break;
      case 0x62:
        out[length++] = 0x08;
        break;
      case 0x66:
        out[length++] = 0x0c;
        break;
      case 0x75: {
        let unit = hexUnit(bytes, at);
        at += 4;
        if (unit >= 0xd800 && unit <= 0xdbff && bytes[at] === BACKSLASH && bytes[at + 1] === 0x75) {
          const low = hexUnit(bytes, at + 2);
          if (low >= 0xdc00 && low <= 0xdfff) {
            unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
            at += 6;
          }
        }
        // A lone surrogate has no UTF-8 form: it becomes U+FFFD, as a lossy decoder would make it.
        if (unit >= 0xd800 && unit <= 0xdfff) unit = 0xfffd;
        length += out.write(String.fromCodePoint(unit), length, 'utf8');
        break;
      }
      default:
        out[length++] = next; // " \ /
    }
  }
  return out.subarray(0, length);
}

/** Ids are u64: beyond 2^53 held exactly as a bigint; beyond 2^64 - 1 undefined (malformed, as to serde). */
export function exactSessionId(bytes: Uint8Array, start: number, digits: number): bigint | number | undefined {
  return sessionIdOf(Buffer.from(bytes.buffer, bytes.byteOffset + start, digits).toString('latin1'));
}

/** A string value's text; undefined when the literal is not a string or holds a lone surrogate. */
export function stringValue(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.charCodeAt(0) !== 0x22) return undefined;
  if (!raw.includes('\\')) return raw.slice(1, -1);
  const text = JSON.parse(raw) as string;
  return hasLoneSurrogate(text) ? undefined : text;
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const INTEGER = /^(?:0|[1-9][0-9]*)$/;

/** A u64 id from its literal digits: a number when safe, else a bigint; undefined when not a u64. */
export function sessionIdOf(literal: string): number | bigint | undefined {
  if (!INTEGER.test(literal)) return undefined;
  if (literal.length < 16) return Number(literal);
  const value = BigInt(literal);
  if (value > U64_MAX) return undefined;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
