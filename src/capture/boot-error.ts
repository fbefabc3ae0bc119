/**
 * `boot-error.json`: the record of a failed start, as microsandbox writes it —
 * one JSON object with `t` (RFC 3339 UTC, milliseconds), `stage`, `errno` and
 * `message`. It is written atomically (a temporary file in the same directory,
 * flushed, then renamed over the old one), so a reader sees the old record or
 * the new one, never half of one; and it is removed by the next successful
 * start, so it only ever describes the latest attempt.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BOOT_ERROR_FILE } from '../files/layout.js';

/** What failed when a command could not be started. */
export type BootStage = 'spawn' | 'cwd' | 'pty';

/** The content of `boot-error.json`. */
export interface BootErrorRecord {
  /** When the start failed (RFC 3339 UTC with milliseconds). */
  readonly t: string;
  readonly stage: BootStage;
  /** The operating system's error number (positive, e.g. 2 for ENOENT), or null when there is none. */
  readonly errno: number | null;
  readonly message: string;
}

/** Writes `boot-error.json` in `logDir` atomically, replacing any previous one. */
export function writeBootError(logDir: string, record: BootErrorRecord): void {
  const path = join(logDir, BOOT_ERROR_FILE);
  const temporary = join(logDir, `.${BOOT_ERROR_FILE}.${process.pid}.tmp`);
  const text = `${JSON.stringify({ t: record.t, stage: record.stage, errno: record.errno, message: record.message })}\n`;
  const fd = openSync(temporary, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // nothing left to clean
    }
    throw error;
  }
}

/** Removes a stale `boot-error.json`; returns whether there was one. */
export function removeBootError(logDir: string): boolean {
  try {
    unlinkSync(join(logDir, BOOT_ERROR_FILE));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
