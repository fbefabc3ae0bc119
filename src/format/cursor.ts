/**
 * The cursor codec, byte-compatible with microsandbox.
 *
 * A cursor holds, for each file a stream reads (in the order of the log-file
 * table, keeping only files whose sources were requested), the position just
 * after the last entry consumed from it: the file's generation (inode, u64) and
 * a byte offset (u64). Binary form: one count byte, then count × (generation
 * LE, offset LE); the string form is that in standard padded base64. The empty
 * cursor is `AA==`. Position (0, 0) means "from the beginning".
 */
import { InvalidCursorError } from '../errors.js';

/** A place in one log file: the file's generation (inode) and a byte offset just after a line. */
export interface FilePosition {
  readonly generation: bigint;
  readonly offset: number;
}

/** The position of a file not read yet: from its beginning. */
export const START_POSITION: FilePosition = Object.freeze({ generation: 0n, offset: 0 });

const POSITION_BYTES = 16;
/** The most positions a cursor holds (its count is one byte). */
export const MAX_CURSOR_POSITIONS = 255;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Whether `text` is standard padded base64 with nothing else in it (the one
 * check for cursors and `b64` bodies alike; Node's decoder skips what it does
 * not know).
 */
export function isStrictBase64(text: string): boolean {
  return STRICT_BASE64.test(text);
}

/** Encodes positions as a cursor string. */
export function encodeCursor(positions: readonly FilePosition[]): string {
  if (positions.length > MAX_CURSOR_POSITIONS)
    throw new InvalidCursorError(
      `invalid cursor: a cursor holds at most ${MAX_CURSOR_POSITIONS} positions, got ${positions.length}`,
    );
  const bytes = Buffer.allocUnsafe(1 + POSITION_BYTES * positions.length);
  bytes[0] = positions.length;
  let at = 1;
  for (const position of positions) {
    bytes.writeBigUInt64LE(position.generation, at);
    bytes.writeBigUInt64LE(BigInt(position.offset), at + 8);
    at += POSITION_BYTES;
  }
  return bytes.toString('base64');
}

/** Decodes a cursor string, or throws {@link InvalidCursorError} saying what is wrong with it. */
export function decodeCursor(cursor: string): FilePosition[] {
  if (typeof cursor !== 'string')
    throw new InvalidCursorError(`invalid cursor: expected a string, got ${typeof cursor}`);
  if (cursor.length === 0 || !isStrictBase64(cursor)) throw new InvalidCursorError('invalid cursor: not valid base64');
  const bytes = Buffer.from(cursor, 'base64');
  // Node's decoder forgives stray bits in the last character; a cursor we would never have written is not one.
  if (bytes.length === 0 || bytes.toString('base64') !== cursor)
    throw new InvalidCursorError('invalid cursor: not valid base64');
  const count = bytes[0]!;
  const expected = 1 + POSITION_BYTES * count;
  if (bytes.length !== expected) {
    throw new InvalidCursorError(
      `invalid cursor: wrong length (${bytes.length} bytes; a cursor of ${count} position${count === 1 ? '' : 's'} has ${expected})`,
    );
  }
  const positions: FilePosition[] = [];
  for (let at = 1; at < bytes.length; at += POSITION_BYTES) {
    const generation = bytes.readBigUInt64LE(at);
    const offset = bytes.readBigUInt64LE(at + 8);
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new InvalidCursorError(`invalid cursor: offset ${offset} is beyond any log file`);
    }
    if (generation === 0n && offset !== 0n) {
      throw new InvalidCursorError(`invalid cursor: offset ${offset} given for generation 0 (no file)`);
    }
    positions.push({ generation, offset: Number(offset) });
  }
  return positions;
}

/** Characters of the string form of a cursor of `count` positions. */
export function cursorLength(count: number): number {
  return 4 * Math.ceil((1 + POSITION_BYTES * count) / 3);
}

const BASE64_ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');

/**
 * The cursor encoder of the hot path: the same bytes as {@link encodeCursor},
 * for the stream that hands out millions of entries. No Buffer and no BigInt
 * conversion per cursor: the binary form goes into a scratch array, each
 * slot's generation bytes are cached (consecutive cursors mostly share them),
 * and the base64 is written by hand into the caller's buffer.
 *
 * Use: {@link begin} with the count (at most {@link MAX_CURSOR_POSITIONS}),
 * {@link put} every slot, then {@link writeTo} or {@link toString}.
 */
export class CursorEncoder {
  private binary = new Uint8Array(1 + POSITION_BYTES * 3);
  private text = Buffer.allocUnsafe(cursorLength(3));
  private length = 1;
  private readonly slotGenerations: (bigint | undefined)[] = [];
  private readonly slotGenerationBytes: Uint8Array[] = [];

  /** Starts a cursor of `count` positions. */
  begin(count: number): void {
    const length = 1 + POSITION_BYTES * count;
    if (this.binary.length < length) {
      this.binary = new Uint8Array(length);
      this.text = Buffer.allocUnsafe(cursorLength(count));
    }
    this.binary[0] = count;
    this.length = length;
  }

  /** Sets the position of `slot`. */
  put(slot: number, generation: bigint, offset: number): void {
    const at = 1 + POSITION_BYTES * slot;
    let bytes = this.slotGenerationBytes[slot];
    if (bytes === undefined || this.slotGenerations[slot] !== generation) {
      bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setBigUint64(0, generation, true);
      this.slotGenerations[slot] = generation;
      this.slotGenerationBytes[slot] = bytes;
    }
    const b = this.binary;
    b.set(bytes, at);
    const low = offset % 0x1_0000_0000;
    const high = (offset - low) / 0x1_0000_0000;
    b[at + 8] = low & 0xff;
    b[at + 9] = (low >>> 8) & 0xff;
    b[at + 10] = (low >>> 16) & 0xff;
    b[at + 11] = low >>> 24;
    b[at + 12] = high & 0xff;
    b[at + 13] = (high >>> 8) & 0xff;
    b[at + 14] = (high >>> 16) & 0xff;
    b[at + 15] = high >>> 24;
  }

  /** Writes the cursor string (standard padded base64) into `target` at `at`; returns the end. */
  writeTo(target: Uint8Array, at: number): number {
    const alphabet = BASE64_ALPHABET;
    const source = this.binary;
    const length = this.length;
    let i = 0;
    for (; i + 3 <= length; i += 3) {
      const n = (source[i]! << 16) | (source[i + 1]! << 8) | source[i + 2]!;
      target[at++] = alphabet[n >>> 18]!;
      target[at++] = alphabet[(n >>> 12) & 63]!;
      target[at++] = alphabet[(n >>> 6) & 63]!;
      target[at++] = alphabet[n & 63]!;
    }
    const rest = length - i;
    if (rest > 0) {
      const n = (source[i]! << 16) | (rest === 2 ? source[i + 1]! << 8 : 0);
      target[at++] = alphabet[n >>> 18]!;
      target[at++] = alphabet[(n >>> 12) & 63]!;
      target[at++] = rest === 2 ? alphabet[(n >>> 6) & 63]! : 0x3d;
      target[at++] = 0x3d;
    }
    return at;
  }

  /** The cursor string. */
  toString(): string {
    const end = this.writeTo(this.text, 0);
    return this.text.toString('latin1', 0, end);
  }
}
