/**
 * The digest of one record line: a short, stable name for exactly those
 * bytes. sandlog stores it beside a cursor position (a checkpoint) to tell,
 * on resume, whether the file the position names still holds the record the
 * position was taken after — an inode number alone cannot, since a filesystem
 * gives a deleted file's number to the next new file. Anyone who needs a
 * content-derived id for a record (a message id when shipping records
 * elsewhere) should use the same function, so that the ids agree.
 *
 * Definition: SHA-256 of the line's bytes exactly as they are in the file,
 * without the terminating `\n`; the first 12 bytes, in unpadded base64url
 * (16 characters). 96 bits make an accidental match of two different lines
 * negligible (about 2^-96 per comparison).
 */
import type * as Crypto from 'node:crypto';
import { createRequire } from 'node:module';

// node:crypto is loaded on first use: loading it costs ~7 ms, and most reads never take a digest.
let crypto: typeof Crypto | undefined;

/** Bytes of SHA-256 kept in a record digest. */
export const RECORD_DIGEST_BYTES = 12;

/** Characters of a record digest string (base64url of {@link RECORD_DIGEST_BYTES} bytes, no padding). */
export const RECORD_DIGEST_CHARS = 16;

const DIGEST_PATTERN = /^[A-Za-z0-9_-]{16}$/;

/** The digest of one record line (its bytes without the terminating `\n`). */
export function recordDigest(line: Uint8Array): string {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof Crypto;
  return crypto.createHash('sha256').update(line).digest().subarray(0, RECORD_DIGEST_BYTES).toString('base64url');
}

/** Whether `value` has the shape of a record digest. */
export function isRecordDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_PATTERN.test(value);
}
