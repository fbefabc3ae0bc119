/**
 * Taking and checking checkpoints (see src/format/checkpoint.ts): the digest
 * of the last line before each position of a cursor, read from the file the
 * position names, and, on resume, the proof that the file carrying that
 * inode number now is still the one the checkpoint was taken in.
 *
 * Contracts:
 * - Taking: a position with no line before it gets a null digest; so does a
 *   position whose file cannot be found any more (a follower may still be
 *   reading a file that has left the chain): such a place is already lost,
 *   and resuming from it fails even if a newer file has its number by then.
 * - Resuming, exec.log: a position whose file has left the rotation chain,
 *   or whose file no longer ends a line with that digest there (its inode
 *   number was given to a newer file), fails with {@link MissedRotationError}
 *   before the first entry: never a resume at a place that only looks right.
 * - Resuming, runtime.log / kernel.log: those are not rotated; a file that
 *   replaced the checkpoint's one under the same inode number is read from
 *   its beginning, as a replacement under another number already is.
 * - A reader that holds a file open holds its inode number: checked once
 *   more after the stream has opened its files, a digest that matches can no
 *   longer be about another file.
 */
import { MissedRotationError } from '../errors.js';
import { RotationChain } from '../files/chain.js';
import type { LogFileSpec } from '../files/layout.js';
import { openLogFile, type OpenLogFile } from '../files/log-file.js';
import type { CheckedCheckpoint } from '../format/checkpoint.js';
import { START_POSITION, type FilePosition } from '../format/cursor.js';
import { recordDigest } from '../format/record-digest.js';
import { isLineBoundary } from './line-reader.js';

// Rotations can move a file between the scan that finds it and the open; looked up again this many times.
const MAX_OPEN_ATTEMPTS = 4;

/** Opens the file of `spec` whose generation is `generation`, or returns undefined when none is. */
async function openGeneration(logDir: string, spec: LogFileSpec, generation: bigint): Promise<OpenLogFile | undefined> {
  const chain = new RotationChain(logDir, spec.fileName);
  for (let attempt = 0; attempt < MAX_OPEN_ATTEMPTS; attempt++) {
    const members = spec.rotates ? await chain.scan() : [{ index: 0, generation }];
    const member = members.find((candidate) => candidate.generation === generation);
    if (member === undefined) return undefined;
    const file = await openLogFile(chain.path(member.index));
    if (file?.generation === generation) return file;
    await file?.handle.close().catch(() => undefined);
    if (!spec.rotates) return undefined;
  }
  return undefined;
}

// First read back from a position: a record line usually fits, and a checkpoint is taken per batch written out.
const FIRST_READ_BYTES = 4096;

/**
 * Digest of the last non-empty line of `file` before `offset`: null when
 * there is none, undefined when `offset` is not a line boundary of the file.
 */
async function digestBefore(file: OpenLogFile, offset: number): Promise<string | null | undefined> {
  if (offset === 0) return null;
  const size = Number((await file.handle.stat({ bigint: true })).size);
  if (offset > size || !(await isLineBoundary(file, offset))) return undefined;
  // Blank lines are skipped by readers, and so here: read back until a line with bytes in it is whole.
  for (let bytes = FIRST_READ_BYTES; ; bytes *= 2) {
    const start = Math.max(0, offset - bytes);
    const buffer = Buffer.allocUnsafe(offset - start);
    const { bytesRead } = await file.handle.read(buffer, 0, buffer.length, start);
    if (bytesRead < buffer.length) return undefined; // shrank under us
    let end = buffer.length - 1; // the `\n` ending the line looked at
    while (end > 0 && buffer[end - 1] === 0x0a) end -= 1;
    if (end === 0 && start === 0) return null;
    const newline = end > 0 ? buffer.lastIndexOf(0x0a, end - 1) : -1;
    if (newline >= 0 || start === 0) return recordDigest(buffer.subarray(newline + 1, end));
  }
}

/** Digest at one position, or null when its file is gone or nothing precedes it. */
async function digestAt(logDir: string, spec: LogFileSpec, position: FilePosition): Promise<string | null> {
  if (position.generation === 0n || position.offset === 0) return null;
  const file = await openGeneration(logDir, spec, position.generation);
  if (file === undefined) return null;
  try {
    return (await digestBefore(file, position.offset)) ?? null;
  } finally {
    await file.handle.close().catch(() => undefined);
  }
}

/** The digests of a checkpoint for `positions` (one per file of `specs`, in the same order). */
export async function digestPositions(
  logDir: string,
  specs: readonly LogFileSpec[],
  positions: readonly FilePosition[],
): Promise<(string | null)[]> {
  return Promise.all(positions.map((position, i) => digestAt(logDir, specs[i]!, position)));
}

/** What checking a checkpoint found for one position. */
type Finding = 'same' | 'gone' | 'other';

async function check(
  logDir: string,
  spec: LogFileSpec,
  position: FilePosition,
  digest: string | null,
): Promise<Finding> {
  const file = await openGeneration(logDir, spec, position.generation);
  if (file === undefined) return 'gone';
  try {
    const found = await digestBefore(file, position.offset);
    return found !== undefined && found === digest ? 'same' : 'other';
  } finally {
    await file.handle.close().catch(() => undefined);
  }
}

/**
 * Checks a checkpoint against the files; returns the positions to start
 * from (a replaced text log's position becomes its beginning). Throws
 * {@link MissedRotationError} for an exec.log position that is gone or names
 * another file now. `opened`: the stream already holds the files (then only
 * exec.log is looked at again, and text logs are left as they were taken).
 */
export async function verifyCheckpoint(
  logDir: string,
  specs: readonly LogFileSpec[],
  checkpoint: CheckedCheckpoint,
  opened: boolean,
): Promise<FilePosition[]> {
  const positions = [...checkpoint.positions];
  for (const [i, spec] of specs.entries()) {
    const position = positions[i];
    const digest = checkpoint.digests[i];
    // Positions at the start of a file (of no file) stand for "from the beginning": nothing to check.
    if (position === undefined || digest === undefined || position.generation === 0n || position.offset === 0) continue;
    if (opened && !spec.rotates) continue;
    const finding = await check(logDir, spec, position, digest);
    if (finding === 'same') continue;
    if (!spec.rotates) {
      // Gone: the reader starts the file under the name from its beginning by itself. Another file under the
      // same number: make it do the same.
      if (finding === 'other') positions[i] = START_POSITION;
      continue;
    }
    throw new MissedRotationError(
      spec.fileName,
      position.generation,
      position.offset,
      finding === 'gone'
        ? 'since this checkpoint was taken (its file has left the rotation chain)'
        : 'since this checkpoint was taken (a newer file has its inode number now)',
    );
  }
  return positions;
}
