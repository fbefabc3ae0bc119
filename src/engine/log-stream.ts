/**
 * The multi-file stream: one {@link FileReader} per log file whose sources
 * were asked for, merged into one sequence of entries.
 *
 * Ordering: a snapshot (no follow) is sorted as microsandbox sorts it, with
 * its accumulated cursors (./snapshot.ts). While following, whatever is on
 * disk when the stream looks is merged k-way by timestamp (ties: file order
 * of the log-file table, then offset), and each new round of appends the
 * same way.
 *
 * Cursors: every entry carries its own position and every other reader's
 * position as the stream stood when it was handed out, so resuming from any
 * entry continues with exactly the entries after it, whatever the filter of
 * the stream that resumes. The stream's end cursor sits after everything
 * consumed, skipped lines included.
 */
import { stat } from 'node:fs/promises';
import { filesForSources } from '../files/layout.js';
import { START_POSITION, type FilePosition } from '../format/cursor.js';
import type { Entry } from '../format/entry.js';
import type { EntryFilter } from './filter.js';
import type { ResolvedOptions } from './options.js';
import { FileReader } from './file-reader.js';
import { snapshotBatches } from './snapshot.js';
import { onAbort } from './shared-abort.js';
import { Waker } from './waker.js';
import { POLL_INTERVAL_MS, WATCHED_POLL_INTERVAL_MS, subscribe } from './watch.js';

/**
 * Most entries handed out in one batch: enough to make promise turns cheap,
 * few enough that a batch (and the read blocks it holds) stays small.
 */
const MAX_BATCH_ENTRIES = 512;

interface Head {
  entries: Entry[];
  at: number;
  end: FilePosition;
  idle: boolean;
}

export function filterOf(options: ResolvedOptions): EntryFilter {
  return {
    sourceMask: options.sourceMask,
    since: options.since,
    until: options.until,
    untilEndsSource: options.follow,
    grep: options.grep,
  };
}

export class LogStream {
  readonly logDir: string;
  private readonly options: ResolvedOptions;
  private readonly readers: FileReader[];
  private readonly positions: FilePosition[];
  /** Where each reader started: a snapshot's cursors accumulate from these. */
  private starts: readonly FilePosition[] = [];
  private readonly waker: Waker;
  private unsubscribe: (() => void) | undefined;

  private constructor(
    logDir: string,
    options: ResolvedOptions,
    readers: FileReader[],
    positions: FilePosition[],
    waker: Waker,
  ) {
    this.waker = waker;
    this.logDir = logDir;
    this.options = options;
    this.readers = readers;
    this.positions = positions;
  }

  /**
   * Opens one reader per file whose sources were asked for, each starting
   * from `starts[i]` when given (a cursor's positions), else from the beginning.
   * `strict` checks that each position is a record boundary (cursors from outside).
   */
  static async open(
    logDir: string,
    options: ResolvedOptions,
    starts: readonly FilePosition[] | undefined,
    strict: boolean,
  ): Promise<LogStream> {
    const specs = filesForSources(options.sources);
    const filter = filterOf(options);
    const waker = new Waker();
    const readers: FileReader[] = [];
    try {
      for (const [index, spec] of specs.entries()) {
        const position = starts?.[index];
        readers.push(
          await FileReader.open({
            spec,
            logDir,
            index,
            filter,
            start: position === undefined ? { kind: 'beginning' } : { kind: 'position', position, strict },
            onWarning: options.onWarning,
            following: options.follow,
            holdGenerations: options.holdGenerations,
          }),
        );
      }
    } catch (error) {
      await Promise.all(readers.map((reader) => reader.close()));
      throw error;
    }
    const stream = new LogStream(
      logDir,
      options,
      readers,
      readers.map((reader) => reader.consumed),
      waker,
    );
    stream.starts = specs.map((_, index) => starts?.[index] ?? START_POSITION);
    if (options.follow) {
      // Rotations need no handling here: the directory's generation holder, subscribed first, has taken the new files.
      stream.unsubscribe = subscribe(logDir, stream.waker.notify);
      // A consumer that aborts between two entries may never call next() again: let go of the shared watcher now.
      const signal = options.signal;
      if (signal !== undefined && !signal.aborted) {
        const release = (): void => {
          stream.release();
          stream.waker.notify();
        };
        stream.stopListening = onAbort(signal, release);
      }
    }
    return stream;
  }

  /** Malformed records skipped so far. */
  get malformed(): number {
    return this.readers.reduce((sum, reader) => sum + reader.malformed, 0);
  }

  // Per reader, the last entry handed out whose position is not in `positions` yet: taking a
  // position object per entry would cost an allocation per entry, so it is taken when read.
  private readonly unsettled: (Entry | undefined)[] = [];

  private settle(): void {
    for (let r = 0; r < this.unsettled.length; r++) {
      const entry = this.unsettled[r];
      if (entry !== undefined) {
        this.positions[r] = entry.position;
        this.unsettled[r] = undefined;
      }
    }
  }

  /** Positions after the last entry handed out (and any skipped lines after it). */
  currentPositions(): FilePosition[] {
    this.settle();
    return [...this.positions];
  }

  /** Positions after everything consumed; a source that ended at `until` counts as read to the end of its data. */
  async endPositions(): Promise<FilePosition[]> {
    this.settle();
    return Promise.all(
      this.readers.map((reader, i) =>
        reader.reachedUntil ? reader.endOfData() : Promise.resolve(this.positions[i] ?? START_POSITION),
      ),
    );
  }

  /** The entries, in batches. Ends when the data ends (or, following, when aborted or every source passed `until`). */
  batches(): AsyncGenerator<Entry[]> {
    if (!this.options.follow) {
      return snapshotBatches(
        this.logDir,
        this.readers,
        this.starts,
        this.positions,
        () => this.closed,
        () => this.mergedBatches(),
      );
    }
    // Not wrapped in a generator of its own: each layer of `yield*` costs every batch a few promise turns.
    return this.mergedBatches();
  }

  // The k-way merge by timestamp: a follower's order, and a snapshot's when it is the same (one large file).
  private async *mergedBatches(): AsyncGenerator<Entry[]> {
    const heads: Head[] = this.readers.map((reader) => ({ entries: [], at: 0, end: reader.consumed, idle: false }));
    const { follow, signal, until, pollIntervalMs } = this.options;
    let failure: unknown;
    // Every reader's position as the entries of `cursorReader` see them, shared by those entries
    // (each puts its own position in its slot); retaken when another reader's position moves.
    let cursorBase: FilePosition[] | undefined;
    let cursorReader = -1;

    const fill = async (r: number): Promise<void> => {
      const head = heads[r]!;
      const reader = this.readers[r]!;
      // A closed reader holds no file: asked again, it would open the chain from the beginning.
      if (this.closed) head.idle = true;
      while (head.at >= head.entries.length && !head.idle) {
        if (reader.idleUntilWoken()) {
          head.idle = true;
          return;
        }
        let batch: Awaited<ReturnType<typeof reader.next>>;
        try {
          if (reader.timesFromFile) await reader.refreshFallbackTime();
          batch = await reader.next();
        } catch (error) {
          failure = error;
          head.idle = true;
          return;
        }
        // Closed while reading: what the read found is not handed out.
        if (batch === undefined || this.closed) {
          head.idle = true;
          return;
        }
        head.entries = batch.entries;
        head.at = 0;
        head.end = batch.end;
        if (batch.entries.length === 0) {
          this.positions[r] = batch.end;
          this.unsettled[r] = undefined;
          cursorBase = undefined;
        }
      }
    };

    for (;;) {
      let progressed = false;
      for (let r = 0; r < heads.length && failure === undefined; r++) await fill(r);
      let out: Entry[] = [];
      while (failure === undefined) {
        let best = -1;
        let bestTime = Infinity;
        for (let r = 0; r < heads.length; r++) {
          const head = heads[r]!;
          if (head.at < head.entries.length) {
            const time = head.entries[head.at]!.time;
            if (best < 0 || time < bestTime) {
              best = r;
              bestTime = time;
            }
          }
        }
        if (best < 0) break;
        const head = heads[best]!;
        const entry = head.entries[head.at++]!;
        const exhausted = head.at === head.entries.length;
        if (cursorBase === undefined || cursorReader !== best) {
          this.settle();
          cursorBase = [...this.positions];
          cursorReader = best;
        }
        if (exhausted) {
          // The batch's end may lie after this entry (lines skipped after it): the stream is there, the
          // entry's cursor is not (a stream resumed from it with another filter must get those lines).
          this.positions[best] = head.end;
          this.unsettled[best] = undefined;
          entry.setCursor(cursorBase, undefined);
        } else {
          this.unsettled[best] = entry;
          entry.setCursor(cursorBase, undefined);
        }
        out.push(entry);
        progressed = true;
        if (out.length >= MAX_BATCH_ENTRIES) {
          yield out;
          out = [];
          if (this.closed) return;
        }
        if (exhausted) {
          head.entries = [];
          head.at = 0;
          // What is decided goes out before the refill: a follower's new entries are not held back
          // by the look at the file that finds nothing more.
          if (out.length > 0 && follow) {
            yield out;
            out = [];
            if (this.closed) return;
          }
          // A follower that has just read its file to the end is idle until woken: no promise turns to learn it.
          if (this.readers[best]!.idleUntilWoken()) head.idle = true;
          else await fill(best);
        }
      }
      if (out.length > 0) yield out;
      if (failure !== undefined && !this.closed) throw failure;

      if (!follow || aborted(signal) || this.closed) return;
      if (this.readers.every((reader) => reader.reachedUntil)) return;
      if (until !== Infinity && Date.now() >= until) return;
      if (!progressed && !(await exists(this.logDir))) return;
      const untilWait = until === Infinity ? Infinity : until - Date.now();
      // With the default interval the shared poll is what looks (every POLL_INTERVAL_MS while the watcher is
      // down, now and then while it works): an own timer as short would multiply the idle wake-ups of a
      // thousand followers. It stays as a backstop, and keeps the process alive while waiting.
      const ownTimer =
        pollIntervalMs === POLL_INTERVAL_MS ? WATCHED_POLL_INTERVAL_MS + POLL_INTERVAL_MS : pollIntervalMs;
      await this.waker.wait(Math.min(ownTimer, Math.max(1, untilWait)), signal);
      if (aborted(signal) || this.closed) return;
      for (let r = 0; r < heads.length; r++) {
        heads[r]!.idle = this.readers[r]!.reachedUntil;
        this.readers[r]!.woken();
      }
    }
  }

  private stopListening: (() => void) | undefined;

  // Stops watching the directory; the files stay open until close().
  private release(): void {
    for (const reader of this.readers) reader.stopFollowing();
    this.stopListening?.();
    this.stopListening = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private closed = false;

  /** Ends the stream: a waiting follower wakes and ends, and nothing more is read. */
  async close(): Promise<void> {
    this.closed = true;
    this.release();
    this.waker.close();
    await Promise.all(this.readers.map((reader) => reader.close()));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
