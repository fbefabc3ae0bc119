/**
 * Where a file reader starts: the beginning of the file's chain, the first
 * record at or after a time, or a cursor's position — and every way a
 * cursor's position can be unusable, each an {@link InvalidCursorError}
 * raised before anything is read.
 *
 * Rotating files (exec.log) start on a lease from the directory's generation
 * holder; plain text logs are opened by the reader itself.
 */
import { InvalidCursorError } from '../errors.js';
import type { LogFileSpec } from '../files/layout.js';
import { openLogFile, type OpenLogFile } from '../files/log-file.js';
import { START_POSITION, type FilePosition } from '../format/cursor.js';
import { firstRecordNotBefore, lastEntryTime } from './backward.js';
import type { GenerationLease } from './generation-holder.js';
import { LineReader, endOfWholeLines, isLineBoundary } from './line-reader.js';

/** Where a reader starts. */
export type ReaderStart =
  | { readonly kind: 'beginning' }
  | { readonly kind: 'position'; readonly position: FilePosition; readonly strict: boolean };

/** A reader's first file (none when the file does not exist yet), and the position it counts as consumed. */
export interface StartPoint {
  readonly line: LineReader | undefined;
  readonly consumed: FilePosition;
}

/** Told when a text log was truncated below a cursor's offset. */
export type TruncationNotice = (message: string) => void;

/** Starts a reader of a rotating file on `lease`; `since` (ms, or -Infinity) passes over older files unparsed. */
export async function startRotating(
  lease: GenerationLease,
  spec: LogFileSpec,
  start: ReaderStart,
  since: number,
): Promise<StartPoint> {
  const holder = lease.holder;
  if (start.kind === 'position' && start.position.generation !== 0n) {
    const { position, strict } = start;
    const held = holder.startAt(lease, position.generation);
    if (held === undefined) {
      throw new InvalidCursorError(
        `invalid cursor: ${spec.fileName} generation ${position.generation} is not in the current rotation chain`,
      );
    }
    await checkOffset(held.file, spec, position, strict);
    return { line: new LineReader(held.file, position.offset), consumed: position };
  }
  const consumed = start.kind === 'position' ? start.position : START_POSITION;
  if (!holder.startAtOldest(lease)) return { line: undefined, consumed };
  return skipFilesBefore(lease, spec, since, consumed);
}

/** Below this many bytes, `since` and `tail` read the files whole rather than trust them to be in time order. */
export const EXACT_READ_BYTES = 4 * 1024 * 1024;

// With a lower time bound, whole files whose last entry is older are passed over unparsed.
async function skipFilesBefore(
  lease: GenerationLease,
  spec: LogFileSpec,
  since: number,
  consumed: FilePosition,
): Promise<StartPoint> {
  let held = lease.at!;
  if (since === -Infinity) return { line: new LineReader(held.file, 0), consumed };
  // A small chain is read whole: exact (as microsandbox) even if its records are not in time order.
  let total = 0;
  for (
    let file: typeof held | undefined = held;
    file !== undefined && total <= EXACT_READ_BYTES;
    file = lease.holder.after(file)
  ) {
    total += await new LineReader(file.file, 0).size();
  }
  if (total <= EXACT_READ_BYTES) return { line: new LineReader(held.file, 0), consumed };
  for (;;) {
    const line = new LineReader(held.file, 0);
    const end = await endOfWholeLines(held.file, await line.size());
    const last = await lastEntryTime(held.file, end, spec.format);
    if (last === undefined || last >= since) {
      // The first file that reaches `since`: start inside it, near the first record that does.
      if (last !== undefined && spec.format === 'jsonl')
        line.offset = await firstRecordNotBefore(held.file, 0, end, since);
      return { line, consumed };
    }
    line.offset = end;
    consumed = { generation: held.generation, offset: end };
    const next = lease.holder.after(held);
    // After a gap the reader must meet the gap (and fail) rather than be moved past it here.
    if (next === undefined || next.afterGap) return { line, consumed };
    lease.holder.advance(lease, next);
    held = next;
  }
}

/** Starts a reader of a plain text log (which is replaced, not rotated) at `path`. */
export async function startText(
  path: string,
  spec: LogFileSpec,
  start: ReaderStart,
  onTruncated: TruncationNotice,
): Promise<StartPoint> {
  const file = await openLogFile(path);
  const initial = start.kind === 'position' ? start.position : START_POSITION;
  if (file === undefined) return { line: undefined, consumed: initial };
  try {
    if (start.kind === 'position' && start.position.generation !== 0n) {
      const { position, strict } = start;
      // Another file holds the name now: the one the cursor knew was replaced, so all of this one is new.
      if (file.generation !== position.generation) return { line: new LineReader(file, 0), consumed: START_POSITION };
      const size = Number((await file.handle.stat({ bigint: true })).size);
      if (position.offset > size) {
        onTruncated(
          `${spec.fileName} is shorter than the cursor's offset ${position.offset}: it was truncated; reading it from the start`,
        );
        return { line: new LineReader(file, 0), consumed: { generation: file.generation, offset: 0 } };
      }
      await checkOffset(file, spec, position, strict);
      return { line: new LineReader(file, position.offset), consumed: position };
    }
    // Text logs are not in time order (lines without a time prefix take the file's mtime): `since` reads them whole.
    return { line: new LineReader(file, 0), consumed: initial };
  } catch (error) {
    await file.handle.close().catch(() => undefined);
    throw error;
  }
}

// A cursor's offset must be a line boundary within its file, or the cursor was not made by a reader of it.
async function checkOffset(
  file: OpenLogFile,
  spec: LogFileSpec,
  position: FilePosition,
  strict: boolean,
): Promise<void> {
  if (!strict) return;
  const size = Number((await file.handle.stat({ bigint: true })).size);
  if (position.offset > size || !(await isLineBoundary(file, position.offset))) {
    throw new InvalidCursorError(
      `invalid cursor: offset ${position.offset} is not a record boundary of ${spec.fileName} generation ${position.generation}`,
    );
  }
}
