/**
 * A sandbox's checkpoint: where its shipping resumes, stored in the KV
 * bucket after the broker acknowledged the entry it points after.
 *
 * Value (JSON): `cursor` and `digest` of the last acknowledged entry, and per
 * log file the position to resume at and the last acknowledged entry read
 * from that file (`last`: where its line ends and its digest). Before
 * resuming, each `last` is checked against the file that now carries its
 * generation: if the line ending there has another digest (or no file has
 * the generation any more) the file left retention and its inode number may
 * have been reused, so that file is read again from the start of retained
 * history and the gap is reported — never resumed at a stranger's offset.
 */
import { describeValue, SandlogError } from '../errors.js';
import { RotationChain } from '../files/chain.js';
import { LOG_FILES, type LogFileSpec } from '../files/layout.js';
import { openLogFile } from '../files/log-file.js';
import { START_POSITION, type FilePosition } from '../format/cursor.js';
import { linesBackward } from '../engine/backward.js';
import { recordDigest } from '../format/record-digest.js';

/** The last acknowledged entry of one file. */
export interface LastEntry {
  readonly generation: bigint;
  /** Offset just after its line. */
  readonly offset: number;
  readonly digest: string;
  /** Its timestamp as written. */
  readonly time: string;
}

/** What is kept per log file. */
export interface FileCheckpoint {
  readonly position: FilePosition;
  readonly last: LastEntry | null;
}

/** A checkpoint. */
export interface Checkpoint {
  readonly cursor: string;
  readonly digest: string;
  readonly files: Readonly<Record<string, FileCheckpoint>>;
}

/** Encodes a checkpoint for the KV store. */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const files: Record<string, unknown> = {};
  for (const [name, file] of Object.entries(checkpoint.files)) {
    files[name] = {
      g: String(file.position.generation),
      o: file.position.offset,
      last:
        file.last === null
          ? null
          : { g: String(file.last.generation), o: file.last.offset, d: file.last.digest, t: file.last.time },
    };
  }
  return Buffer.from(JSON.stringify({ cursor: checkpoint.cursor, digest: checkpoint.digest, files }));
}

/** Decodes a stored checkpoint; undefined when it is not one (it is then ignored). */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint | undefined {
  try {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
      cursor: string;
      digest: string;
      files: Record<string, { g: string; o: number; last: { g: string; o: number; d: string; t: string } | null }>;
    };
    const files: Record<string, FileCheckpoint> = {};
    for (const [name, file] of Object.entries(value.files)) {
      if (!LOG_FILES.some((spec) => spec.fileName === name)) continue;
      files[name] = {
        position: { generation: BigInt(file.g), offset: checkOffset(file.o) },
        last:
          file.last === null
            ? null
            : {
                generation: BigInt(file.last.g),
                offset: checkOffset(file.last.o),
                digest: String(file.last.d),
                time: String(file.last.t),
              },
      };
    }
    return { cursor: String(value.cursor), digest: String(value.digest), files };
  } catch {
    return undefined;
  }
}

/** A stored checkpoint that is not one of ours (decoding then ignores it). */
class CheckpointFormatError extends SandlogError {
  constructor(what: string, value: unknown) {
    super('BAD_CHECKPOINT', `Expected ${what} in a stored checkpoint, got ${describeValue(value)}`);
  }
}

function checkOffset(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new CheckpointFormatError('a byte offset', value);
  return value;
}

/** The file of `spec` in `logDir` that has `generation`, open; undefined when none has. */
async function openGeneration(logDir: string, spec: LogFileSpec, generation: bigint) {
  const chain = new RotationChain(logDir, spec.fileName);
  const members = spec.rotates ? await chain.scan() : [{ index: 0, generation }];
  const member = members.find((candidate) => candidate.generation === generation);
  if (member === undefined) return undefined;
  const file = await openLogFile(chain.path(member.index));
  if (file === undefined) return undefined;
  if (file.generation !== generation) {
    await file.handle.close().catch(() => undefined);
    return undefined;
  }
  return file;
}

/** Whether the line ending at `last.offset` of the file with `last.generation` still has `last.digest`. */
export async function lastEntryStillThere(logDir: string, spec: LogFileSpec, last: LastEntry): Promise<boolean> {
  const file = await openGeneration(logDir, spec, last.generation);
  if (file === undefined) return false;
  try {
    const size = Number((await file.handle.stat({ bigint: true })).size);
    if (last.offset > size || last.offset === 0) return false;
    for await (const line of linesBackward(file, last.offset)) {
      return line.endOffset === last.offset && recordDigest(line.buffer.subarray(line.start, line.end)) === last.digest;
    }
    return false;
  } finally {
    await file.handle.close().catch(() => undefined);
  }
}

/** A file whose checkpoint no longer holds: what the gap notice says. */
export interface LostFile {
  readonly fileName: string;
  readonly last: LastEntry;
}

/**
 * The positions to resume `files` at (cursor order) from a checkpoint, and
 * the files that fell behind retention (they start over at the oldest
 * retained entry).
 */
export async function resumePositions(
  logDir: string,
  files: readonly LogFileSpec[],
  checkpoint: Checkpoint,
): Promise<{ positions: FilePosition[]; lost: LostFile[] }> {
  const positions: FilePosition[] = [];
  const lost: LostFile[] = [];
  for (const spec of files) {
    const stored = checkpoint.files[spec.fileName];
    if (stored === undefined) {
      positions.push(START_POSITION);
    } else if (stored.last !== null && !(await lastEntryStillThere(logDir, spec, stored.last))) {
      positions.push(START_POSITION);
      // A text log that was replaced is read from its new start, as every follower does; only the
      // rotation chain has retention to fall behind.
      if (spec.rotates) lost.push({ fileName: spec.fileName, last: stored.last });
    } else {
      positions.push(stored.position);
    }
  }
  return { positions, lost };
}
