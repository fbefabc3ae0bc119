/**
 * A page of history read backwards: the last N entries before a cursor's
 * positions (or before the end of the data), each file's chain walked newest
 * file first and each file backwards until N entries that pass the filter are
 * found, then merged by time with the cursors a forward read in file order
 * would give them. This is what the server's `before=` parameter and the
 * viewer's scroll-back serve; it relies on timestamps not going backwards
 * within a file. (`--tail`, which must equal microsandbox's sorted snapshot
 * whatever the order, is ./tail.ts.)
 */
import { HistoryGoneError } from '../errors.js';
import { filesForSources, type LogFileSpec } from '../files/layout.js';
import type { OpenLogFile } from '../files/log-file.js';
import { START_POSITION, type FilePosition } from '../format/cursor.js';
import type { Entry } from '../format/entry.js';
import { openNewestFirst, walkBackward, type BackwardWalk } from './backward-walk.js';
import { isLineBoundary } from './line-reader.js';
import { filterOf } from './log-stream.js';
import type { ResolvedOptions } from './options.js';

/** A page of history. */
export interface HistoryWalk {
  /** The last entries, oldest first, with cursors. */
  readonly entries: Entry[];
  /** Positions after all the data read: where a follower continues. */
  readonly end: FilePosition[];
  /** Malformed records met on the way. */
  readonly malformed: number;
  /** Positions just before the first entry returned: where a forward read of exactly these entries starts. */
  readonly start: FilePosition[];
  /** Whether the walk reached the oldest retained entry (or `since`) of every file: nothing older passes the filter. */
  readonly complete: boolean;
}

// Drops the files newer than the one holding `from` (closing them); throws when no file holds it any more.
async function startAt(files: OpenLogFile[], from: FilePosition, spec: LogFileSpec): Promise<OpenLogFile[]> {
  const at = files.findIndex((file) => file.generation === from.generation);
  await Promise.all(files.slice(0, Math.max(0, at)).map((file) => file.handle.close().catch(() => undefined)));
  if (at < 0) {
    await Promise.all(files.map((file) => file.handle.close().catch(() => undefined)));
    throw new HistoryGoneError(
      `history gone: ${spec.fileName} generation ${from.generation} has rotated out of retention, and everything older with it`,
    );
  }
  const kept = files.slice(at);
  const first = kept[0]!;
  if (from.offset > Number((await first.handle.stat()).size) || !(await isLineBoundary(first, from.offset))) {
    await Promise.all(kept.map((file) => file.handle.close().catch(() => undefined)));
    // A cursor handed out by a read always sits on a boundary: a file of that generation where it does not is a
    // new file that reuses the inode of one that rotated out (file systems reuse inode numbers at once).
    throw new HistoryGoneError(
      `history gone: offset ${from.offset} is not a record boundary of ${spec.fileName} generation ${from.generation}: ` +
        'the file the cursor was taken from has rotated out of retention (its inode reused), or the cursor is not from this log',
    );
  }
  return kept;
}

/**
 * Reads the last `count` entries of a log directory (default `options.tail`),
 * or with `before` (one position per file read, a cursor's), the last
 * `count` entries before those positions. A position whose file has left
 * retention is a {@link HistoryGoneError}.
 */
export async function readHistoryWalk(
  logDir: string,
  options: ResolvedOptions,
  count = options.tail ?? 0,
  before?: readonly FilePosition[],
): Promise<HistoryWalk> {
  const filter = filterOf(options);
  const specs = filesForSources(options.sources);
  const tails = await Promise.all(
    specs.map(async (spec, reader): Promise<BackwardWalk> => {
      const from = before === undefined ? undefined : (before[reader] ?? START_POSITION);
      if (from?.generation === 0n) {
        return { entries: [], start: START_POSITION, end: START_POSITION, malformed: 0, limited: false };
      }
      let files = await openNewestFirst(logDir, spec);
      if (from !== undefined) files = await startAt(files, from, spec);
      return walkBackward(files, spec, reader, filter, count, from?.offset);
    }),
  );

  const merged = mergeByTime(tails.map((tail) => tail.entries)).map(({ entry }) => entry);
  const positions = tails.map((tail) => tail.start);
  const keepFrom = Math.max(0, merged.length - count);
  let start = [...positions];
  for (const [i, entry] of merged.entries()) {
    if (i === keepFrom) start = [...positions];
    positions[entry.reader] = entry.position;
    if (i >= keepFrom) entry.positions = [...positions];
  }
  return {
    entries: merged.slice(keepFrom),
    end: tails.map((tail) => tail.end),
    malformed: tails.reduce((sum, tail) => sum + tail.malformed, 0),
    start: keepFrom < merged.length ? start : tails.map((tail) => tail.end),
    complete: keepFrom === 0 && tails.every((tail) => !tail.limited),
  };
}

/**
 * Merges lists that are each in time order into one in time order (ties: the
 * earlier list first), each entry with the index of its list.
 */
export function mergeByTime(lists: readonly (readonly Entry[])[]): { list: number; entry: Entry }[] {
  const merged: { list: number; entry: Entry }[] = [];
  const at = lists.map(() => 0);
  for (;;) {
    let best = -1;
    for (let l = 0; l < lists.length; l++) {
      const entry = lists[l]![at[l]!];
      if (entry !== undefined && (best < 0 || entry.time < lists[best]![at[best]!]!.time)) best = l;
    }
    if (best < 0) return merged;
    merged.push({ list: best, entry: lists[best]![at[best]!++]! });
  }
}
