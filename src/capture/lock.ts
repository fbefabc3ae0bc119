/**
 * One writer per sandbox: a lock file in the log directory holding the
 * writer's process id. Two processes rotating one exec.log would rename each
 * other's files away and lose records, so a second writer is refused while the
 * first is alive.
 *
 * Format: `sandlog.lock`, the pid in decimal followed by `\n`. It appears
 * with its content in one step (written to a private temporary file, then
 * hard-linked into place, which fails when a lock exists). A lock whose pid is
 * gone (or whose content is not a pid) is stale — its writer crashed — and is
 * taken over: it is first renamed aside and checked to be the same stale lock,
 * so two processes breaking one stale lock at once cannot both win.
 *
 * Limit: a crashed writer's pid reused by an unrelated live process makes the
 * lock look held; the error names the pid, and deleting the file clears it.
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogFileError, WriterLockedError } from '../errors.js';

/** Name of the lock file in a log directory (readers ignore it). */
export const WRITER_LOCK_FILE = 'sandlog.lock';

const MAX_ATTEMPTS = 16;

// Locks this process holds: a second writer in the same process is refused too.
const heldHere = new Set<string>();

/** A held writer lock; {@link WriterLock.release} removes it. */
export interface WriterLock {
  readonly path: string;
  readonly pid: number;
  /** Removes the lock file if it is still ours. Safe to call more than once. */
  release(): void;
}

/** Whether a process with this id exists (one we may not signal still exists). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLockPid(path: string): { text: string; pid: number | undefined } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const match = /^\s*([1-9][0-9]{0,9})\s*$/.exec(text);
  return { text, pid: match === null ? undefined : Number(match[1]) };
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Takes the writer lock of `logDir` (which must exist). Throws
 * {@link WriterLockedError} naming the holder when a live process has it.
 */
export function acquireWriterLock(logDir: string): WriterLock {
  const path = join(logDir, WRITER_LOCK_FILE);
  if (heldHere.has(path)) throw new WriterLockedError(logDir, process.pid);
  const ownText = `${process.pid}\n`;
  const temporary = join(logDir, `.${WRITER_LOCK_FILE}.${process.pid}.tmp`);
  writeFileSync(temporary, ownText, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        linkSync(temporary, path);
        return holdLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const current = readLockPid(path);
      if (current === undefined) continue; // released between our two steps: try again
      // Our own pid in a lock we do not hold is a previous process's, recycled.
      if (current.pid !== undefined && current.pid !== process.pid && isProcessAlive(current.pid)) {
        throw new WriterLockedError(logDir, current.pid);
      }
      breakStaleLock(path, current.text);
    }
    throw new LogFileError(`cannot take the writer lock ${path}: it kept changing while it was being taken`);
  } finally {
    unlinkQuietly(temporary);
  }
}

// Moves a stale lock aside; if what was moved is no longer the stale lock seen, it is put back.
function breakStaleLock(path: string, staleText: string): void {
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  let movedText: string | undefined;
  try {
    movedText = readFileSync(aside, 'utf8');
  } catch {
    movedText = undefined;
  }
  if (movedText !== staleText) {
    // Another process replaced the stale lock with its live one in between: restore it.
    try {
      linkSync(aside, path);
    } catch {
      // someone else holds the path now; the next attempt will see them
    }
  }
  unlinkQuietly(aside);
}

function holdLock(path: string): WriterLock {
  heldHere.add(path);
  let released = false;
  return {
    path,
    pid: process.pid,
    release() {
      if (released) return;
      released = true;
      heldHere.delete(path);
      let current: ReturnType<typeof readLockPid>;
      try {
        current = readLockPid(path);
      } catch {
        return; // unreadable now: leave it for the stale-lock check of the next writer
      }
      if (current?.pid === process.pid) unlinkQuietly(path);
    },
  };
}
