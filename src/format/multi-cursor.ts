/**
 * The multi-cursor: where a stream over several sandboxes stands, as one
 * cursor per sandbox (`{ name: cursor }`). Its string form, used as an SSE
 * `id:` and in `cursor` fields, is the base64url of that object's JSON with
 * the names sorted, so equal positions give equal strings. Clients treat it
 * as opaque. A sandbox missing from the object has had nothing consumed yet.
 */
import { InvalidCursorError } from '../errors.js';
import { decodeCursor } from './cursor.js';
import { sandboxNameProblem } from './name.js';

/** One cursor per sandbox name. */
export type MultiCursor = Readonly<Record<string, string>>;

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Encodes per-sandbox cursors as a multi-cursor string. */
export function encodeMultiCursor(cursors: MultiCursor | ReadonlyMap<string, string>): string {
  const entries = cursors instanceof Map ? [...cursors] : Object.entries(cursors);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const object: Record<string, string> = {};
  for (const [name, cursor] of entries) object[name] = cursor;
  return Buffer.from(JSON.stringify(object), 'utf8').toString('base64url');
}

/**
 * Decodes a multi-cursor string (or the JSON object itself, as a cursor file
 * holds it), checking every name and every cursor; throws
 * {@link InvalidCursorError} saying what is wrong.
 */
export function decodeMultiCursor(text: string): Map<string, string> {
  if (typeof text !== 'string' || text.trim() === '') throw new InvalidCursorError('invalid multi-cursor: empty');
  const trimmed = text.trim();
  let json: string;
  if (trimmed.startsWith('{')) {
    json = trimmed;
  } else {
    if (!BASE64URL.test(trimmed))
      throw new InvalidCursorError('invalid multi-cursor: not base64url (a cursor of several sandboxes)');
    json = Buffer.from(trimmed, 'base64url').toString('utf8');
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new InvalidCursorError('invalid multi-cursor: not a cursor of several sandboxes');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidCursorError('invalid multi-cursor: expected an object of sandbox names and cursors');
  }
  const cursors = new Map<string, string>();
  for (const [name, cursor] of Object.entries(value)) {
    const problem = sandboxNameProblem(name);
    if (problem !== undefined) throw new InvalidCursorError(`invalid multi-cursor: ${problem}`);
    if (typeof cursor !== 'string')
      throw new InvalidCursorError(`invalid multi-cursor: the cursor of ${JSON.stringify(name)} is not a string`);
    try {
      decodeCursor(cursor);
    } catch (error) {
      throw new InvalidCursorError(
        `invalid multi-cursor: sandbox ${JSON.stringify(name)}: ${(error as Error).message}`,
      );
    }
    cursors.set(name, cursor);
  }
  return cursors;
}
