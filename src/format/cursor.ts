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
const MAX_POSITIONS = 255;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Encodes positions as a cursor string. */
export function encodeCursor(positions: readonly FilePosition[]): string {
  if (positions.length > MAX_POSITIONS)
    throw new InvalidCursorError(
      `invalid cursor: a cursor holds at most ${MAX_POSITIONS} positions, got ${positions.length}`,
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
  if (cursor.length === 0 || !BASE64.test(cursor)) throw new InvalidCursorError('invalid cursor: not valid base64');
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
