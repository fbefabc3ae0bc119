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
import { Entry } from '../format/entry.js';
import { openNewestFirst, walkBackward, type BackwardWalk } from './backward-walk.js';
import { LineOutcome, parseTextFileLine, textFileLineTime, type EntryFilter } from './filter.js';
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

type SourceTail = Omit<BackwardWalk, 'limited'>;

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
  if (spec.format === 'text') {
    return textTailOf(await openLogFile(new RotationChain(logDir, spec.fileName).path(0)), reader, filter, count);
  }
  const files = await openNewestFirst(logDir, spec);
  let newest = Infinity;
  // One more than asked: the entry before the tail gives the first cursors their position of this file.
  const walk = await walkBackward(files, spec, reader, filter, count === 0 ? 0 : count + 1, undefined, (entry) => {
    if (entry.time > newest) throw OUT_OF_ORDER;
    newest = entry.time;
  });
  return walk;
}

// A text log's tail: the whole file, sorted, its last `count + 1` entries.
async function textTailOf(
  file: OpenLogFile | undefined,
  reader: number,
  filter: EntryFilter,
  count: number,
): Promise<SourceTail> {
  if (file === undefined) return { entries: [], start: START_POSITION, end: START_POSITION, malformed: 0 };
  try {
    const { mtimeMs } = await file.handle.stat();
    const buffer = await readWhole(file);
    const end = { generation: file.generation, offset: endOfLines(buffer) };
    if (filter.grep === undefined) {
      const entries = lastInTimeOrder(buffer, file.generation, reader, filter, mtimeMs, count + 1);
      return { entries, start: START_POSITION, end, malformed: 0 };
    }
    const all: Entry[] = [];
    const result: { entry: Entry | undefined } = { entry: undefined };
    let lineStart = 0;
    for (let newline = buffer.indexOf(0x0a); newline >= 0; newline = buffer.indexOf(0x0a, lineStart)) {
      if (
        newline > lineStart &&
        parseTextFileLine(buffer, lineStart, newline, file.generation, newline + 1, reader, filter, mtimeMs, result) ===
          LineOutcome.Kept
      ) {
        all.push(result.entry!);
      }
      lineStart = newline + 1;
    }
    const sorted = sortByTime(all);
    return { entries: sorted.slice(Math.max(0, sorted.length - count - 1)), start: START_POSITION, end, malformed: 0 };
  } finally {
    await file.handle.close().catch(() => undefined);
  }
}

// Offset after the last `\n` of `buffer` (0 when there is none).
function endOfLines(buffer: Buffer): number {
  return buffer.length === 0 ? 0 : buffer.lastIndexOf(0x0a) + 1;
}

/**
 * The last `keep` lines of the text log `buffer` that pass the time filter,
 * in the order a stable sort by time puts them (file order among equal
 * times), as entries: the same as sorting entries of every line and keeping
 * the last ones, with an entry made only for the lines kept. Needs no grep
 * (a grep decides on the entry's text).
 */
function lastInTimeOrder(
  buffer: Buffer,
  generation: bigint,
  reader: number,
  filter: EntryFilter,
  fallbackTime: number,
  keep: number,
): Entry[] {
  const times: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  let ordered = true;
  let lineStart = 0;
  for (let newline = buffer.indexOf(0x0a); newline >= 0; newline = buffer.indexOf(0x0a, lineStart)) {
    if (newline > lineStart) {
      const time = textFileLineTime(buffer, lineStart, newline, fallbackTime);
      if (time >= filter.since && time < filter.until) {
        if (times.length > 0 && time < times[times.length - 1]!) ordered = false;
        times.push(time);
        starts.push(lineStart);
        ends.push(newline);
      }
    }
    lineStart = newline + 1;
  }
  const count = times.length;
  const kept = Math.min(keep, count);
  const chosen: number[] = [];
  if (ordered) {
    for (let i = count - kept; i < count; i++) chosen.push(i);
  } else if (kept > 0) {
    // The time the kept lines reach down to; of the lines at exactly that time, the last ones in file order.
    const threshold = Float64Array.from(times).sort()[count - kept]!;
    let atThreshold = kept;
    for (const time of times) if (time > threshold) atThreshold -= 1;
    for (let i = count - 1; i >= 0; i--) {
      const time = times[i]!;
      if (time > threshold || (time === threshold && atThreshold-- > 0)) chosen.push(i);
    }
    chosen.sort((a, b) => times[a]! - times[b]! || a - b);
  }
  return chosen.map((i) =>
    Entry.fromTextLine(times[i]!, generation, ends[i]! + 1, reader, buffer, starts[i]!, ends[i]!),
  );
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
