/**
 * The entries of one file spec's chain read from the end: newest file first,
 * each file backwards, until `limit` entries pass the filter or an entry
 * older than `since` is met. The walk that `--tail` (./tail.ts) and history
 * pages (./history-walk.ts) both stand on; each decides what to do with what
 * it returns (and tail checks the time order on the way).
 */
import { RotationChain } from '../files/chain.js';
import type { LogFileSpec } from '../files/layout.js';
import { openLogFile, type OpenLogFile } from '../files/log-file.js';
import { START_POSITION, type FilePosition } from '../format/cursor.js';
import type { Entry } from '../format/entry.js';
import { linesBackward } from './backward.js';
import { LineOutcome, parseJsonLine, parseTextFileLine, type EntryFilter } from './filter.js';
import { endOfWholeLines } from './line-reader.js';

/** What a backward walk found. */
export interface BackwardWalk {
  /** The entries found, oldest first (without cursors: positions only). */
  entries: Entry[];
  /** Position just before the oldest entry found (`end` when none was). */
  start: FilePosition;
  /** Where the walk began: the end of the newest file's whole lines (or the `from` offset). */
  end: FilePosition;
  /** Malformed records met on the way. */
  malformed: number;
  /** The walk stopped at `limit` rather than running out of data (or reaching `since`). */
  limited: boolean;
}

/** The files of one spec, newest first, opened. */
export async function openNewestFirst(logDir: string, spec: LogFileSpec): Promise<OpenLogFile[]> {
  const chain = new RotationChain(logDir, spec.fileName);
  const members = spec.rotates ? await chain.scan() : [{ index: 0, generation: 0n }];
  const files: OpenLogFile[] = [];
  for (const member of members) {
    const file = await openLogFile(chain.path(member.index));
    if (file !== undefined) files.push(file);
  }
  return files;
}

/**
 * Walks `files` (newest first, as {@link openNewestFirst} gives them) back
 * from the end of the first one, or from `fromOffset` in it, and closes them.
 * `onEntry` sees every entry that passes the filter, before its time is held
 * against `since`; what it throws ends the walk.
 */
export async function walkBackward(
  files: readonly OpenLogFile[],
  spec: LogFileSpec,
  reader: number,
  filter: EntryFilter,
  limit: number,
  fromOffset?: number,
  onEntry?: (entry: Entry) => void,
): Promise<BackwardWalk> {
  // Time is checked here, not by the parser: the first entry older than `since` ends the walk.
  const scanFilter: EntryFilter = { ...filter, since: -Infinity };
  const found: Entry[] = [];
  const result: { entry: Entry | undefined } = { entry: undefined };
  let end = START_POSITION;
  let start: FilePosition | undefined;
  let malformed = 0;
  let limited = false;
  try {
    walk: for (const [i, file] of files.entries()) {
      const stats = await file.handle.stat();
      const fileEnd = i === 0 && fromOffset !== undefined ? fromOffset : await endOfWholeLines(file, stats.size);
      if (i === 0) end = { generation: file.generation, offset: fileEnd };
      if (limit === 0) {
        limited = true;
        break;
      }
      for await (const line of linesBackward(file, fileEnd)) {
        const { generation } = file;
        const offset = line.endOffset;
        const outcome =
          spec.format === 'jsonl'
            ? parseJsonLine(line.buffer, line.start, line.end, generation, offset, reader, scanFilter, result)
            : parseTextFileLine(
                line.buffer,
                line.start,
                line.end,
                generation,
                offset,
                reader,
                scanFilter,
                stats.mtimeMs,
                result,
              );
        if (outcome === LineOutcome.Malformed) {
          malformed += 1;
        } else if (outcome === LineOutcome.Until) {
          // Entries after the first one at or past `until` are not part of the stream.
          found.length = 0;
          start = undefined;
        } else if (outcome === LineOutcome.Kept) {
          const entry = result.entry!;
          onEntry?.(entry);
          if (entry.time < filter.since) break walk;
          found.push(entry);
          start = { generation: file.generation, offset: line.startOffset };
          if (found.length >= limit) {
            limited = true;
            break walk;
          }
        }
      }
    }
  } finally {
    await Promise.all(files.map((file) => file.handle.close().catch(() => undefined)));
  }
  found.reverse();
  return { entries: found, start: start ?? end, end, malformed, limited };
}
