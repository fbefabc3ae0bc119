/**
 * The last N entries, read from the end: each file's chain is walked newest
 * file first and each file backwards, until N entries that pass the filter
 * are found. `--tail 100` over a full 50 MiB chain reads a few blocks.
 *
 * The N entries of each file are then merged by time and the last N kept,
 * with cursors as a forward read would have given them. (Like `--since`'s
 * file skipping, this relies on timestamps not going backwards within a file,
 * which writers guarantee by stamping records as they append them.)
 */
import { RotationChain } from '../files/chain.js';
import { filesForSources, type LogFileSpec } from '../files/layout.js';
import { openLogFile, type OpenLogFile } from '../files/log-file.js';
import { START_POSITION, type FilePosition } from '../format/cursor.js';
import type { Entry } from '../format/entry.js';
import { linesBackward } from './backward.js';
import { LineOutcome, parseJsonLine, parseTextFileLine, type EntryFilter } from './filter.js';
import { endOfWholeLines } from './line-reader.js';
import { filterOf } from './log-stream.js';
import type { ResolvedOptions } from './options.js';

/** The result of a tail read. */
export interface TailResult {
  /** The last entries, oldest first, with cursors. */
  readonly entries: Entry[];
  /** Positions after all the data read: where a follower continues. */
  readonly end: FilePosition[];
  /** Malformed records met on the way. */
  readonly malformed: number;
}

interface SourceTail {
  entries: Entry[];
  start: FilePosition;
  end: FilePosition;
  malformed: number;
}

// The files of one spec, newest first, opened.
async function openNewestFirst(logDir: string, spec: LogFileSpec): Promise<OpenLogFile[]> {
  const chain = new RotationChain(logDir, spec.fileName);
  const members = spec.rotates ? await chain.scan() : [{ index: 0, generation: 0n }];
  const files: OpenLogFile[] = [];
  for (const member of members) {
    const file = await openLogFile(chain.path(member.index));
    if (file !== undefined) files.push(file);
  }
  return files;
}

async function tailOf(logDir: string, spec: LogFileSpec, reader: number, filter: EntryFilter, count: number): Promise<SourceTail> {
  const files = await openNewestFirst(logDir, spec);
  // Time is checked here, not by the parser: the first entry older than `since` ends the walk.
  const scanFilter: EntryFilter = { ...filter, since: -Infinity };
  const found: Entry[] = [];
  const result: { entry: Entry | undefined } = { entry: undefined };
  let end = START_POSITION;
  let start: FilePosition | undefined;
  let malformed = 0;
  try {
    walk: for (const [i, file] of files.entries()) {
      const stats = await file.handle.stat();
      const fileEnd = await endOfWholeLines(file, stats.size);
      if (i === 0) end = { generation: file.generation, offset: fileEnd };
      if (count === 0) break;
      for await (const line of linesBackward(file, fileEnd)) {
        const position = { generation: file.generation, offset: line.endOffset };
        const outcome =
          spec.format === 'jsonl'
            ? parseJsonLine(line.buffer, line.start, line.end, position, reader, scanFilter, result)
            : parseTextFileLine(line.buffer, line.start, line.end, position, reader, scanFilter, stats.mtimeMs, result);
        if (outcome === LineOutcome.Malformed) {
          malformed += 1;
        } else if (outcome === LineOutcome.Until) {
          // Entries after the first one at or past `until` are not part of the stream.
          found.length = 0;
          start = undefined;
        } else if (outcome === LineOutcome.Kept) {
          const entry = result.entry!;
          if (entry.time < filter.since) break walk;
          found.push(entry);
          start = { generation: file.generation, offset: line.startOffset };
          if (found.length >= count) break walk;
        }
      }
    }
  } finally {
    await Promise.all(files.map((file) => file.handle.close().catch(() => undefined)));
  }
  found.reverse();
  return { entries: found, start: start ?? end, end, malformed };
}

/** Reads the last `options.tail` entries of a log directory. */
export async function readTail(logDir: string, options: ResolvedOptions): Promise<TailResult> {
  const count = options.tail ?? 0;
  const filter = filterOf(options);
  const specs = filesForSources(options.sources);
  const tails = await Promise.all(specs.map((spec, reader) => tailOf(logDir, spec, reader, filter, count)));

  // Merge the per-file tails by time (ties by file order), then keep the last `count`.
  const merged: Entry[] = [];
  const at = tails.map(() => 0);
  for (;;) {
    let best = -1;
    for (let r = 0; r < tails.length; r++) {
      const entry = tails[r]!.entries[at[r]!];
      if (entry !== undefined && (best < 0 || entry.time < tails[best]!.entries[at[best]!]!.time)) best = r;
    }
    if (best < 0) break;
    merged.push(tails[best]!.entries[at[best]!++]!);
  }
  const positions = tails.map((tail) => tail.start);
  const keepFrom = Math.max(0, merged.length - count);
  for (const [i, entry] of merged.entries()) {
    positions[entry.reader] = entry.position;
    if (i >= keepFrom) entry.positions = [...positions];
  }
  return {
    entries: merged.slice(keepFrom),
    end: tails.map((tail) => tail.end),
    malformed: tails.reduce((sum, tail) => sum + tail.malformed, 0),
  };
}
