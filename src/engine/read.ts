/**
 * The read side's three entry points: {@link streamLogs} (an async iterable,
 * optionally following), {@link readLogsSnapshot} (entries plus the cursor to
 * follow from) and {@link readLogs} (just the entries). All three share one
 * path: resolve the target, then either tail backwards or merge forwards.
 */
import { InvalidCursorError, StreamIteratedTwiceError } from '../errors.js';
import { filesForSources, resolveTarget, type LogTarget } from '../files/layout.js';
import type { Checkpoint } from '../format/checkpoint.js';
import { decodeCursor, encodeCursor, type FilePosition } from '../format/cursor.js';
import type { Entry, LogEntry } from '../format/entry.js';
import { digestPositions, verifyCheckpoint } from './checkpoint.js';
import { EntryByEntry } from './entry-by-entry.js';
import { LogStream } from './log-stream.js';
import { resolveOptions, type ReadOptions, type ResolvedOptions, type StreamOptions } from './options.js';
import { readTail } from './tail.js';

/** A stream of entries; iterate it with `for await`, or take it in batches. */
export interface LogStreamHandle extends AsyncIterable<LogEntry> {
  /** The same entries in arrays (fewer promise turns for bulk consumers). */
  batches(): AsyncIterable<LogEntry[]>;
  /**
   * Cursor after the last entry handed out — after everything read when the
   * stream has ended (entries dropped by `tail` or `until` included): a
   * follower started from it misses nothing and repeats nothing.
   */
  readonly cursor: string;
  /** Malformed records skipped so far. */
  readonly malformed: number;
  /**
   * A checkpoint for `cursor` (by default {@link cursor}, the last entry
   * handed out): the cursor and the digest of the line each of its positions
   * ends after. Store it to resume later with `afterCheckpoint`, which, unlike
   * `afterCursor`, cannot be fooled by a newer file that took the inode number
   * of one that left retention. Take it as soon as the entry is handed out:
   * the files are read now.
   */
  checkpoint(cursor?: string): Promise<Checkpoint>;
  /**
   * Opens the files now (iterating does it otherwise): a missing sandbox or
   * an unusable cursor fails here, before anything is handed out — useful to
   * answer a request with an error status before starting to stream.
   */
  open(): Promise<void>;
  /** Stops the stream and releases its files and watcher (breaking out of `for await` does the same). */
  close(): Promise<void>;
}

/** A snapshot: the entries, and the cursor after everything read. */
export interface LogSnapshot {
  readonly entries: LogEntry[];
  readonly cursor: string;
}

class StreamHandle implements LogStreamHandle {
  private readonly target: LogTarget;
  private readonly options: ResolvedOptions;
  private positions: FilePosition[] = [];
  private malformedBefore = 0;
  private stream: LogStream | undefined;
  private started = false;
  private closed = false;

  constructor(target: LogTarget, options: ResolvedOptions) {
    this.target = target;
    this.options = options;
  }

  private readonly handedOut = new EntryByEntry<LogEntry>();

  get cursor(): string {
    const inBatch = this.handedOut.cursorInBatch;
    if (inBatch !== undefined) return inBatch;
    return encodeCursor(this.stream === undefined ? this.positions : this.stream.currentPositions());
  }

  get malformed(): number {
    return this.malformedBefore + (this.stream?.malformed ?? 0);
  }

  private opening: Promise<Entry[]> | undefined;
  private logDir: string | undefined;

  async checkpoint(cursor: string = this.cursor): Promise<Checkpoint> {
    const positions = decodeCursor(cursor);
    const specs = filesForSources(this.options.sources);
    if (positions.length !== specs.length) {
      throw new InvalidCursorError(
        `invalid cursor: it has ${positions.length} position(s), and this stream reads ${specs.length} file(s)`,
      );
    }
    this.logDir ??= (await resolveTarget(this.target, this.options.home)).logDir;
    return { cursor, digests: await digestPositions(this.logDir, specs, positions) };
  }

  open(): Promise<void> {
    return this.prepare().then(() => undefined);
  }

  // Resolves the target, reads the tail when asked for, and opens the readers: every error about the
  // target or the cursor surfaces here. Resolves to the tail's entries (handed out first).
  private prepare(): Promise<Entry[]> {
    this.opening ??= (async () => {
      const { logDir } = await resolveTarget(this.target, this.options.home);
      this.logDir = logDir;
      let starts = this.options.afterCursor;
      const { checkpoint } = this.options;
      const specs = filesForSources(this.options.sources);
      if (checkpoint !== undefined) {
        if (checkpoint.positions.length !== specs.length) {
          throw new InvalidCursorError(
            `invalid checkpoint: its cursor has ${checkpoint.positions.length} position(s), and this stream reads ${specs.length} file(s)`,
          );
        }
        starts = await verifyCheckpoint(logDir, specs, checkpoint, false);
      }
      let strict = true;
      let tailEntries: Entry[] = [];
      if (this.options.tail !== undefined) {
        const tail = await readTail(logDir, this.options);
        this.positions = tail.end;
        this.malformedBefore = tail.malformed;
        tailEntries = tail.entries;
        if (!this.options.follow) return tailEntries;
        starts = tail.end;
        strict = false;
      }
      try {
        if (!this.closed) this.stream = await LogStream.open(logDir, this.options, starts, strict);
      } catch (error) {
        // A file that rotated out between the check and the open: say so as the check would have.
        if (checkpoint !== undefined && error instanceof InvalidCursorError)
          await verifyCheckpoint(logDir, specs, checkpoint, false);
        throw error;
      }
      if (checkpoint !== undefined && this.stream !== undefined) {
        // Checked again now that the stream holds its files, and with them their inode numbers.
        try {
          await verifyCheckpoint(logDir, specs, checkpoint, true);
        } catch (error) {
          await this.stream.close();
          this.stream = undefined;
          throw error;
        }
      }
      return tailEntries;
    })();
    return this.opening;
  }

  async *batches(): AsyncGenerator<Entry[]> {
    if (this.started) throw new StreamIteratedTwiceError();
    this.started = true;
    try {
      const tailEntries = await this.prepare();
      if (tailEntries.length > 0) yield tailEntries;
      if (this.stream === undefined || this.closed) return;
      yield* this.stream.batches();
      // Finished (not broken off nor closed): the cursor covers everything read, dropped entries included.
      this.positions = this.closed ? this.stream.currentPositions() : await this.stream.endPositions();
      const stream = this.stream;
      this.malformedBefore += stream.malformed;
      this.stream = undefined;
      await stream.close();
    } finally {
      if (this.stream !== undefined) {
        this.positions = this.stream.currentPositions();
        this.malformedBefore += this.stream.malformed;
        await this.stream.close();
        this.stream = undefined;
      }
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<LogEntry> {
    return this.handedOut.entries(this.batches());
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stream?.close();
  }
}

/**
 * Streams a sandbox's log entries. Without `follow` it ends at the end of the
 * data (sorted by time across files); with it, it goes on across rotations
 * until `signal` aborts, the consumer breaks out, or every source passes
 * `until`. An unusable cursor or target fails at the first `next()`, before
 * any entry.
 */
export function streamLogs(target: LogTarget, options: StreamOptions = {}): LogStreamHandle {
  return new StreamHandle(target, resolveOptions(options));
}

/** Reads what is there now: the entries, sorted by time, and the cursor to follow from. */
export async function readLogsSnapshot(
  target: LogTarget,
  options: ReadOptions & Pick<StreamOptions, 'afterCursor' | 'afterCheckpoint'> = {},
): Promise<LogSnapshot> {
  const handle = new StreamHandle(target, resolveOptions({ ...options, follow: false }));
  const entries: LogEntry[] = [];
  for await (const batch of handle.batches()) {
    for (const entry of batch) entries.push(entry);
  }
  return { entries, cursor: handle.cursor };
}

/** Reads what is there now, sorted by time. */
export async function readLogs(
  target: LogTarget,
  options: ReadOptions & Pick<StreamOptions, 'afterCursor' | 'afterCheckpoint'> = {},
): Promise<LogEntry[]> {
  return (await readLogsSnapshot(target, options)).entries;
}
