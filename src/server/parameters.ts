/**
 * Reading a request's query parameters: each route names the ones it
 * accepts; anything else, or a single-valued parameter given twice, is a 400.
 * Shared by the single-sandbox routes (./app.ts) and the multi-sandbox ones
 * (./routes-many.ts). Also the decoding of a path segment, which the fleet
 * server (src/fleet/server.ts) shares.
 */
import type { StreamOptions } from '../engine/options.js';
import { badRequest } from './errors.js';

/** A path segment percent-decoded; malformed encoding or a NUL character is a 400. */
export function decodePathSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw badRequest(`malformed percent-encoding in path segment ${JSON.stringify(segment)}`);
  }
  if (decoded.includes('\u0000')) throw badRequest('path contains a NUL character');
  return decoded;
}

/** Parameters that may be given more than once. */
const REPEATABLE = new Set(['source', 'sandbox', 'pattern']);

/** Query parameters, checked against the route's list; empty values count as absent. */
export function readParameters(query: URLSearchParams, allowed: readonly string[]): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const [key, value] of query) {
    if (!allowed.includes(key))
      throw badRequest(`unknown parameter ${JSON.stringify(key)} (accepted: ${allowed.join(', ')})`);
    if (value === '') continue;
    const list = values.get(key) ?? [];
    if (list.length > 0 && !REPEATABLE.has(key))
      throw badRequest(`parameter ${JSON.stringify(key)} given more than once`);
    list.push(value);
    values.set(key, list);
  }
  return values;
}

/** A non-negative integer parameter, or undefined when absent. */
export function integerParameter(parameters: Map<string, string[]>, key: string): number | undefined {
  const value = parameters.get(key)?.[0];
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value))
    throw badRequest(`Expected \`${key}\` to be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** The read options the parameters `tail`, `since`, `until`, `source`, `grep` and `after` give. */
export function readOptions(parameters: Map<string, string[]>, home: string): StreamOptions {
  const one = (key: string): string | undefined => parameters.get(key)?.[0];
  const options: StreamOptions = { home };
  const tail = integerParameter(parameters, 'tail');
  if (tail !== undefined) options.tail = tail;
  const since = one('since');
  if (since !== undefined) options.since = since;
  const until = one('until');
  if (until !== undefined) options.until = until;
  const sources = parameters.get('source');
  if (sources !== undefined) options.sources = sources.join(',');
  const grep = one('grep');
  if (grep !== undefined) options.grep = grep;
  const after = one('after');
  // A cursor is base64: a `+` sent unencoded arrives as a space, and a cursor never holds one.
  if (after !== undefined) options.afterCursor = after.replace(/ /g, '+');
  return options;
}
