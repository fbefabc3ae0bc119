/**
 * Reading one log file of a directory (exec.log with its rotation chain, or a
 * plain text log) forwards, across rotations, from where
 * {@link startRotating} / {@link startText} put it.
 *
 * Contracts:
 * - Entries come out in file order, each exactly once.
 * - exec.log's generations come from the directory's generation holder,
 *   which opens each one once for every reader of the process and keeps it
 *   while a reader needs it: a reader that falls behind reads generations
 *   that have left retention, within its hold.
 * - A generation is left for the next one only after it was read to its end
 *   once more after the next one was seen: the writer may have appended just
 *   before renaming.
 * - A reader more than its hold behind, or reaching a generation the holder
 *   may have missed the start of, fails with {@link MissedRotationError}
 *   after delivering everything before. It never silently skips.
 * - A text log replaced by a new file restarts at the new file's beginning; a
 *   file truncated in place below the reader's offset (copytruncate) is
 *   reported as a warning and read again from its start.
 */
import { MissedRotationError } from '../errors.js';
import { rotatedPath, type LogFileSpec } from '../files/layout.js';
import { generationOfNow, openLogFile } from '../files/log-file.js';
import type { FilePosition } from '../format/cursor.js';
import type { Entry } from '../format/entry.js';
import { LineOutcome, parseJsonLine, parseTextFileLine, type EntryFilter } from './filter.js';
import { GenerationHolder, type GenerationLease } from './generation-holder.js';
import { GrepPrefilter } from './grep-prefilter.js';
import { LineReader, endOfWholeLines, type LineBlock } from './line-reader.js';
import { startRotating, startText, type ReaderStart } from './start-position.js';

export type { ReaderStart } from './start-position.js';

/** Something a reader noticed that its caller may want to tell a person. */
export interface LogWarning {
  readonly code: 'MALFORMED_RECORD' | 'FILE_TRUNCATED' | 'OVERSIZED_RECORD';
  readonly message: string;
  readonly file: string;
}

/** A batch of entries, and the reader's position after the whole batch (skipped lines included). */
export interface ReaderBatch {
  readonly entries: Entry[];
  readonly end: FilePosition;
}

/** How a {@link FileReader} is opened. */
export interface FileReaderOptions {
  readonly spec: LogFileSpec;
  readonly logDir: string;
  /** The file's place in the stream's table of files (entries carry it). */
  readonly index: number;
  readonly filter: EntryFilter;
  readonly start: ReaderStart;
  readonly onWarning: (warning: LogWarning) => void;
  /** Whether the stream follows: its reader's lease makes the holder watch the directory. */
  readonly following: boolean;
  /** Departed generations a rotating file's reader may fall behind before it misses a rotation. */
  readonly holdGenerations: number;
}

/**
 * Keeps the lines of `entries`, read into a buffer the line reader reuses:
 * when they are less than half the block, they are moved into one buffer of
 * their own, packed (a read that keeps a tenth of what it reads holds a
 * tenth of it); otherwise the entries keep the read buffer itself and the
 * reader reads into a new one (a copy of most of the block would cost more).
 */
function keepLines(entries: readonly Entry[], block: LineBlock, reader: LineReader): void {
  if (entries.length === 0) return;
  let bytes = 0;
  for (const entry of entries) bytes += entry.lineBytes;
  if (bytes * 2 >= block.end - block.start) {
    reader.disown(block.buffer);
    return;
  }
  const kept = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const entry of entries) at = entry.moveLineTo(kept, at);
}

export class FileReader {
  readonly spec: LogFileSpec;
  readonly index: number;
  /** Position after the last line consumed. */
  consumed: FilePosition;
  /** True once an entry at or after `until` was met: nothing more comes from this file. */
  reachedUntil = false;
  /** Malformed records skipped so far. */
  malformed = 0;

  private readonly primaryPath: string;
  private readonly filter: EntryFilter;
  /** Skips the lines `--grep` certainly does not match before they are parsed. */
  private readonly prefilter: GrepPrefilter | undefined;
  private readonly onWarning: (warning: LogWarning) => void;
  /** The rotating file's claim on the generations it reads; undefined for a text log. */
  private readonly lease: GenerationLease | undefined;
  /** The file being read. */
  private line: LineReader | undefined;
  /** The next generation (rotating) or the live name's new file (text) was seen before the last read began. */
  private successorSeen = false;
  /** A text log's name was seen to hold another file; it is read once more before leaving it. */
  private liveMoved = false;
  /** Failed or closed: nothing more is read (asked again, it must not start over). */
  private ended = false;
  /** The stream follows: reads end at a wake-up's drained file (see next()). */
  private readonly following: boolean;
  private fallbackTime = Date.now();
  private readonly result: { entry: Entry | undefined } = { entry: undefined };

  private constructor(options: FileReaderOptions, lease: GenerationLease | undefined) {
    this.spec = options.spec;
    this.index = options.index;
    this.filter = options.filter;
    this.prefilter = GrepPrefilter.for(options.filter, options.spec.format);
    this.onWarning = options.onWarning;
    this.primaryPath = rotatedPath(options.logDir, options.spec.fileName, 0);
    this.lease = lease;
    this.following = options.following;
    this.consumed = options.start.kind === 'position' ? options.start.position : { generation: 0n, offset: 0 };
  }

  /** Opens a reader; a position that cannot be found fails here, before any entry. */
  static async open(options: FileReaderOptions): Promise<FileReader> {
    const { spec, logDir, start, filter } = options;
    const lease = spec.rotates
      ? GenerationHolder.lease(logDir, spec.fileName, { hold: options.holdGenerations, following: options.following })
      : undefined;
    const reader = new FileReader(options, lease);
    try {
      const point =
        lease === undefined
          ? await startText(reader.primaryPath, spec, start, (message) => reader.warn('FILE_TRUNCATED', message))
          : await startRotating(lease, spec, start, filter.since);
      reader.line = point.line;
      reader.consumed = point.consumed;
    } catch (error) {
      await reader.close();
      throw error;
    }
    return reader;
  }

  private warn(code: LogWarning['code'], message: string): void {
    this.onWarning({ code, message, file: this.spec.fileName });
  }

  /**
   * The next batch (possibly empty when only skipped lines were read), or
   * undefined when nothing new is there now.
   */
  async next(): Promise<ReaderBatch | undefined> {
    if (this.reachedUntil || this.ended) return undefined;
    for (;;) {
      const line = this.line;
      if (line === undefined) {
        if (!(await this.openFirstFile())) return undefined;
        continue;
      }
      const lease = this.lease;
      if (lease !== undefined) {
        if (lease.at!.released) this.fail(line);
        this.successorSeen = lease.holder.after(lease.at!) !== undefined;
      }
      if (this.idleUntilWoken()) return undefined;
      let block: Awaited<ReturnType<typeof line.next>>;
      try {
        block = await line.next();
      } catch (error) {
        // The holder closed the generation under the read: the reader fell more than its hold behind.
        if (lease?.at?.released === true) this.fail(line);
        throw error;
      }
      this.countOversized(line);
      if (block !== undefined) {
        // A reader that reads keeps the holder up to date even where no watcher reports rotations, or where
        // its events were dropped: inotify's queue overflows under a producer that rotates fast, and a
        // follower that read to the end and waited for the next event could wait until the new generations
        // had left retention (bench/rotation.js lost records that way). After a look that finds one, the
        // reader is not idle (idleUntilWoken) and goes on to it.
        lease?.holder.look();
        return this.parse(block, line);
      }
      const more = lease === undefined ? await this.followText(line) : this.followRotating(line, lease);
      if (!more) return undefined;
    }
  }

  private countOversized(line: LineReader): void {
    if (line.oversizedLines === 0) return;
    this.malformed += line.oversizedLines;
    this.warn(
      'OVERSIZED_RECORD',
      `skipped ${line.oversizedLines} record(s) of ${this.spec.fileName} longer than the largest record read`,
    );
    line.oversizedLines = 0;
  }

  // Nothing was held (no file existed): take whatever exists now.
  private async openFirstFile(): Promise<boolean> {
    if (this.lease !== undefined) {
      if (!this.lease.holder.startAtOldest(this.lease)) return false;
      this.line = new LineReader(this.lease.at!.file, 0);
      return true;
    }
    const file = await openLogFile(this.primaryPath);
    if (file === undefined) return false;
    this.line = new LineReader(file, 0);
    return true;
  }

  // The reader is at the end of its generation: moves on to the next one when there is one. True when there is more to read.
  private followRotating(line: LineReader, lease: GenerationLease): boolean {
    const holder = lease.holder;
    const at = lease.at!;
    let next = holder.after(at);
    let live: bigint | undefined;
    if (next === undefined) {
      live = holder.look();
      if (at.released) this.fail(line);
      next = holder.after(at);
    }
    if (next === undefined) {
      if (live !== at.generation || line.sizeNow() >= line.offset) return false;
      return this.restartTruncated(line, at.generation);
    }
    // The last read began before the next generation was seen: the old one may have taken a last write. Read it once more.
    if (!this.successorSeen) return true;
    if (next.afterGap || next.released) this.fail(line);
    holder.advance(lease, next);
    this.line = new LineReader(next.file, 0);
    return true;
  }

  // Ends the reader with the error that says how far it got; its generations are let go at once.
  private fail(line: LineReader): never {
    this.ended = true;
    const generation = this.lease!.at!.generation;
    this.lease!.holder.release(this.lease!);
    throw new MissedRotationError(this.spec.fileName, generation, line.offset);
  }

  // The file was truncated in place below where the reader got: it is read again from its start.
  private restartTruncated(line: LineReader, generation: bigint): true {
    this.warn(
      'FILE_TRUNCATED',
      `${this.spec.fileName} was truncated in place below offset ${line.offset}; reading it again from the start`,
    );
    line.offset = 0;
    this.consumed = { generation, offset: 0 };
    return true;
  }

  // A text log at its end: see whether its name now holds another file. True when there is more to read.
  private async followText(line: LineReader): Promise<boolean> {
    const current = generationOfNow(this.primaryPath);
    if (current === undefined) return false;
    if (current === line.generation) {
      if (line.sizeNow() >= line.offset) return false;
      return this.restartTruncated(line, line.generation);
    }
    // The old file may have taken a last write between our read and the replacement: read it once more first.
    if (!this.liveMoved) {
      this.liveMoved = true;
      return true;
    }
    const file = await openLogFile(this.primaryPath);
    if (file === undefined) return false;
    await line.close();
    this.line = new LineReader(file, 0);
    this.liveMoved = false;
    return true;
  }

  private parse(block: LineBlock, reader: LineReader): ReaderBatch {
    const { buffer, start, end, fileOffset } = block;
    const generation = reader.generation;
    const entries: Entry[] = [];
    const result = this.result;
    const jsonl = this.spec.format === 'jsonl';
    const fallbackTime = this.fallbackTime;
    const prefilter = this.prefilter;
    prefilter?.startBlock(buffer, end);
    let lineStart = start;
    while (lineStart < end) {
      const newline = buffer.indexOf(0x0a, lineStart);
      if (newline > lineStart && (prefilter === undefined || !prefilter.skips(lineStart, newline))) {
        const offset = fileOffset + (newline + 1 - start);
        const outcome = jsonl
          ? parseJsonLine(buffer, lineStart, newline, generation, offset, this.index, this.filter, result)
          : parseTextFileLine(
              buffer,
              lineStart,
              newline,
              generation,
              offset,
              this.index,
              this.filter,
              fallbackTime,
              result,
            );
        if (outcome === LineOutcome.Kept) {
          entries.push(result.entry!);
        } else if (outcome === LineOutcome.Malformed) {
          this.malformed += 1;
          this.warn(
            'MALFORMED_RECORD',
            `skipped a malformed record ending at offset ${offset} of ${this.spec.fileName} (generation ${generation})`,
          );
        } else if (outcome === LineOutcome.Until) {
          this.reachedUntil = true;
          this.consumed = { generation, offset: fileOffset + (lineStart - start) };
          if (block.reused) keepLines(entries, block, reader);
          return { entries, end: this.consumed };
        }
      }
      lineStart = newline + 1;
    }
    this.consumed = { generation, offset: fileOffset + (end - start) };
    if (block.reused) keepLines(entries, block, reader);
    return { entries, end: this.consumed };
  }

  /** Refreshes the modification time that text lines without a timestamp fall back to. */
  async refreshFallbackTime(): Promise<void> {
    if (this.spec.format !== 'text' || this.line === undefined) return;
    this.fallbackTime = await this.line.modifiedTime();
  }

  /** Position after the last whole line of the newest file: where a follower of everything read so far resumes. */
  async endOfData(): Promise<FilePosition> {
    const newest = this.lease === undefined ? this.line?.file : this.lease.holder.newest()?.file;
    if (newest === undefined || this.ended) return this.consumed;
    const size = Number((await newest.handle.stat({ bigint: true })).size);
    return { generation: newest.generation, offset: await endOfWholeLines(newest, size) };
  }

  /**
   * A follower that has just read its file to the end looks again only when
   * woken: whatever is written (or renamed, or truncated) after that read
   * wakes it. A read that began before a successor was seen does not count as
   * the last one of its generation, nor one before a text log's replacement.
   */
  idleUntilWoken(): boolean {
    const line = this.line;
    if (!this.following || line === undefined || !line.drained || this.liveMoved) return false;
    const lease = this.lease;
    return lease === undefined || lease.holder.after(lease.at!) === undefined;
  }

  /** Text lines without a time of their own take the file's modification time (see {@link refreshFallbackTime}). */
  get timesFromFile(): boolean {
    return this.spec.format === 'text';
  }

  /** The stream was woken (a directory event or a poll): the next read looks at the file again. */
  woken(): void {
    this.line?.woken();
  }

  /** The stream stopped following (aborted): the holder need not watch the directory for this reader any more. */
  stopFollowing(): void {
    if (this.lease !== undefined) this.lease.holder.unfollow(this.lease);
  }

  async close(): Promise<void> {
    this.ended = true;
    const line = this.line;
    this.line = undefined;
    if (this.lease !== undefined) this.lease.holder.release(this.lease);
    else await line?.close();
  }
}
