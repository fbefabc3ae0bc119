/**
 * Checkpoints: a place to resume later that can tell whether it is still
 * there. A checkpoint is a microsandbox cursor plus, for each of its
 * positions, the {@link recordDigest} of the last non-empty line before that
 * position in its file. The cursor alone names a file by inode number, and a
 * filesystem gives a deleted file's number to the next new file at once
 * (ext4 does): a cursor kept past retention can name a newer file, where
 * resuming would silently skip that file's start. The digests make such a
 * resume fail instead (see src/engine/checkpoint.ts).
 *
 * The cursor string stays microsandbox's; the digests are sandlog's and live
 * beside it, never inside it.
 */
import { InvalidCursorError, describeValue } from '../errors.js';
import { decodeCursor, type FilePosition } from './cursor.js';
import { isRecordDigest } from './record-digest.js';

/** A cursor and the digest of the line each of its positions ends after (null: nothing to check there). */
export interface Checkpoint {
  /** The microsandbox cursor string. */
  readonly cursor: string;
  /**
   * One per cursor position, in the same order: a record digest, or null when
   * the position has no line before it — or its file had already left the
   * rotation chain when the checkpoint was taken (such a place cannot be
   * resumed). Positions at offset 0 are not checked.
   */
  readonly digests: readonly (string | null)[];
}

/** A checkpoint taken apart and checked. */
export interface CheckedCheckpoint {
  readonly positions: FilePosition[];
  readonly digests: readonly (string | null)[];
}

/**
 * Checks a checkpoint's shape and decodes its cursor; a value that is not one
 * is an {@link InvalidCursorError} saying what is wrong with it.
 */
export function checkCheckpoint(value: unknown): CheckedCheckpoint {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidCursorError(
      `invalid checkpoint: expected an object with \`cursor\` and \`digests\`, got ${describeValue(value)}`,
    );
  }
  const { cursor, digests } = value as { cursor?: unknown; digests?: unknown };
  if (typeof cursor !== 'string')
    throw new InvalidCursorError(
      `invalid checkpoint: expected \`cursor\` to be a string, got ${describeValue(cursor)}`,
    );
  const positions = decodeCursor(cursor);
  if (!Array.isArray(digests))
    throw new InvalidCursorError(
      `invalid checkpoint: expected \`digests\` to be an array, got ${describeValue(digests)}`,
    );
  if (digests.length !== positions.length) {
    throw new InvalidCursorError(
      `invalid checkpoint: ${digests.length} digest(s) for a cursor of ${positions.length} position(s)`,
    );
  }
  for (const digest of digests) {
    if (digest !== null && !isRecordDigest(digest)) {
      throw new InvalidCursorError(
        `invalid checkpoint: expected each digest to be a record digest or null, got ${describeValue(digest)}`,
      );
    }
  }
  return { positions, digests: Object.freeze([...(digests as (string | null)[])]) };
}
