/**
 * `--cursor-file`: where `sandlog logs` keeps its place between runs.
 *
 * The file holds one JSON object on one line:
 *
 *     {"cursor":"ASoAAAAAAAAAZAAAAAAAAAA=","digests":["f2Yx0Qm1c3VjLEzP"]}
 *
 * `cursor` is the microsandbox cursor string of the last entry written out;
 * `digests` has one record digest (or null) per cursor position, so that a
 * resume into a file that has left retention fails with a missed-rotation
 * error even when a newer file has taken its inode number (see
 * src/format/checkpoint.ts). Keys other than these are ignored when read, so
 * the object can grow. A file holding a bare cursor string (what sandlog
 * wrote before checkpoints) is still read, and resumes as `--after-cursor`
 * would. Files are replaced atomically (written aside, then renamed over).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { InvalidCursorError, OptionsError } from '../errors.js';
import type { Checkpoint } from '../format/checkpoint.js';

/** What a cursor file holds: a checkpoint, or (older files) a bare cursor. */
export type StoredPlace = { readonly checkpoint: Checkpoint } | { readonly cursor: string };

/**
 * The text of a cursor file, trimmed; undefined when it does not exist or is
 * empty (no place kept yet). What every kind of cursor file is read with.
 */
export function readCursorFileText(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OptionsError(`cannot read --cursor-file ${path}: ${(error as Error).message}`);
  }
  const content = text.trim();
  return content === '' ? undefined : content;
}

/** Reads a cursor file; undefined when it does not exist or is empty. */
export function readCursorFile(path: string): StoredPlace | undefined {
  const content = readCursorFileText(path);
  if (content === undefined) return undefined;
  if (!content.startsWith('{')) return { cursor: content };
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    throw new InvalidCursorError(`invalid cursor file ${path}: not a JSON object nor a cursor`);
  }
  // The shape is checked where the checkpoint is used (one place says what a checkpoint is).
  const { cursor, digests } = value as { cursor?: unknown; digests?: unknown };
  return { checkpoint: { cursor, digests } as Checkpoint };
}

/** Stores a checkpoint in `path` by writing a temporary file and renaming it over. */
export function writeCursorFile(path: string, checkpoint: Checkpoint): void {
  replaceFile(path, `${JSON.stringify({ cursor: checkpoint.cursor, digests: checkpoint.digests })}\n`);
}

/** Whether a parsed cursor file is one sandbox's checkpoint (rather than one cursor per sandbox). */
export function isSingleSandboxPlace(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { cursor?: unknown }).cursor === 'string' &&
    Array.isArray((value as { digests?: unknown }).digests)
  );
}

/** Replaces `path` with `text` atomically: written aside, then renamed over. */
export function replaceFile(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}
