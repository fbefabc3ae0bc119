/**
 * Opening a log file for reading and telling which file it is. A file's
 * identity ("generation") is its inode number, read as a BigInt: inodes do not
 * fit in a double.
 *
 * Files are opened without following symbolic links and without blocking (a
 * FIFO put where a log should be must not hang the reader), and anything that
 * is not a regular file is refused with a clear error.
 */
import { constants, lstatSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { LogFileError } from '../errors.js';

const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** An open log file and its identity. */
export interface OpenLogFile {
  readonly handle: FileHandle;
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
    code === 'ELOOP' ? 'is a symbolic link, which sandlog does not follow'
    : code === 'EACCES' || code === 'EPERM' ? 'is not readable (permission denied)'
    : code === 'EISDIR' ? 'is a directory'
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
 * The generation (inode) of the file at `path` — not following a link — or
 * undefined when there is none. Synchronous on purpose: followers ask after
 * every read that reaches the end, and a thousand of them ask at once when
 * files rotate; an lstat is cheaper done than queued on the thread pool.
 */
export function generationOfNow(path: string): bigint | undefined {
  try {
    return lstatSync(path, { bigint: true, throwIfNoEntry: false })?.ino;
  } catch {
    return undefined;
  }
}
