/**
 * Reading complete lines from one open file, forwards, in large blocks.
 *
 * A block holds only whole lines. Its buffer is one of the reader's two read
 * buffers, reused: it is valid only until the next call of next() but one,
 * so whoever keeps anything of it copies it out first (FileReader copies the
 * lines it keeps). Reading into memory already in use is what makes a read
 * cheap: on a virtual machine whose host hands out pages lazily, a fresh
 * 256 KiB buffer costs more to fault in than to read and parse (measured
 * here: 10 MiB read and scanned in 45 ms into fresh buffers, 3 ms into a
 * reused one). A line longer than the block makes the
 * block grow until the line fits — a 5 MiB record is read whole — up to
 * {@link MAX_LINE_BYTES}; a longer line is skipped without being held, and
 * counted. A trailing line without its `\n` is not returned: it is not an
 * entry until the writer finishes it.
 */
import { fstatSync, readSync } from 'node:fs';
import type { OpenLogFile } from '../files/log-file.js';

/**
 * Bytes asked for per read. Large enough that reads cost little next to
 * parsing; not larger, because entries that keep most of a block keep the
 * whole block alive until they are dropped, and a `--json` dump of a full chain must stay under 100 MiB of RSS
 * (1 MiB blocks with 8,192-entry batches measured ~125 MiB; 512 KiB with
 * 1,024-entry batches ~95 MiB to a file and ~105 MiB into a pipe; 256 KiB
 * with 512-entry batches 80 and 85 MiB, at the same speed).
 */
export const READ_BLOCK_BYTES = 256 * 1024;
/**
 * Bytes of the first read of a reader that has reached the end of its file
 * (a follower waiting for appends): read synchronously, which takes
 * microseconds from the page cache where a thread-pool round trip takes a
 * hundred or more, and small, so that a thousand idle followers do not churn
 * through large buffers. A full small read switches back to block reads.
 */
export const TAIL_READ_BYTES = 16 * 1024;
/** Longest line read whole; longer ones are skipped. */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;

/**
 * Whole lines: `buffer[start, end)`, the first byte at `fileOffset` in the
 * file; `end` is just after a `\n`. `reused`: the buffer is one the reader
 * reads into again (see above); otherwise the block owns it.
 */
export interface LineBlock {
  readonly buffer: Buffer;
  readonly start: number;
  readonly end: number;
  readonly fileOffset: number;
  readonly reused: boolean;
}

let tailScratch = Buffer.allocUnsafe(TAIL_READ_BYTES);

export class LineReader {
  readonly file: OpenLogFile;
  /** File offset of the next byte to read (a line boundary, except while skipping an oversized line). */
  offset: number;
  /** Oversized lines skipped so far. */
  oversizedLines = 0;
  private skipping = false;
  /** The last read came back short: the reader is at the end of the file, waiting for appends. */
  private tailing = false;
  /**
   * The last read came back short with whole lines in it: the file was read
   * to its end just now. A follower takes that as its look at the end for
   * this wake-up (see FileReader) until {@link woken} clears it.
   */
  drained = false;
  /** The two read buffers, taken in turn (one is read ahead into while the other's lines are parsed). */
  private readonly buffers: (Buffer | undefined)[] = [undefined, undefined];
  private turn = 0;
  /** The block being read ahead: `buffer` filled from file offset `position`. */
  private ahead: { buffer: Buffer; position: number; length: Promise<number> } | undefined;

  constructor(file: OpenLogFile, offset: number) {
    this.file = file;
    this.offset = offset;
  }

  get generation(): bigint {
    return this.file.generation;
  }

  // Fills `buffer[from, buffer.length)` from the file at `position`; returns the bytes read (short only at end of file).
  private async fill(buffer: Buffer, from: number, position: number): Promise<number> {
    let filled = from;
    while (filled < buffer.length) {
      const { bytesRead } = await this.file.handle.read(
        buffer,
        filled,
        buffer.length - filled,
        position + filled - from,
      );
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled - from;
  }

  // Fills `buffer[0, length)` from the file at the reader's offset with synchronous reads; returns the bytes read.
  private fillNow(buffer: Buffer, length: number): number {
    let filled = 0;
    while (filled < length) {
      const bytesRead = readSync(this.file.handle.fd, buffer, filled, length - filled, this.offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled;
  }

  /** The reader's follower was woken (an event or a poll): what it reads next may be new. */
  woken(): void {
    this.drained = false;
  }

  /** The next block of whole lines, or undefined when no whole line is there yet. */
  async next(): Promise<LineBlock | undefined> {
    this.drained = false;
    if (this.skipping && !(await this.skipOversizedLine())) return undefined;
    let rest = TAIL_READ_BYTES;
    if (!this.tailing) {
      // The last part of a file (all of a small one) is read like a tail: a thousand followers
      // starting on small files must not each take a whole block.
      rest = fstatSync(this.file.handle.fd).size - this.offset;
      if (rest < READ_BLOCK_BYTES) this.tailing = true;
    }
    if (this.tailing) {
      // Read into a shared scratch buffer: a follower woken with nothing new allocates nothing.
      const size = Math.max(TAIL_READ_BYTES, rest + TAIL_READ_BYTES);
      if (tailScratch.length < size) tailScratch = Buffer.allocUnsafe(size);
      const scratch = tailScratch;
      const length = this.fillNow(scratch, size);
      if (length < size) {
        const lastNewline = length === 0 ? -1 : scratch.lastIndexOf(0x0a, length - 1);
        if (lastNewline < 0) return undefined;
        // Entries keep views of their block: the lines get a buffer of their own.
        const lines = Buffer.allocUnsafe(lastNewline + 1);
        scratch.copy(lines, 0, 0, lastNewline + 1);
        const block = {
          buffer: lines,
          start: 0,
          end: lastNewline + 1,
          fileOffset: this.offset,
          reused: false,
        };
        this.offset += lastNewline + 1;
        this.drained = true;
        return block;
      }
      this.tailing = false; // more than a small read's worth arrived: read blocks again
    }
    let buffer: Buffer;
    let length: number;
    const ahead = this.ahead;
    this.ahead = undefined;
    if (ahead !== undefined && ahead.position === this.offset) {
      buffer = ahead.buffer;
      length = await ahead.length;
    } else {
      if (ahead !== undefined) await ahead.length.catch(() => 0);
      buffer = this.readBuffer();
      length = await this.fill(buffer, 0, this.offset);
    }
    if (length < buffer.length) this.tailing = true;
    for (;;) {
      if (length === 0) return undefined;
      const lastNewline = buffer.lastIndexOf(0x0a, length - 1);
      if (lastNewline >= 0) {
        const block = {
          buffer,
          start: 0,
          end: lastNewline + 1,
          fileOffset: this.offset,
          reused: buffer.length === READ_BLOCK_BYTES,
        };
        this.offset += lastNewline + 1;
        // A full block means more is there: the next one is read on the thread pool while this one is parsed.
        if (length === buffer.length) this.readAhead();
        return block;
      }
      if (length < buffer.length) return undefined;
      if (buffer.length >= MAX_LINE_BYTES) {
        this.offset += length;
        this.skipping = true;
        if (!(await this.skipOversizedLine())) return undefined;
        buffer = this.readBuffer();
        length = await this.fill(buffer, 0, this.offset);
        continue;
      }
      // One line fills the block: read on into a larger one.
      const larger = Buffer.allocUnsafe(Math.min(buffer.length * 4, MAX_LINE_BYTES));
      buffer.copy(larger, 0, 0, length);
      length += await this.fill(larger.subarray(0, larger.length), length, this.offset + length);
      buffer = larger;
    }
  }

  // Starts reading the block at the reader's offset; next() takes it when it still starts there.
  /** Gives up a read buffer to whoever keeps the block read into it: it is not read into again. */
  disown(buffer: Buffer): void {
    if (this.buffers[0] === buffer) this.buffers[0] = undefined;
    if (this.buffers[1] === buffer) this.buffers[1] = undefined;
  }

  // The read buffer not holding the block last handed out (nor the one being read ahead).
  private readBuffer(): Buffer {
    this.turn ^= 1;
    let buffer = this.buffers[this.turn];
    if (buffer === undefined) {
      buffer = Buffer.allocUnsafe(READ_BLOCK_BYTES);
      this.buffers[this.turn] = buffer;
    }
    return buffer;
  }

  private readAhead(): void {
    const buffer = this.readBuffer();
    const position = this.offset;
    const length = this.fill(buffer, 0, position);
    // A failed read ahead is not an error until next() asks for that block (and reads it again).
    length.catch(() => undefined);
    this.ahead = { buffer, position, length };
  }

  // Moves past the rest of an oversized line; false when its end is not written yet.
  private async skipOversizedLine(): Promise<boolean> {
    const buffer = Buffer.allocUnsafe(READ_BLOCK_BYTES);
    for (;;) {
      const length = await this.fill(buffer, 0, this.offset);
      if (length === 0) return false;
      const newline = buffer.indexOf(0x0a);
      if (newline >= 0 && newline < length) {
        this.offset += newline + 1;
        this.skipping = false;
        this.oversizedLines += 1;
        return true;
      }
      this.offset += length;
    }
  }

  /** Size of the file now, without a trip through the thread pool. */
  sizeNow(): number {
    return fstatSync(this.file.handle.fd).size;
  }

  /** Size of the file now. */
  async size(): Promise<number> {
    return Number((await this.file.handle.stat({ bigint: true })).size);
  }

  /** Modification time of the file now (ms). */
  async modifiedTime(): Promise<number> {
    return (await this.file.handle.stat()).mtimeMs;
  }

  async close(): Promise<void> {
    const ahead = this.ahead;
    this.ahead = undefined;
    if (ahead !== undefined) await ahead.length.catch(() => 0);
    await this.file.handle.close().catch(() => undefined);
  }
}

/**
 * Offset just after the last `\n` before `size` (0 when there is none): the
 * end of the whole lines of a file whose last line may still be being written.
 */
export async function endOfWholeLines(file: OpenLogFile, size: number): Promise<number> {
  const blockBytes = 64 * 1024;
  let end = size;
  const buffer = Buffer.allocUnsafe(blockBytes);
  while (end > 0) {
    const start = Math.max(0, end - blockBytes);
    const { bytesRead } = await file.handle.read(buffer, 0, end - start, start);
    const newline = buffer.lastIndexOf(0x0a, bytesRead - 1);
    if (newline >= 0) return start + newline + 1;
    end = start;
  }
  return 0;
}

/** Whether `offset` is a line boundary of the file: its start, or just after a `\n`. */
export async function isLineBoundary(file: OpenLogFile, offset: number): Promise<boolean> {
  if (offset === 0) return true;
  const byte = Buffer.alloc(1);
  const { bytesRead } = await file.handle.read(byte, 0, 1, offset - 1);
  return bytesRead === 1 && byte[0] === 0x0a;
}
