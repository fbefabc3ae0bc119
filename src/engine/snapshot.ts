/**
 * A snapshot read (no follow): the entries of every file sorted by timestamp
 * in microsandbox's order, with microsandbox's accumulated cursors (see
 * ./snapshot-order.ts), streamed in batches.
 *
 * Text logs (runtime.log, kernel.log) are read whole first and sorted: a
 * line without a time prefix takes the file's modification time, so they are
 * often not in time order, and they are small. exec.log's records are in
 * time order whenever a writer stamps them as it appends, which is what
 * every writer does: its chain is merged as it is read, and checked. The
 * first {@link HOLD_ENTRIES} entries are held back until the check has
 * seen them: a log that small, or one found out of order while held, is
 * sorted whole, exactly; a longer log found in order so far streams in
 * bounded memory, trusting the rest to stay in order.
 */
import { START_POSITION, type FilePosition } from '../format/cursor.js';
import type { Entry } from '../format/entry.js';
import { StepTable, accumulateCursors, compareSnapshotOrder, sortByTime } from './snapshot-order.js';
import type { SourceReader } from './source-reader.js';

/** Entries held back (and sorted whole when out of order) before a snapshot starts streaming. */
export const HOLD_ENTRIES = 8192;
const BATCH_ENTRIES = 512;

interface Head {
  entries: Entry[];
  at: number;
  done: boolean;
  lastTime: number;
}

/**
 * The snapshot of `readers`, in batches. `starts` are the readers' start
 * positions (a cursor's, or the beginning); `positions` (the stream's) is
 * kept at the cursor of the last entry handed out, and left after everything
 * read at the end.
 */
export async function* snapshotBatches(
  logDir: string,
  readers: readonly SourceReader[],
  starts: readonly FilePosition[],
  positions: FilePosition[],
  isClosed: () => boolean,
): AsyncGenerator<Entry[]> {
  const tables = await Promise.all(readers.map((reader, r) => StepTable.of(logDir, reader.spec, starts[r])));
  const cursor = readers.map((_, r) => starts[r] ?? START_POSITION);
  let inverted = false;

  const pull = async (r: number): Promise<Entry[] | undefined> => {
    const reader = readers[r]!;
    await reader.refreshFallbackTime();
    const batch = await reader.next();
    if (batch === undefined) return undefined;
    const table = tables[r]!;
    for (const entry of batch.entries) entry.step = table.stepOf(entry.generation, entry.offset);
    return batch.entries;
  };

  const heads: Head[] = [];
  for (const [r, reader] of readers.entries()) {
    const head: Head = { entries: [], at: 0, done: false, lastTime: -Infinity };
    if (reader.spec.format === 'text') {
      const all: Entry[] = [];
      for (let batch = await pull(r); batch !== undefined; batch = await pull(r)) for (const entry of batch) all.push(entry);
      head.entries = sortByTime(all);
      head.done = true;
    }
    heads.push(head);
  }

  // Refills a streamed head; notes a record older than the one before it.
  const fill = async (r: number): Promise<void> => {
    const head = heads[r]!;
    while (head.at >= head.entries.length && !head.done) {
      const batch = await pull(r);
      if (batch === undefined) {
        head.done = true;
        return;
      }
      head.entries = batch;
      head.at = 0;
      for (const entry of batch) {
        if (entry.time < head.lastTime) inverted = true;
        head.lastTime = entry.time;
      }
    }
  };

  const handOut = (entries: Entry[]): Entry[] => {
    accumulateCursors(entries, cursor);
    for (let r = 0; r < positions.length; r++) positions[r] = cursor[r]!;
    return entries;
  };

  let held: Entry[] | undefined = [];
  let out: Entry[] = [];
  for (;;) {
    if (isClosed()) return;
    let best = -1;
    let bestEntry: Entry | undefined;
    for (let r = 0; r < heads.length; r++) {
      const head = heads[r]!;
      if (head.at >= head.entries.length && !head.done) await fill(r);
      const entry = head.entries[head.at];
      if (entry !== undefined && (bestEntry === undefined || compareSnapshotOrder(entry, bestEntry) < 0)) {
        best = r;
        bestEntry = entry;
      }
    }
    if (bestEntry === undefined) break;
    heads[best]!.at += 1;
    if (held !== undefined) {
      held.push(bestEntry);
      if (held.length >= HOLD_ENTRIES && !inverted) {
        // In order so far and long: stream from here.
        for (let i = 0; i < held.length; i += BATCH_ENTRIES) yield handOut(held.slice(i, i + BATCH_ENTRIES));
        held = undefined;
      }
      continue;
    }
    out.push(bestEntry);
    if (out.length >= BATCH_ENTRIES) {
      yield handOut(out);
      out = [];
    }
  }
  if (held !== undefined) {
    if (inverted) held.sort(compareSnapshotOrder);
    for (let i = 0; i < held.length; i += BATCH_ENTRIES) {
      if (isClosed()) return;
      yield handOut(held.slice(i, i + BATCH_ENTRIES));
    }
  } else if (out.length > 0) {
    yield handOut(out);
  }
  // The end: after everything read, skipped lines included, as microsandbox's end cursor.
  for (const [r, reader] of readers.entries()) positions[r] = reader.consumed;
}
