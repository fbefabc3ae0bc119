/**
 * Opening a log file for reading and telling which file it is. A file's
 * identity ("generation") is its inode number, read as a BigInt: inodes do not
 * fit in a double.
 *
 * Files are opened without following symbolic links and without blocking (a
 * FIFO put where a log should be must not hang the reader), and anything that
 * is not a regular file is refused with a clear error.
 */
import {
  close,
  closeSync,
  constants,
  fstat,
  fstatSync,
  lstatSync,
  openSync,
  read,
  type BigIntStats,
  type Stats,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { basename } from 'node:path';
import { FileClosedError, LogFileError } from '../errors.js';

const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/**
 * What readers use of an open file: the subset of `fs/promises`' FileHandle
 * that {@link openLogFile} returns, also implemented over a plain descriptor
 * by {@link openLogFileNow}.
 */
export interface LogFileDescriptor {
  /** The descriptor; -1 once closed, so that a synchronous call on it fails instead of reaching another file. */
  readonly fd: number;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(options: { bigint: true }): Promise<BigIntStats>;
  stat(): Promise<Stats>;
  close(): Promise<void>;
}

/** An open log file and its identity. */
export interface OpenLogFile {
  readonly handle: LogFileDescriptor;
  readonly generation: bigint;
  readonly path: string;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function unreadable(path: string, error: unknown): LogFileError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'ELOOP'
      ? 'is a symbolic link, which sandlog does not follow'
      : code === 'EACCES' || code === 'EPERM'
        ? 'is not readable (permission denied)'
        : code === 'EISDIR'
          ? 'is a directory'
          : (error as Error).message;
  return new LogFileError(`cannot read ${basename(path)}: ${path} ${why}`, { cause: error });
}

/** Opens `path` for reading, or returns undefined when it does not exist. */
export async function openLogFile(path: string): Promise<OpenLogFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw unreadable(path, error);
  }
  try {
    const info = await handle.stat({ bigint: true });
    if (!info.isFile()) {
      const kind = info.isDirectory() ? 'a directory' : info.isFIFO() ? 'a FIFO' : 'not a regular file';
      throw new LogFileError(`cannot read ${basename(path)}: ${path} is ${kind}`);
    }
    return { handle, generation: info.ino, path };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error instanceof LogFileError ? error : unreadable(path, error);
  }
}

/**
 * Opens `path` for reading now, without a trip through the thread pool, or
 * returns undefined when it does not exist. For the generation holder, which
 * must pin a new file in the same turn of the event loop that learnt of it.
 */
export function openLogFileNow(path: string): OpenLogFile | undefined {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw unreadable(path, error);
  }
  try {
    const info = fstatSync(fd, { bigint: true });
    if (!info.isFile()) {
      const kind = info.isDirectory() ? 'a directory' : info.isFIFO() ? 'a FIFO' : 'not a regular file';
      throw new LogFileError(`cannot read ${basename(path)}: ${path} is ${kind}`);
    }
    return { handle: new DescriptorHandle(fd), generation: info.ino, path };
  } catch (error) {
    closeSync(fd);
    throw error instanceof LogFileError ? error : unreadable(path, error);
  }
}

/**
 * A plain descriptor with FileHandle's promise methods. Closing waits for the
 * reads in flight, as FileHandle does: a descriptor number closed under a
 * pending read could be given to another file before the read runs.
 */
class DescriptorHandle implements LogFileDescriptor {
  fd: number;
  private pending = 0;
  private closing: (() => void) | undefined;
  private closed: Promise<void> | undefined;

  constructor(fd: number) {
    this.fd = fd;
  }

  private track<T>(
    run: (fd: number, done: (error: NodeJS.ErrnoException | null, value: T) => void) => void,
  ): Promise<T> {
    if (this.fd < 0 || this.closed !== undefined) return Promise.reject(new FileClosedError());
    this.pending += 1;
    return new Promise<T>((resolve, reject) => {
      run(this.fd, (error, value) => {
        this.pending -= 1;
        if (this.pending === 0) this.closing?.();
        if (error) reject(error);
        else resolve(value);
      });
    });
  }

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.track((fd, done) =>
      read(fd, buffer, offset, length, position, (error, bytesRead) => done(error, { bytesRead })),
    );
  }

  stat(options: { bigint: true }): Promise<BigIntStats>;
  stat(): Promise<Stats>;
  stat(options?: { bigint: true }): Promise<BigIntStats | Stats> {
    return this.track<BigIntStats | Stats>((fd, done) => {
      if (options?.bigint === true) fstat(fd, { bigint: true }, done);
      else fstat(fd, done);
    });
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.closing = () => {
        this.closing = undefined;
        const fd = this.fd;
        this.fd = -1;
        // Through the thread pool: closing the last descriptor of a deleted file frees its blocks, which
        // can take seconds while the file system is busy, and must not stop the event loop meanwhile.
        close(fd, () => resolve());
      };
      if (this.pending === 0) this.closing();
    });
    return this.closed;
  }
}

/**
 * The generation (inode) of the file at `path` — not following a link — or
 * undefined when there is none. Synchronous on purpose: followers ask after
 * every read that reaches the end, and a thousand of them ask at once when
 * files rotate; an lstat is cheaper done than queued on the thread pool.
 */
let renamedHere = 0;

/**
 * Says that a writer of this process moved, removed or created a log file's name (a rotation). Readers that
 * reuse what a look at a name found within one turn of the event loop ask {@link renamedHereCount} whether
 * such a change happened since: an in-process writer can rotate between two reads of the same turn.
 */
export function noteRenamedHere(): void {
  renamedHere += 1;
}

/** How many times writers of this process changed log file names so far. */
export function renamedHereCount(): number {
  return renamedHere;
}

export function generationOfNow(path: string): bigint | undefined {
  try {
    return lstatSync(path, { bigint: true, throwIfNoEntry: false })?.ino;
  } catch {
    return undefined;
  }
}
