/**
 * What the viewer's routes of `serve --nats` read: sandboxes named by their
 * fleet id `host/name`, shell-style patterns over those ids, or every
 * sandbox — turned into the one subject filter JetStream 2.9 takes (as
 * narrow as the selection allows) plus a test of each entry's host and name.
 *
 * A pattern with a `/` matches the whole id (`host-a/web-*`, `*\/db`); one
 * without matches the name on every host (`web-*`), as the local viewer's
 * pattern matches names.
 */
import { globToRegExp } from '../engine/selection.js';
import { badRequest } from '../server/errors.js';
import type { SandboxPattern } from './pattern.js';

/** A selection ready to read. */
export interface FleetSelection {
  /** The subject pattern whose filter holds every selected sandbox (often more). */
  readonly pattern: SandboxPattern;
  /** Whether an entry of `host`'s `sandbox` is selected. */
  readonly matches: (host: string, sandbox: string) => boolean;
  /** True unless exactly one sandbox is named: entries then carry their id as `sandbox`. */
  readonly merged: boolean;
  /** Whether sandboxes that appear later can join it (a pattern, or all): a stream then says when one does. */
  readonly watchesNew: boolean;
}

/** The id of a host's sandbox, as the viewer names it. */
export function fleetId(host: string, sandbox: string): string {
  return `${host}/${sandbox}`;
}

/**
 * Splits an id at its last `/` (a sandbox name never holds one, so a host
 * that does still parses).
 */
export function parseFleetId(id: string): { host: string; sandbox: string } {
  const slash = id.lastIndexOf('/');
  if (slash <= 0 || slash === id.length - 1)
    throw badRequest(`Expected a sandbox id host/name (URL-encoded in the path), got ${JSON.stringify(id)}`);
  return { host: id.slice(0, slash), sandbox: id.slice(slash + 1) };
}

function hasWildcard(text: string): boolean {
  return /[*?[\\]/.test(text);
}

/** One sandbox by id. */
export function singleSelection(id: string): FleetSelection {
  const { host, sandbox } = parseFleetId(id);
  return {
    pattern: { host, sandbox, merged: false },
    matches: (h, s) => h === host && s === sandbox,
    merged: false,
    watchesNew: false,
  };
}

/**
 * Several sandboxes: `ids` (exact), `patterns` (globs) or `all`. The subject
 * filter names a host when every part of the selection is on that one host.
 */
export function manySelection(ids: readonly string[], patterns: readonly string[], all: boolean): FleetSelection {
  if (all)
    return { pattern: { host: '*', sandbox: '*', merged: true }, matches: () => true, merged: true, watchesNew: true };
  if (ids.length === 0 && patterns.length === 0) throw badRequest('Expected `sandbox`, `pattern` or `all=1`');
  const exact = new Set(ids.map((id) => fleetId(parseFleetId(id).host, parseFleetId(id).sandbox)));
  const hosts = new Set(ids.map((id) => parseFleetId(id).host));
  const globs: { regexp: RegExp; whole: boolean }[] = [];
  for (const pattern of patterns) {
    const slash = pattern.lastIndexOf('/');
    if (slash < 0) {
      hosts.add('*');
      globs.push({ regexp: globToRegExp(pattern), whole: false });
      continue;
    }
    const host = pattern.slice(0, slash);
    hosts.add(hasWildcard(host) ? '*' : host);
    globs.push({ regexp: globToRegExp(pattern), whole: true });
  }
  const host = hosts.size === 1 ? [...hosts][0]! : '*';
  return {
    pattern: { host, sandbox: '*', merged: true },
    matches: (h, s) => {
      const id = fleetId(h, s);
      return exact.has(id) || globs.some((glob) => glob.regexp.test(glob.whole ? id : s));
    },
    merged: true,
    watchesNew: globs.length > 0,
  };
}
