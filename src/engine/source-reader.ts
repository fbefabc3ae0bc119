/**
 * Reading one log file of a directory (exec.log with its rotation chain, or a
 * plain text log) forwards, across rotations, from the beginning, from a time
 * or from a cursor position.
 *
 * Contracts:
 * - Entries come out in file order, each exactly once.
 * - Every file of the chain is opened when the reader starts, so files that
 *   rotate while earlier ones are being read keep their bytes for it.
 * - When the live file's name points at a new inode, the old inode is read to
 *   its end first, then the files between it and the new live file, then the
 *   new live file.
 * - If the file being read has left the chain and the file after it cannot be
 *   identified, the reader fails with {@link MissedRotationError} (after
 *   delivering everything it still held): it never silently skips.
 * - A text log replaced by a new file restarts at the new file's beginning; a
 *   file truncated in place below the reader's offset (copytruncate) is
 *   reported as a warning and read again from its start.
 */
import { InvalidCursorError, MissedRotationError } from '../errors.js';
import { RotationChain, type ChainMember } from '../files/chain.js';
import { generationOf, openLogFile, type OpenLogFile } from '../files/log-file.js';
import type { LogFileSpec } from '../files/layout.js';
import { START_POSITION, type FilePosition } from '../format/cursor.js';
import type { Entry } from '../format/entry.js';
import { LineOutcome, parseJsonLine, parseTextFileLine, type EntryFilter } from './filter.js';
import { LineReader, endOfWholeLines, isLineBoundary, type LineBlock } from './line-reader.js';
import { lastEntryTime } from './backward.js';

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
  private readonly queue: LineReader[] = [];
  private live: LineReader | undefined;
  private readonly seen = new Set<bigint>();
  private readonly successors = new Map<bigint, bigint>();
  private readonly result: { entry: Entry | undefined } = { entry: undefined };

  private constructor(
    spec: LogFileSpec,
    logDir: string,
    index: number,
    filter: EntryFilter,
    onWarning: (warning: LogWarning) => void,
    initial: FilePosition,
  ) {
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
  ): Promise<SourceReader> {
    const position = start.kind === 'position' ? start.position : START_POSITION;
    const reader = new SourceReader(spec, logDir, index, filter, onWarning, position);
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

  private note(members: readonly ChainMember[]): void {
    // Consecutive indexes are consecutive generations: remember who follows whom.
    for (let i = 1; i < members.length; i++) {
      if (members[i]!.index === members[i - 1]!.index + 1) this.successors.set(members[i]!.generation, members[i - 1]!.generation);
    }
  }

  // Opens the file at a chain index, provided it still holds the expected generation.
  private async openMember(member: ChainMember): Promise<OpenLogFile | undefined> {
    const file = await openLogFile(this.chain.path(member.index));
    if (file === undefined) return undefined;
    if (file.generation !== member.generation) {
      await file.handle.close();
      return undefined;
    }
    return file;
  }

  private async openFromBeginning(): Promise<void> {
    if (!this.spec.rotates) {
      const file = await openLogFile(this.primaryPath);
      if (file !== undefined) this.setLive(new LineReader(file, 0));
      await this.skipFilesBeforeSince();
      return;
    }
    // Retry when a rotation moves a file between the scan and the open.
    for (let attempt = 0; ; attempt++) {
      const members = await this.chain.scan();
      const opened: LineReader[] = [];
      let raced = false;
      for (const member of [...members].reverse()) {
        const file = await this.openMember(member);
        if (file === undefined) {
          raced = true;
          break;
        }
        opened.push(new LineReader(file, 0));
      }
      if (raced && attempt < 8) {
        await Promise.all(opened.map((reader) => reader.close()));
        continue;
      }
      this.note(members);
      const live = opened.length > 0 && members[0]?.index === 0 ? opened.pop() : undefined;
      for (const reader of opened) this.enqueue(reader);
      if (live !== undefined) this.setLive(live);
      break;
    }
    await this.skipFilesBeforeSince();
  }

  // With a lower time bound, whole files whose last entry is older are passed over unparsed.
  private async skipFilesBeforeSince(): Promise<void> {
    if (this.filter.since === -Infinity) return;
    for (const reader of [...this.queue, ...(this.live === undefined ? [] : [this.live])]) {
      const size = await reader.size();
      const end = await endOfWholeLines(reader.file, size);
      const last = await lastEntryTime(reader.file, end, this.spec.format);
      if (last === undefined || last >= this.filter.since) break;
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
      const newer = members.filter((member) => member.index < found.index);
      const files: OpenLogFile[] = [];
      let raced = false;
      for (const member of [found, ...newer.reverse()]) {
        const file = await this.openMember(member);
        if (file === undefined) {
          raced = true;
          break;
        }
        files.push(file);
      }
      if (raced && attempt < 8) {
        await Promise.all(files.map((file) => file.handle.close()));
        continue;
      }
      this.note(members);
      const first = files[0];
      if (first === undefined) {
        throw new InvalidCursorError(`invalid cursor: ${this.spec.fileName} generation ${position.generation} could not be opened`);
      }
      await this.checkOffset(first, position, strict);
      const readers = files.map((file, i) => new LineReader(file, i === 0 ? position.offset : 0));
      const live = found.index === 0 || members[0]?.index === 0 ? readers.pop() : undefined;
      for (const reader of readers) this.enqueue(reader);
      if (live !== undefined) this.setLive(live);
      return;
    }
  }

  private async seekText(position: FilePosition, strict: boolean): Promise<void> {
    const file = await openLogFile(this.primaryPath);
    if (file === undefined) return;
    if (file.generation !== position.generation) {
      // A different file now holds the name: the one the cursor knew was replaced, so all of this one is new.
      this.setLive(new LineReader(file, 0));
      this.consumed = START_POSITION;
      return;
    }
    const size = Number((await file.handle.stat({ bigint: true })).size);
    if (position.offset > size) {
      this.warn('FILE_TRUNCATED', `${this.spec.fileName} is shorter than the cursor's offset ${position.offset}: it was truncated; reading it from the start`);
      this.setLive(new LineReader(file, 0));
      this.consumed = { generation: file.generation, offset: 0 };
      return;
    }
    await this.checkOffset(file, position, strict);
    this.setLive(new LineReader(file, position.offset));
  }

  // A cursor's offset must be a line boundary within the file, or the cursor was not made by a reader of it.
  private async checkOffset(file: OpenLogFile, position: FilePosition, strict: boolean): Promise<void> {
    if (!strict) return;
    const size = Number((await file.handle.stat({ bigint: true })).size);
    if (position.offset > size || !(await isLineBoundary(file, position.offset))) {
      await file.handle.close().catch(() => undefined);
      throw new InvalidCursorError(
        `invalid cursor: offset ${position.offset} is not a record boundary of ${this.spec.fileName} generation ${position.generation}`,
      );
    }
  }

  private enqueue(reader: LineReader): void {
    this.seen.add(reader.generation);
    this.queue.push(reader);
  }

  private setLive(reader: LineReader): void {
    this.seen.add(reader.generation);
    this.live = reader;
  }

  private warn(code: LogWarning['code'], message: string): void {
    this.onWarning({ code, message, file: this.spec.fileName });
  }

  /**
   * The next batch (possibly empty when only skipped lines were read), or
   * undefined when nothing new is there now.
   */
  async next(): Promise<ReaderBatch | undefined> {
    if (this.reachedUntil) return undefined;
    for (;;) {
      const reader = this.queue[0] ?? this.live;
      if (reader === undefined) {
        if (!(await this.openLateLive())) return undefined;
        continue;
      }
      const block = await reader.next();
      this.reportOversized(reader);
      if (block !== undefined) return this.parse(block, reader);
      if (reader !== this.live) {
        // A rotated file ends for good: on to the next one.
        this.queue.shift();
        await reader.close();
        continue;
      }
      if (!(await this.followLiveChange(reader))) return undefined;
    }
  }

  private reportOversized(reader: LineReader): void {
    if (reader.oversizedLines === 0) return;
    this.malformed += reader.oversizedLines;
    this.warn('OVERSIZED_RECORD', `skipped ${reader.oversizedLines} record(s) of ${this.spec.fileName} longer than the largest record read`);
    reader.oversizedLines = 0;
  }

  // The live file is at its end: see whether its name now holds another file. True when there is more to read.
  private async followLiveChange(live: LineReader): Promise<boolean> {
    const current = await generationOf(this.primaryPath);
    if (current === undefined) return false;
    if (current === live.generation) {
      const size = await live.size();
      if (size >= live.offset) return false;
      this.warn('FILE_TRUNCATED', `${this.spec.fileName} was truncated in place below offset ${live.offset}; reading it again from the start`);
      live.offset = 0;
      this.consumed = { generation: live.generation, offset: 0 };
      return true;
    }
    // The name moved on. The old file may have taken a last write between our read and the rename:
    // read it once more (the writer is done with it now) before leaving it.
    if (!this.liveMoved) {
      this.liveMoved = true;
      return true;
    }
    this.liveMoved = false;
    if (!this.spec.rotates) {
      await live.close();
      this.live = undefined;
      const file = await openLogFile(this.primaryPath);
      if (file !== undefined) this.setLive(new LineReader(file, 0));
      return file !== undefined;
    }
    await this.advancePast(live);
    return true;
  }

  private liveMoved = false;

  // The file we finished rotated away: queue what came after it, or fail if that is lost.
  private async advancePast(finished: LineReader): Promise<void> {
    const members = await this.chain.scan();
    this.note(members);
    let found = members.find((member) => member.generation === finished.generation);
    let from: number;
    if (found !== undefined) {
      from = found.index - 1;
    } else {
      const successor = this.successors.get(finished.generation);
      found = successor === undefined ? undefined : members.find((member) => member.generation === successor);
      if (found === undefined) {
        await finished.close();
        this.live = undefined;
        throw new MissedRotationError(this.spec.fileName, finished.generation, finished.offset);
      }
      from = found.index;
    }
    await finished.close();
    this.live = undefined;
    for (const member of members.filter((m) => m.index <= from).reverse()) {
      if (this.seen.has(member.generation)) continue;
      const file = await this.openMember(member);
      if (file === undefined) continue;
      const reader = new LineReader(file, 0);
      if (member.index === 0) this.setLive(reader);
      else this.enqueue(reader);
    }
  }

  // No live file was open (none existed): open it now, with anything rotated since.
  private async openLateLive(): Promise<boolean> {
    if (!this.spec.rotates) {
      const file = await openLogFile(this.primaryPath);
      if (file === undefined) return false;
      this.setLive(new LineReader(file, 0));
      return true;
    }
    const members = await this.chain.scan();
    this.note(members);
    let opened = false;
    for (const member of [...members].reverse()) {
      if (this.seen.has(member.generation)) continue;
      const file = await this.openMember(member);
      if (file === undefined) continue;
      const reader = new LineReader(file, 0);
      if (member.index === 0) this.setLive(reader);
      else this.enqueue(reader);
      opened = true;
    }
    return opened;
  }

  private parse(block: LineBlock, reader: LineReader): ReaderBatch {
    const { buffer, start, end, fileOffset } = block;
    const generation = reader.generation;
    const entries: Entry[] = [];
    const result = this.result;
    const jsonl = this.spec.format === 'jsonl';
    const fallbackTime = jsonl ? 0 : this.fallbackTime;
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

  private fallbackTime = Date.now();

  /** Refreshes the modification time text lines without a timestamp fall back to. */
  async refreshFallbackTime(): Promise<void> {
    if (this.spec.format !== 'text') return;
    const reader = this.queue[0] ?? this.live;
    if (reader !== undefined) this.fallbackTime = await reader.modifiedTime();
  }

  /** Position after the last whole line of the newest file: where a follower of everything read so far resumes. */
  async endOfData(): Promise<FilePosition> {
    const newest = this.live ?? this.queue[this.queue.length - 1];
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
