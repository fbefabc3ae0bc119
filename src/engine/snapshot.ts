/**
 * A snapshot read (no follow): the entries of every file sorted by timestamp
 * in microsandbox's order, with microsandbox's accumulated cursors (see
 * ./snapshot-order.ts), streamed in batches.
 *
 * Text logs (runtime.log, kernel.log) are read whole first and sorted: a
 * line without a time prefix takes the file's modification time, so they are
 * often not in time order, and they are small. exec.log's records are in
 * time order whenever a writer stamps them as it appends, which is what
 * every writer does: its chain is merged as it is read, and checked. A log
 * of up to EXACT_READ_BYTES is held whole until the end and sorted if it was
 * out of order, exactly as microsandbox; a larger one streams in bounded
 * memory (entries that live long are what the garbage collector pays for),
 * trusting its records to be in time order.
 */
import { START_POSITION, type FilePosition } from '../format/cursor.js';
import type { Entry } from '../format/entry.js';
import { StepTable, accumulateCursors, snapshotComparator, sortByTime } from './snapshot-order.js';
import type { FileReader } from './file-reader.js';
import { EXACT_READ_BYTES } from './start-position.js';

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
 * read at the end. `inFileOrder` is the stream's own merge, used for one
 * large exec.log chain, where it gives the same entries and cursors faster.
 */
export async function* snapshotBatches(
  logDir: string,
  readers: readonly FileReader[],
  starts: readonly FilePosition[],
  positions: FilePosition[],
  isClosed: () => boolean,
  inFileOrder: () => AsyncGenerator<Entry[]>,
): AsyncGenerator<Entry[]> {
  const tables = await Promise.all(readers.map((reader, r) => StepTable.of(logDir, reader.spec, starts[r])));
  const exact = tables.reduce((sum, table) => sum + table.bytes, 0) <= EXACT_READ_BYTES;
  if (!exact && readers.length === 1 && readers[0]!.spec.format === 'jsonl') {
    // One large exec.log chain, trusted to be in order: the snapshot is the file order, and each entry's
    // cursor its own position — what the stream's merge gives, at its speed.
    yield* inFileOrder();
    return;
  }
  const compare = snapshotComparator(tables);
  const cursor = readers.map((_, r) => starts[r] ?? START_POSITION);
  let inverted = false;

  const pull = async (r: number): Promise<Entry[] | undefined> => {
    const reader = readers[r]!;
    await reader.refreshFallbackTime();
    const batch = await reader.next();
    return batch === undefined ? undefined : batch.entries;
  };

  // A small log is held whole (and sorted if out of order); a large one streams.
  const held: Entry[] | undefined = exact ? [] : undefined;
  const heads: Head[] = [];
  for (const [r, reader] of readers.entries()) {
    const head: Head = { entries: [], at: 0, done: false, lastTime: -Infinity };
    if (reader.spec.format === 'text') {
      const all: Entry[] = [];
      for (let batch = await pull(r); batch !== undefined; batch = await pull(r))
        for (const entry of batch) all.push(entry);
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
      // Order matters only while everything is held (a streamed log is trusted to be in order).
      if (held !== undefined && !inverted) {
        let last = head.lastTime;
        for (const entry of batch) {
          if (entry.time < last) inverted = true;
          last = entry.time;
        }
        head.lastTime = last;
      }
    }
  };

  const handOut = (entries: Entry[]): Entry[] => {
    accumulateCursors(entries, cursor);
    for (let r = 0; r < positions.length; r++) positions[r] = cursor[r]!;
    return entries;
  };

  // Whether `a` comes before `b` in the snapshot order.
  const before = (a: Entry, b: Entry): boolean => a.time < b.time || (a.time === b.time && compare(a, b) < 0);

  let out: Entry[] = [];
  for (;;) {
    if (isClosed()) return;
    let best = -1;
    let bestEntry: Entry | undefined;
    for (let r = 0; r < heads.length; r++) {
      const head = heads[r]!;
      if (head.at >= head.entries.length && !head.done) await fill(r);
      const entry = head.entries[head.at];
      if (entry !== undefined && (bestEntry === undefined || before(entry, bestEntry))) {
        best = r;
        bestEntry = entry;
      }
    }
    if (bestEntry === undefined) break;
    // The best head's entries go out for as long as each comes before every other head's next entry
    // (the other heads do not move meanwhile): the order an entry-by-entry merge gives, with one
    // comparison per entry. The runner-up is the earliest of the other heads' next entries.
    let next: Entry | undefined;
    for (let r = 0; r < heads.length; r++) {
      if (r === best) continue;
      const entry = heads[r]!.entries[heads[r]!.at];
      if (entry !== undefined && (next === undefined || before(entry, next))) next = entry;
    }
    const head = heads[best]!;
    const entries = head.entries;
    let until = head.at + 1;
    if (next === undefined) until = entries.length;
    else while (until < entries.length && before(entries[until]!, next)) until += 1;
    const target = held ?? out;
    for (let i = head.at; i < until; i++) target.push(entries[i]!);
    head.at = until;
    if (held === undefined && out.length >= BATCH_ENTRIES) {
      yield handOut(out);
      out = [];
    }
  }
  if (held !== undefined) {
    if (inverted) held.sort(compare);
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
