/**
 * Reading one log file of a directory (exec.log with its rotation chain, or a
 * plain text log) forwards, across rotations, from the beginning, from a time
 * or from a cursor position.
 *
 * Contracts:
 * - Entries come out in file order, each exactly once.
 * - Every file of the chain is opened when the reader starts, so files that
 *   rotate while earlier ones are being read keep their bytes for it.
 * - The newest file the reader holds is its "live" file, and it stays open
 *   until a newer file has been taken: inode numbers are reused once a file
 *   is gone, and only an open descriptor makes an inode number a reliable
 *   name for a file.
 * - When the live file's name points at another inode, the old inode is read
 *   to its end first (once more after noticing: the writer may have appended
 *   just before renaming), then the files between it and the new live file,
 *   then the new live file.
 * - If the live file has left the chain by the time the reader looks, files
 *   after it may have gone too: the reader fails with
 *   {@link MissedRotationError}, after delivering everything it held. It
 *   never silently skips.
 * - A text log replaced by a new file restarts at the new file's beginning; a
 *   file truncated in place below the reader's offset (copytruncate) is
 *   reported as a warning and read again from its start.
 */
import { InvalidCursorError, MissedRotationError } from '../errors.js';
import { RotationChain, type ChainMember } from '../files/chain.js';
import { generationOfNow, openLogFile, type OpenLogFile } from '../files/log-file.js';
import type { LogFileSpec } from '../files/layout.js';
import { START_POSITION, type FilePosition } from '../format/cursor.js';
import type { Entry } from '../format/entry.js';
import { firstRecordNotBefore, lastEntryTime } from './backward.js';
import { LineOutcome, parseJsonLine, parseTextFileLine, type EntryFilter } from './filter.js';
import { LineReader, endOfWholeLines, isLineBoundary, type LineBlock } from './line-reader.js';

/** Something a reader noticed that its caller may want to tell a person. */
export interface LogWarning {
  readonly code: 'MALFORMED_RECORD' | 'FILE_TRUNCATED' | 'OVERSIZED_RECORD';
  readonly message: string;
  readonly file: string;
}

/** Where a reader starts. */
export type ReaderStart =
  | { readonly kind: 'beginning' }
  | { readonly kind: 'position'; readonly position: FilePosition; readonly strict: boolean };

/** A batch of entries, and the reader's position after the whole batch (skipped lines included). */
export interface ReaderBatch {
  readonly entries: Entry[];
  readonly end: FilePosition;
}

// Rotations can move files between a scan and an open; the reader scans again this many times.
const MAX_OPEN_ATTEMPTS = 8;
/** Below this many bytes, `since` and `tail` read the files whole rather than trust them to be in time order. */
export const EXACT_READ_BYTES = 4 * 1024 * 1024;
// A block this large from the live file means the reader is behind the writer.
const CATCH_UP_BLOCK_BYTES = 128 * 1024;

export class SourceReader {
  readonly spec: LogFileSpec;
  readonly index: number;
  /** Position after the last line consumed. */
  consumed: FilePosition;
  /** True once an entry at or after `until` was met: nothing more comes from this file. */
  reachedUntil = false;
  /** Malformed records skipped so far. */
  malformed = 0;

  private readonly chain: RotationChain;
  private readonly filter: EntryFilter;
  private readonly onWarning: (warning: LogWarning) => void;
  /** Older files still to read, oldest first. */
  private readonly queue: LineReader[] = [];
  /** The newest file held (for exec.log possibly a rotated one, when no newer file exists yet). */
  private live: LineReader | undefined;
  /** Set once the live file's name was seen to hold another file; it is then read once more before leaving it. */
  private liveMoved = false;
  private fallbackTime = Date.now();
  /** Rename events in the directory (from the watcher), and how many this reader has acted on. */
  private readonly renames: { readonly count: number };
  private renamesSeen: number;
  /** Serializes {@link takeNewFiles} between the consumer's reads and background rename notices. */
  private discovery: Promise<unknown> = Promise.resolve();
  /** A background look queued and not started yet: it will see every rename before it starts, so one is enough. */
  private backgroundLookQueued = false;
  /** Generation last seen at the live file's name by {@link takeNewFiles}. */
  private primarySeen: bigint | undefined;
  private readonly result: { entry: Entry | undefined } = { entry: undefined };

  private constructor(
    spec: LogFileSpec,
    logDir: string,
    index: number,
    filter: EntryFilter,
    onWarning: (warning: LogWarning) => void,
    initial: FilePosition,
    renames: { readonly count: number },
  ) {
    this.renames = renames;
    this.renamesSeen = renames.count;
    this.spec = spec;
    this.index = index;
    this.filter = filter;
    this.onWarning = onWarning;
    this.chain = new RotationChain(logDir, spec.fileName);
    this.consumed = initial;
  }

  /** Opens a reader; a position that cannot be found fails here, before any entry. */
  static async open(
    spec: LogFileSpec,
    logDir: string,
    index: number,
    filter: EntryFilter,
    start: ReaderStart,
    onWarning: (warning: LogWarning) => void,
    renames: { readonly count: number } = { count: 0 },
  ): Promise<SourceReader> {
    const position = start.kind === 'position' ? start.position : START_POSITION;
    const reader = new SourceReader(spec, logDir, index, filter, onWarning, position, renames);
    try {
      if (start.kind === 'position' && position.generation !== 0n) {
        await (spec.rotates ? reader.seekRotating(position, start.strict) : reader.seekText(position, start.strict));
      } else {
        await reader.openFromBeginning();
      }
    } catch (error) {
      await reader.close();
      throw error;
    }
    return reader;
  }

  private get primaryPath(): string {
    return this.chain.path(0);
  }

  // ---- Opening ----------------------------------------------------------------------------------

  // Opens every member (oldest first), or none — closing what it opened — when a rotation moved one meanwhile.
  private async openAll(members: readonly ChainMember[]): Promise<OpenLogFile[] | undefined> {
    const files: OpenLogFile[] = [];
    for (const member of members) {
      const file = await openLogFile(this.chain.path(member.index));
      if (file === undefined || file.generation !== member.generation) {
        await Promise.all([...files, ...(file === undefined ? [] : [file])].map((f) => f.handle.close().catch(() => undefined)));
        return undefined;
      }
      files.push(file);
    }
    return files;
  }

  // Takes opened files (oldest first): the newest becomes the live file, the others queue before it.
  private take(files: readonly OpenLogFile[], firstOffset = 0): void {
    files.forEach((file, i) => {
      const reader = new LineReader(file, i === 0 ? firstOffset : 0);
      if (i === files.length - 1) {
        this.live = reader;
        this.liveMoved = false;
      } else {
        this.queue.push(reader);
      }
    });
  }

  private async openFromBeginning(): Promise<void> {
    if (!this.spec.rotates) {
      const file = await openLogFile(this.primaryPath);
      if (file !== undefined) this.take([file]);
    } else {
      for (let attempt = 0; attempt < MAX_OPEN_ATTEMPTS; attempt++) {
        const files = await this.openAll((await this.chain.scan()).reverse());
        if (files !== undefined) {
          this.take(files);
          break;
        }
      }
    }
    await this.skipFilesBeforeSince();
  }

  // With a lower time bound, whole files whose last entry is older are passed over unparsed.
  private async skipFilesBeforeSince(): Promise<void> {
    // Text logs are not in time order (lines without a time prefix take the file's mtime): read whole.
    if (this.filter.since === -Infinity || this.spec.format === 'text') return;
    const files = [...this.queue, ...(this.live === undefined ? [] : [this.live])];
    // A small chain is read whole: exact (as microsandbox) even if its records are not in time order.
    let total = 0;
    for (const reader of files) total += await reader.size();
    if (total <= EXACT_READ_BYTES) return;
    for (const reader of files) {
      const end = await endOfWholeLines(reader.file, await reader.size());
      const last = await lastEntryTime(reader.file, end, this.spec.format);
      if (last === undefined || last >= this.filter.since) {
        // The first file that reaches `since`: start inside it, near the first record that does.
        if (last !== undefined && this.spec.format === 'jsonl') {
          reader.offset = await firstRecordNotBefore(reader.file, reader.offset, end, this.filter.since);
        }
        break;
      }
      reader.offset = end;
      this.consumed = { generation: reader.generation, offset: end };
    }
  }

  private async seekRotating(position: FilePosition, strict: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const members = await this.chain.scan();
      const found = members.find((member) => member.generation === position.generation);
      if (found === undefined) {
        throw new InvalidCursorError(
          `invalid cursor: ${this.spec.fileName} generation ${position.generation} is not in the current rotation chain`,
        );
      }
      const files = await this.openAll(members.filter((member) => member.index <= found.index).reverse());
      if (files === undefined) {
        if (attempt < MAX_OPEN_ATTEMPTS) continue;
        throw new InvalidCursorError(`invalid cursor: ${this.spec.fileName} generation ${position.generation} could not be opened`);
      }
      try {
        await this.checkOffset(files[0]!, position, strict);
      } catch (error) {
        await Promise.all(files.map((file) => file.handle.close().catch(() => undefined)));
        throw error;
      }
      this.take(files, position.offset);
      return;
    }
  }

  private async seekText(position: FilePosition, strict: boolean): Promise<void> {
    const file = await openLogFile(this.primaryPath);
    if (file === undefined) return;
    if (file.generation !== position.generation) {
      // Another file holds the name now: the one the cursor knew was replaced, so all of this one is new.
      this.take([file]);
      this.consumed = START_POSITION;
      return;
    }
    const size = Number((await file.handle.stat({ bigint: true })).size);
    if (position.offset > size) {
      this.warn('FILE_TRUNCATED', `${this.spec.fileName} is shorter than the cursor's offset ${position.offset}: it was truncated; reading it from the start`);
      this.take([file]);
      this.consumed = { generation: file.generation, offset: 0 };
      return;
    }
    try {
      await this.checkOffset(file, position, strict);
    } catch (error) {
      await file.handle.close().catch(() => undefined);
      throw error;
    }
    this.take([file], position.offset);
  }

  // A cursor's offset must be a line boundary within its file, or the cursor was not made by a reader of it.
  private async checkOffset(file: OpenLogFile, position: FilePosition, strict: boolean): Promise<void> {
    if (!strict) return;
    const size = Number((await file.handle.stat({ bigint: true })).size);
    if (position.offset > size || !(await isLineBoundary(file, position.offset))) {
      throw new InvalidCursorError(
        `invalid cursor: offset ${position.offset} is not a record boundary of ${this.spec.fileName} generation ${position.generation}`,
      );
    }
  }

  private warn(code: LogWarning['code'], message: string): void {
    this.onWarning({ code, message, file: this.spec.fileName });
  }

  // ---- Reading ----------------------------------------------------------------------------------

  /**
   * The next batch (possibly empty when only skipped lines were read), or
   * undefined when nothing new is there now.
   */
  async next(): Promise<ReaderBatch | undefined> {
    if (this.reachedUntil) return undefined;
    for (;;) {
      const reader = this.queue[0] ?? this.live;
      if (reader === undefined) {
        if (!(await this.openFirstFile())) return undefined;
        continue;
      }
      const block = await reader.next();
      this.countOversized(reader);
      if (block !== undefined) {
        // A reader that is behind (reading old files, big blocks of the live one, or told of a rename)
        // takes newer files as soon as they appear, so that their bytes stay readable however fast they rotate.
        const renamed = this.renames.count !== this.renamesSeen;
        this.renamesSeen = this.renames.count;
        if (renamed || reader !== this.live || block.end - block.start >= CATCH_UP_BLOCK_BYTES) await this.takeNewFiles(renamed);
        return this.parse(block, reader);
      }
      if (reader !== this.live) {
        // A queued file ends for good; a newer one is already held.
        this.queue.shift();
        await reader.close();
        continue;
      }
      if (!(await this.followLiveChange(reader))) {
        // A background look (noticeRename) may have taken newer files while this one looked: read those.
        if (this.queue.length > 0 || this.live !== reader) continue;
        return undefined;
      }
    }
  }

  private countOversized(reader: LineReader): void {
    if (reader.oversizedLines === 0) return;
    this.malformed += reader.oversizedLines;
    this.warn('OVERSIZED_RECORD', `skipped ${reader.oversizedLines} record(s) of ${this.spec.fileName} longer than the largest record read`);
    reader.oversizedLines = 0;
  }

  // Nothing was held (no file existed): take whatever exists now.
  private async openFirstFile(): Promise<boolean> {
    if (!this.spec.rotates) {
      const file = await openLogFile(this.primaryPath);
      if (file !== undefined) this.take([file]);
      return file !== undefined;
    }
    const files = await this.openAll((await this.chain.scan()).reverse());
    if (files === undefined || files.length === 0) return false;
    this.take(files);
    return true;
  }

  /**
   * Told by the stream that a name in the directory appeared or vanished (a
   * rotation): takes the new files in the background, while the consumer is
   * busy, so that a follower that keeps up is never outrun by renames. It
   * holds at most as many files as the chain retains: a consumer that falls
   * further behind meets the gap as a missed rotation, as it should.
   */
  noticeRename(): void {
    if (!this.spec.rotates || this.live === undefined || this.reachedUntil) return;
    // Coalesced: a rotating writer sends renames faster than a look takes, and a queue of looks per
    // follower would starve the consumer's own look (queued behind them) until it falls out of retention.
    if (this.backgroundLookQueued) return;
    this.backgroundLookQueued = true;
    void this.takeNewFiles(true, true, () => {
      this.backgroundLookQueued = false;
    }).catch(() => undefined);
  }

  /**
   * If the live file's name holds another file now, takes the files newer
   * than the live one; the live one keeps its place at the end of the queue
   * and is read to its end first. `gone` when the live file already left the
   * chain (what followed it cannot be known any more). Calls are serialized.
   */
  private takeNewFiles(force: boolean, bounded = false, starting?: () => void): Promise<'taken' | 'gone' | 'none'> {
    const run = this.discovery.then(() => {
      starting?.();
      return this.takeNewFilesNow(force, bounded);
    });
    this.discovery = run.catch(() => undefined);
    return run;
  }

  private async takeNewFilesNow(force: boolean, bounded: boolean): Promise<'taken' | 'gone' | 'none'> {
    const live = this.live;
    if (!this.spec.rotates || live === undefined) return 'none';
    // Synchronous: a thousand followers told of renames at once must not queue their looks behind each other.
    const current = generationOfNow(this.primaryPath);
    if (current === undefined || current === live.generation || (!force && current === this.primarySeen)) return 'none';
    this.primarySeen = current;
    for (let attempt = 0; attempt < MAX_OPEN_ATTEMPTS; attempt++) {
      const members = await this.chain.scan();
      if (this.live !== live) return 'none';
      if (bounded && this.queue.length + 1 >= members.length) return 'none';
      // `live` is open, so no other file can carry its inode number: a match is really it.
      const found = members.find((member) => member.generation === live.generation);
      if (found === undefined) return 'gone';
      const newer = members.filter((member) => member.index < found.index);
      if (newer.length === 0) return 'none';
      const files = await this.openAll(newer.reverse());
      if (files === undefined) continue;
      if (this.live !== live) {
        await Promise.all(files.map((file) => file.handle.close().catch(() => undefined)));
        return 'none';
      }
      this.queue.push(live);
      this.take(files);
      return 'taken';
    }
    return 'none';
  }

  // The live file is at its end: see whether its name now holds another file. True when there is more to read.
  private async followLiveChange(live: LineReader): Promise<boolean> {
    const current = generationOfNow(this.primaryPath);
    if (current === undefined) return false;
    if (current === live.generation) {
      const size = live.sizeNow();
      if (size >= live.offset) return false;
      this.warn('FILE_TRUNCATED', `${this.spec.fileName} was truncated in place below offset ${live.offset}; reading it again from the start`);
      live.offset = 0;
      this.consumed = { generation: live.generation, offset: 0 };
      return true;
    }
    if (this.spec.rotates) {
      const outcome = await this.takeNewFiles(true);
      if (outcome === 'taken') return true;
      if (outcome === 'none') return false;
    }
    // The old file may have taken a last write between our read and the rename: read it once more first.
    if (!this.liveMoved) {
      this.liveMoved = true;
      return true;
    }
    if (this.spec.rotates) {
      await live.close();
      this.live = undefined;
      throw new MissedRotationError(this.spec.fileName, live.generation, live.offset);
    }
    const file = await openLogFile(this.primaryPath);
    if (file === undefined) return false;
    await live.close();
    this.take([file]);
    return true;
  }

  private parse(block: LineBlock, reader: LineReader): ReaderBatch {
    const { buffer, start, end, fileOffset } = block;
    const generation = reader.generation;
    const entries: Entry[] = [];
    const result = this.result;
    const jsonl = this.spec.format === 'jsonl';
    const fallbackTime = this.fallbackTime;
    let lineStart = start;
    while (lineStart < end) {
      const newline = buffer.indexOf(0x0a, lineStart);
      if (newline > lineStart) {
        const position = { generation, offset: fileOffset + (newline + 1 - start) };
        const outcome = jsonl
          ? parseJsonLine(buffer, lineStart, newline, position, this.index, this.filter, result)
          : parseTextFileLine(buffer, lineStart, newline, position, this.index, this.filter, fallbackTime, result);
        if (outcome === LineOutcome.Kept) {
          entries.push(result.entry!);
        } else if (outcome === LineOutcome.Malformed) {
          this.malformed += 1;
          this.warn('MALFORMED_RECORD', `skipped a malformed record ending at offset ${position.offset} of ${this.spec.fileName} (generation ${generation})`);
        } else if (outcome === LineOutcome.Until) {
          this.reachedUntil = true;
          this.consumed = { generation, offset: fileOffset + (lineStart - start) };
          return { entries, end: this.consumed };
        }
      }
      lineStart = newline + 1;
    }
    this.consumed = { generation, offset: fileOffset + (end - start) };
    return { entries, end: this.consumed };
  }

  /** Refreshes the modification time that text lines without a timestamp fall back to. */
  async refreshFallbackTime(): Promise<void> {
    if (this.spec.format !== 'text') return;
    const reader = this.queue[0] ?? this.live;
    if (reader !== undefined) this.fallbackTime = await reader.modifiedTime();
  }

  /** Position after the last whole line of the newest file: where a follower of everything read so far resumes. */
  async endOfData(): Promise<FilePosition> {
    const newest = this.live;
    if (newest === undefined) return this.consumed;
    return { generation: newest.generation, offset: await endOfWholeLines(newest.file, await newest.size()) };
  }

  async close(): Promise<void> {
    const readers = [...this.queue, ...(this.live === undefined ? [] : [this.live])];
    this.queue.length = 0;
    this.live = undefined;
    await Promise.all(readers.map((reader) => reader.close()));
  }
}
