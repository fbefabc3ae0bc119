/**
 * Sandbox name validation. A name becomes a path component (and, in the server,
 * part of a URL), so sandlog is stricter than microsandbox's length-only check:
 * 1 to 128 UTF-8 bytes, not `.` or `..`, no `/`, `\`, NUL or other control
 * characters.
 */
import { InvalidSandboxNameError } from '../errors.js';

/** Longest sandbox name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 128;

// C0 controls, DEL and C1 controls: none of them belongs in a file name or a URL path.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** Returns why `name` is not a valid sandbox name, or undefined when it is. */
export function sandboxNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `Expected a sandbox name to be a string, got ${typeof name}`;
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0) return 'Expected a sandbox name, got an empty string';
  if (bytes > MAX_NAME_BYTES) return `Expected a sandbox name of at most ${MAX_NAME_BYTES} UTF-8 bytes, got ${bytes}`;
  if (name === '.' || name === '..') return `Expected a sandbox name, got ${JSON.stringify(name)}`;
  if (name.includes('/') || name.includes('\\')) {
    return `Expected a sandbox name without path separators, got ${JSON.stringify(name)}`;
  }
  if (CONTROL_CHARACTER.test(name))
    return `Expected a sandbox name without control characters, got ${JSON.stringify(name)}`;
  // A lone surrogate cannot be encoded as UTF-8, so it cannot name a directory either.
  if (!name.isWellFormed()) return `Expected a sandbox name of valid Unicode, got ${JSON.stringify(name)}`;
  return undefined;
}

/** Throws {@link InvalidSandboxNameError} unless `name` is a valid sandbox name. */
export function assertSandboxName(name: unknown): asserts name is string {
  const problem = sandboxNameProblem(name);
  if (problem !== undefined) throw new InvalidSandboxNameError(`invalid sandbox name: ${problem}`);
}
