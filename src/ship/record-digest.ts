/**
 * The digest of a record: what tells two entries apart when their cursors are
 * equal. ext4 hands a deleted file's inode number to the next new file at
 * once, so after a rotation a new entry can end at an old entry's
 * (generation, offset); its bytes still differ. The digest is taken over the
 * record's line exactly as it is on disk, without its `\n`.
 *
 * (Another branch adds the same helper under src/format/; the definitions are
 * identical so that the two can be merged into one.)
 */
import { createHash } from 'node:crypto';

/** Bytes of SHA-256 kept: 96 bits, 16 characters of base64url. */
export const RECORD_DIGEST_BYTES = 12;

/** Unpadded base64url of the first 12 bytes of SHA-256 of `line` (the record line, without `\n`). */
export function recordDigest(line: Uint8Array): string {
  return createHash('sha256').update(line).digest().subarray(0, RECORD_DIGEST_BYTES).toString('base64url');
}
