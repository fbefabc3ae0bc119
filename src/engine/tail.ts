/**
 * The last N entries, read from the end: each file's chain is walked newest
 * file first and each file backwards, until N entries that pass the filter
 * are found. `--tail 100` over a full 50 MiB chain reads a few blocks.
 *
 * The N entries of each file (and the one before them, whose position the
 * first cursors carry) are then put in snapshot order and the last N kept,
 * with the cursors microsandbox's sorted snapshot gives them.
 *
 * Reading backwards relies on exec.log's records being in time order, which
 * writers guarantee by stamping records as they append them. Where that
 * cannot be trusted the tail is taken from a whole snapshot instead: a small
 * log (up to EXACT_READ_BYTES, read whole in milliseconds), a walk that meets
 * a record newer than one after it, and text logs (lines without a time
 * prefix take the file's mtime) are always read whole.
 */
import { RotationChain } from '../files/chain.js';
import { filesForSources, type LogFileSpec } from '../files/layout.js';
import { openLogFile, type OpenLogFile } from '../files/log-file.js';
import { START_POSITION, type FilePosition } from '../format/cursor.js';
import type { Entry } from '../format/entry.js';
import { linesBackward } from './backward.js';
import { LineOutcome, parseJsonLine, parseTextFileLine, type EntryFilter } from './filter.js';
import { endOfWholeLines } from './line-reader.js';
import { LogStream, filterOf } from './log-stream.js';
import type { ResolvedOptions } from './options.js';
import { StepTable, accumulateCursors, snapshotComparator, sortByTime } from './snapshot-order.js';
import { EXACT_READ_BYTES } from './start-position.js';

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

// Thrown (and caught by readTail) when a backward walk finds records out of time order.
const OUT_OF_ORDER = Symbol('out of order');

async function tailOf(
  logDir: string,
  spec: LogFileSpec,
  reader: number,
  filter: EntryFilter,
  count: number,
): Promise<SourceTail> {
  // Text logs are read whole and sorted (see the module comment); small by nature.
  if (spec.format === 'text') return textTailOf(logDir, spec, reader, filter, count);
  const files = await openNewestFirst(logDir, spec);
  let newest = Infinity;
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
          if (entry.time > newest) throw OUT_OF_ORDER;
          newest = entry.time;
          if (entry.time < filter.since) break walk;
          found.push(entry);
          start = { generation: file.generation, offset: line.startOffset };
          // One more than asked: the entry before the tail gives the first cursors their position of this file.
          if (found.length > count) break walk;
        }
      }
    }
  } finally {
    await Promise.all(files.map((file) => file.handle.close().catch(() => undefined)));
  }
  found.reverse();
  return { entries: found, start: start ?? end, end, malformed };
}

// A text log's tail: the whole file, sorted, its last `count + 1` entries.
async function textTailOf(
  logDir: string,
  spec: LogFileSpec,
  reader: number,
  filter: EntryFilter,
  count: number,
): Promise<SourceTail> {
  const file = await openLogFile(new RotationChain(logDir, spec.fileName).path(0));
  if (file === undefined) return { entries: [], start: START_POSITION, end: START_POSITION, malformed: 0 };
  try {
    const { mtimeMs } = await file.handle.stat();
    const buffer = await readWhole(file);
    const all: Entry[] = [];
    const result: { entry: Entry | undefined } = { entry: undefined };
    let lineStart = 0;
    for (let newline = buffer.indexOf(0x0a); newline >= 0; newline = buffer.indexOf(0x0a, lineStart)) {
      const position = { generation: file.generation, offset: newline + 1 };
      if (
        newline > lineStart &&
        parseTextFileLine(buffer, lineStart, newline, position, reader, filter, mtimeMs, result) === LineOutcome.Kept
      ) {
        all.push(result.entry!);
      }
      lineStart = newline + 1;
    }
    const sorted = sortByTime(all);
    const end = { generation: file.generation, offset: lineStart };
    return { entries: sorted.slice(Math.max(0, sorted.length - count - 1)), start: START_POSITION, end, malformed: 0 };
  } finally {
    await file.handle.close().catch(() => undefined);
  }
}

/** The last `options.tail` entries of a log directory, from a whole snapshot: exact whatever the order of the files. */
async function tailFromSnapshot(logDir: string, options: ResolvedOptions, count: number): Promise<TailResult> {
  const stream = await LogStream.open(logDir, { ...options, follow: false, tail: undefined }, undefined, true);
  try {
    let kept: Entry[] = [];
    for await (const batch of stream.batches()) {
      for (const entry of batch) kept.push(entry);
      if (kept.length > 2 * count + 1024) kept = kept.slice(kept.length - count);
    }
    return {
      entries: count === 0 ? [] : kept.slice(Math.max(0, kept.length - count)),
      end: await stream.endPositions(),
      malformed: stream.malformed,
    };
  } finally {
    await stream.close();
  }
}

/** Reads the last `options.tail` entries of a log directory. */
export async function readTail(logDir: string, options: ResolvedOptions): Promise<TailResult> {
  const count = options.tail ?? 0;
  const specs = filesForSources(options.sources);
  if ((await chainBytes(logDir, specs)) <= EXACT_READ_BYTES) return tailFromSnapshot(logDir, options, count);
  const filter: EntryFilter = { ...filterOf(options), untilEndsSource: false };
  let tails: SourceTail[];
  try {
    tails = await Promise.all(specs.map((spec, reader) => tailOf(logDir, spec, reader, filter, count)));
  } catch (error) {
    if (error === OUT_OF_ORDER) return tailFromSnapshot(logDir, options, count);
    throw error;
  }
  const tables = await Promise.all(specs.map((spec) => StepTable.of(logDir, spec, undefined)));
  const merged = tails.flatMap((tail) => tail.entries);
  merged.sort(snapshotComparator(tables));
  accumulateCursors(
    merged,
    specs.map(() => START_POSITION),
  );
  return {
    entries: count === 0 ? [] : merged.slice(Math.max(0, merged.length - count)),
    end: tails.map((tail) => tail.end),
    malformed: tails.reduce((sum, tail) => sum + tail.malformed, 0),
  };
}

// Bytes of every file the sources read, or Infinity when a file cannot be looked at.
async function chainBytes(logDir: string, specs: readonly LogFileSpec[]): Promise<number> {
  let total = 0;
  for (const spec of specs) {
    for (const file of await openNewestFirst(logDir, spec)) {
      try {
        total += (await file.handle.stat()).size;
      } finally {
        await file.handle.close().catch(() => undefined);
      }
    }
  }
  return total;
}

// The whole of an open file, read through its descriptor (the name may already point at another file).
async function readWhole(file: OpenLogFile): Promise<Buffer> {
  const size = Number((await file.handle.stat()).size);
  const buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await file.handle.read(buffer, filled, size - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}
