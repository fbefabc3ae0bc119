/**
 * Writing a sandbox's logs: {@link ExecLogWriter} appends exec.log records and
 * rotates by rename; {@link TextLogWriter} appends RFC 3339-prefixed lines to
 * runtime.log or kernel.log.
 *
 * The exec.log writer's promises, which readers rely on:
 * - a record is one line, written by one `write(2)` (records are encoded
 *   straight into one reused buffer and batched within one turn of the event
 *   loop, never split across files, never interleaved);
 * - rotation renames `name.{N-1}` → `name.N` … `name` → `name.1` (the oldest
 *   is overwritten) and opens a fresh live file, so a reader's open
 *   descriptor keeps reading the same bytes;
 * - bodies are lossless: valid UTF-8 as text, anything else as base64, and a
 *   multi-byte character split across two chunks is carried to the next chunk
 *   of the same stream rather than broken;
 * - a live file left with a torn last line (a writer killed mid-record) is
 *   closed off with a newline before anything is appended, so the next record
 *   is never glued to the fragment.
 */
import {
  close,
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
  constants,
} from 'node:fs';
import { OptionsError, WriterClosedError, describeValue } from '../errors.js';
import { encodeRecordInto, maxEncodedRecordBytes } from '../format/record.js';
import type { LogSource } from '../format/source.js';
import { formatTextLine } from '../format/text-line.js';
import { EXEC_LOG, RUNTIME_LOG, rotatedPath } from './layout.js';
import { noteRenamedHere } from './log-file.js';
import { join } from 'node:path';

/** 10 MiB: microsandbox's rotation size. */
export const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;
/** Rotated files kept besides the live one, as microsandbox keeps. */
export const DEFAULT_MAX_ROTATED_FILES = 4;

// Records written within one turn of the event loop go out together, up to this much: one write(2) per MiB.
const MAX_PENDING_BYTES = 1024 * 1024;
// The reused output buffer: a batch plus room for the worst case of one more 64 KiB read (every byte `\u00xx`).
const OUTPUT_BUFFER_BYTES = MAX_PENDING_BYTES + 512 * 1024;

const APPEND_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND;

/** Options of {@link ExecLogWriter}. */
export interface ExecLogWriterOptions {
  /**
   * Rotate before a record would take the live file past this many bytes. A
   * single larger record gets a file of its own.
   * @default 10485760 (10 MiB)
   */
  maxBytes?: number;
  /**
   * Rotated files kept (`exec.log.1` … `exec.log.N`).
   * @default 4
   */
  maxFiles?: number;
  /**
   * File name of the live log within the directory.
   * @default "exec.log"
   */
  fileName?: string;
  /** Called after each rotation (for diagnostics). */
  onRotate?: (info: { rotation: number }) => void;
}

interface ResolvedWriterOptions {
  readonly maxBytes: number;
  readonly maxFiles: number;
  readonly fileName: string;
  readonly onRotate: ((info: { rotation: number }) => void) | undefined;
}

function resolveWriterOptions(options: ExecLogWriterOptions): ResolvedWriterOptions {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  const maxFiles = options.maxFiles ?? DEFAULT_MAX_ROTATED_FILES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new OptionsError(`Expected the \`maxBytes\` option to be a positive integer, got ${describeValue(maxBytes)}`);
  }
  if (!Number.isSafeInteger(maxFiles) || maxFiles < 0 || maxFiles > 999) {
    throw new OptionsError(
      `Expected the \`maxFiles\` option to be an integer from 0 to 999, got ${describeValue(maxFiles)}`,
    );
  }
  return Object.freeze({ maxBytes, maxFiles, fileName: options.fileName ?? EXEC_LOG, onRotate: options.onRotate });
}

/** Number of trailing bytes of `bytes` that start a UTF-8 character the chunk does not finish. */
export function incompleteUtf8Tail(bytes: Uint8Array): number {
  const length = bytes.length;
  for (let back = 1; back <= 3 && back <= length; back++) {
    const byte = bytes[length - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const needed =
      byte >= 0xf0 && byte <= 0xf4 ? 4 : byte >= 0xe0 && byte <= 0xef ? 3 : byte >= 0xc2 && byte <= 0xdf ? 2 : 1;
    return needed > back ? back : 0;
  }
  return 0;
}

// One clock read per millisecond is enough: records in the same millisecond share the string.
let lastClockMs = -1;
let lastClockText = '';
function nowText(): string {
  const now = Date.now();
  if (now !== lastClockMs) {
    lastClockMs = now;
    lastClockText = new Date(now).toISOString();
  }
  return lastClockText;
}

/**
 * Unlinks `path` without freeing its blocks on this thread: ext4 frees a file's blocks when its last
 * name and descriptor are gone, synchronously (a 10 MiB file: milliseconds). Holding a descriptor over
 * the unlink moves that work to its close, done in the thread pool.
 */
function dropFile(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch {
    // Missing or unreadable: the unlink below says which, or drops it the plain way.
  }
  try {
    unlinkSync(path);
  } finally {
    if (fd !== undefined) close(fd, () => undefined);
  }
}

/** Appends records to a sandbox's exec.log, rotating it by rename. */
export class ExecLogWriter {
  readonly logDir: string;
  readonly options: ResolvedWriterOptions;
  private fd: number;
  private size: number;
  // Encoded records not written yet: out[batchStart, batchEnd).
  private out: Buffer = Buffer.allocUnsafe(OUTPUT_BUFFER_BYTES);
  private batchStart = 0;
  private batchEnd = 0;
  private flushScheduled = false;
  private readonly carries = new Map<string, Buffer>();
  private rotationCount = 0;
  private closed = false;

  /** Opens (creating as needed) the exec.log of `logDir` for appending. */
  constructor(logDir: string, options: ExecLogWriterOptions = {}) {
    this.options = resolveWriterOptions(options);
    this.logDir = logDir;
    mkdirSync(logDir, { recursive: true });
    this.fd = openSync(this.livePath, APPEND_FLAGS, 0o644);
    this.size = fstatSync(this.fd).size;
    this.closeTornLine();
  }

  /** Path of the live file. */
  get livePath(): string {
    return rotatedPath(this.logDir, this.options.fileName, 0);
  }

  /** Bytes in the live file, counting records not flushed yet. */
  get liveBytes(): number {
    return this.size + this.batchEnd - this.batchStart;
  }

  /** Rotations this writer has made. */
  get rotations(): number {
    return this.rotationCount;
  }

  /**
   * Appends a chunk of a session's output. Chunks of one (source, session)
   * stream are joined at character boundaries: an incomplete trailing UTF-8
   * sequence waits for the next chunk (or {@link endStream}).
   */
  write(source: Exclude<LogSource, 'system'>, chunk: Uint8Array | string, sessionId: number): void {
    let bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const key = `${source}\u0000${sessionId}`;
    const carried = this.carries.get(key);
    if (carried !== undefined) {
      bytes = Buffer.concat([carried, bytes]);
      this.carries.delete(key);
    }
    const tail = incompleteUtf8Tail(bytes);
    if (tail > 0) {
      this.carries.set(key, Buffer.from(bytes.subarray(bytes.length - tail)));
      bytes = bytes.subarray(0, bytes.length - tail);
    }
    if (bytes.length > 0) this.appendEncoded(source, bytes, sessionId);
  }

  /** Ends one stream: bytes still carried (an unfinished character) are written as they are. */
  endStream(source: Exclude<LogSource, 'system'>, sessionId: number): void {
    const key = `${source}\u0000${sessionId}`;
    const carried = this.carries.get(key);
    if (carried === undefined) return;
    this.carries.delete(key);
    this.appendEncoded(source, carried, sessionId);
  }

  /** Appends a `system` lifecycle marker (no session id; a newline is added when missing). */
  system(message: string): void {
    this.appendEncoded('system', Buffer.from(message.endsWith('\n') ? message : `${message}\n`, 'utf8'), undefined);
  }

  /** Appends one already-encoded record line (with its `\n`). */
  appendRecord(line: Uint8Array): void {
    const at = this.reserve(line.length);
    this.out.set(line, at);
    this.append(this.out.subarray(at, at + line.length));
  }

  private appendEncoded(source: LogSource, body: Uint8Array, sessionId: number | undefined): void {
    const timeText = nowText();
    const at = this.reserve(maxEncodedRecordBytes(timeText, body.length, sessionId));
    this.append(this.out.subarray(at, encodeRecordInto(this.out, at, timeText, source, body, sessionId)));
  }

  // Makes room for `bytes` more at the end of the batch; returns where they go.
  private reserve(bytes: number): number {
    if (this.closed) throw new WriterClosedError('ExecLogWriter');
    if (this.batchEnd + bytes > this.out.length) {
      this.flush();
      // A record larger than the buffer gets a buffer of its own size; the next small one goes back to the default.
      if (bytes > this.out.length) this.out = Buffer.allocUnsafe(bytes);
    } else if (this.batchEnd === 0 && this.out.length > OUTPUT_BUFFER_BYTES && bytes <= OUTPUT_BUFFER_BYTES) {
      this.out = Buffer.allocUnsafe(OUTPUT_BUFFER_BYTES);
    }
    return this.batchEnd;
  }

  // Takes one record line, encoded in place at the end of the batch (where reserve() said), into the batch.
  private append(line: Buffer): void {
    if (this.liveBytes > 0 && this.liveBytes + line.length > this.options.maxBytes) {
      this.flush();
      this.rotate();
      // The batch now starts with this record, where it lies: no copy.
      this.batchStart = line.byteOffset - this.out.byteOffset;
      this.batchEnd = this.batchStart;
    }
    this.batchEnd += line.length;
    if (this.batchEnd - this.batchStart >= MAX_PENDING_BYTES) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        if (!this.closed) this.flush();
      });
    }
  }

  /** Writes out every record appended so far. */
  flush(): void {
    let offset = this.batchStart;
    const end = this.batchEnd;
    if (offset === end) return;
    // Emptied first: a write that fails loses this batch (as a crash would), it is never written twice.
    this.batchStart = 0;
    this.batchEnd = 0;
    while (offset < end) {
      const written = writeSync(this.fd, this.out, offset, end - offset);
      this.size += written;
      offset += written;
    }
  }

  private rotate(): void {
    closeSync(this.fd);
    const { maxFiles, fileName } = this.options;
    if (maxFiles === 0) {
      dropFile(this.livePath);
    } else {
      // Dropping the oldest before the renames is measurably cheaper than renaming over it (ext4 frees the
      // blocks either way, but not inside the rename); readers holding it open keep reading it regardless.
      try {
        dropFile(rotatedPath(this.logDir, fileName, maxFiles));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      for (let index = maxFiles - 1; index >= 1; index--) {
        try {
          renameSync(rotatedPath(this.logDir, fileName, index), rotatedPath(this.logDir, fileName, index + 1));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
      renameSync(this.livePath, rotatedPath(this.logDir, fileName, 1));
    }
    this.fd = openSync(this.livePath, APPEND_FLAGS, 0o644);
    noteRenamedHere();
    this.size = 0;
    this.rotationCount += 1;
    this.options.onRotate?.({ rotation: this.rotationCount });
  }

  private closeTornLine(): void {
    if (this.size === 0) return;
    const last = Buffer.alloc(1);
    const readFd = openSync(this.livePath, constants.O_RDONLY);
    try {
      readSync(readFd, last, 0, 1, this.size - 1);
    } finally {
      closeSync(readFd);
    }
    if (last[0] !== 0x0a) this.size += writeSync(this.fd, '\n');
  }

  /** Writes out what is carried and pending, and closes the file. */
  close(): void {
    if (this.closed) return;
    for (const [key, carried] of this.carries) {
      const [source, session] = key.split('\u0000') as [Exclude<LogSource, 'system'>, string];
      this.appendEncoded(source, carried, Number(session));
    }
    this.carries.clear();
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }
}

/** Appends RFC 3339-prefixed lines to a plain-text log (runtime.log by default). */
export class TextLogWriter {
  readonly path: string;
  private readonly fd: number;

  constructor(logDir: string, fileName: string = RUNTIME_LOG) {
    mkdirSync(logDir, { recursive: true });
    this.path = join(logDir, fileName);
    this.fd = openSync(this.path, APPEND_FLAGS, 0o644);
  }

  /** Appends a message; each of its lines becomes one timestamped line. */
  append(message: string, time: Date = new Date()): void {
    const lines = message.replace(/\r?\n$/, '').split(/\r?\n/);
    writeSync(this.fd, lines.map((line) => formatTextLine(time, line)).join(''));
  }

  close(): void {
    closeSync(this.fd);
  }
}
