/**
 * `host/name` arguments of `logs --nats`: a host and a sandbox name, either
 * of which may be `*` (every host / every sandbox), turned into the one
 * subject filter JetStream 2.9 takes.
 */
import { OptionsError } from '../errors.js';
import type { LogSource } from '../format/source.js';
import { encodeToken, SUBJECT_PREFIX } from '../ship/naming.js';

/** A parsed `host/name`. */
export interface SandboxPattern {
  readonly host: string;
  readonly sandbox: string;
  /** True when either part is `*`: entries of several sandboxes are merged. */
  readonly merged: boolean;
}

/** Parses `host/name` (either part `*`). */
export function parseSandboxPattern(text: string): SandboxPattern {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1)
    throw new OptionsError(`Expected host/name (either may be *) with --nats, got ${JSON.stringify(text)}`);
  const host = text.slice(0, slash);
  const sandbox = text.slice(slash + 1);
  if (sandbox.includes('/'))
    throw new OptionsError(`Expected host/name (either may be *) with --nats, got ${JSON.stringify(text)}`);
  return { host, sandbox, merged: host === '*' || sandbox === '*' };
}

/** The subject filter of a pattern; one source narrows it to that source's subject. */
export function patternFilter(pattern: SandboxPattern, sources: ReadonlySet<LogSource>): string {
  const part = (name: string): string => (name === '*' ? '*' : encodeToken(name));
  const source = sources.size === 1 ? [...sources][0]! : '*';
  return `${SUBJECT_PREFIX}.${part(pattern.host)}.${part(pattern.sandbox)}.${source}`;
}
