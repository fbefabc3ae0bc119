/**
 * Log sources: which stream of a sandbox an entry came from, and how callers
 * name sets of them (`stdout,stderr`, `all`, repeated flags).
 */
import { OptionsError } from '../errors.js';

/** Where an entry came from. `output` is a pty session (stdout and stderr merged); `system` a lifecycle or runtime line. */
export type LogSource = 'stdout' | 'stderr' | 'output' | 'system';

/** Every source, in the order sandlog lists them. */
export const ALL_SOURCES: readonly LogSource[] = Object.freeze(['stdout', 'stderr', 'output', 'system']);

/** What a caller gets when it names no source: the program's own output, not `system`. */
export const DEFAULT_SOURCES: readonly LogSource[] = Object.freeze(['stdout', 'stderr', 'output']);

/** Bit for each source, so that a set of sources is one small integer on the hot path. */
export const SOURCE_BITS: Readonly<Record<LogSource, number>> = Object.freeze({
  stdout: 1,
  stderr: 2,
  output: 4,
  system: 8,
});

export function isLogSource(value: unknown): value is LogSource {
  return value === 'stdout' || value === 'stderr' || value === 'output' || value === 'system';
}

/**
 * Resolves source names into a set. Each item may itself be comma-separated;
 * `all` means every source. Nothing named (or undefined) gives the defaults.
 */
export function resolveSources(names: Iterable<string> | string | undefined): ReadonlySet<LogSource> {
  if (names === undefined) return new Set(DEFAULT_SOURCES);
  const items = typeof names === 'string' ? [names] : [...names];
  const picked = new Set<LogSource>();
  let named = false;
  for (const item of items) {
    for (const raw of String(item).split(',')) {
      const name = raw.trim().toLowerCase();
      if (name === '') continue;
      named = true;
      if (name === 'all') {
        for (const source of ALL_SOURCES) picked.add(source);
      } else if (isLogSource(name)) {
        picked.add(name);
      } else {
        throw new OptionsError(
          `Expected a source of stdout, stderr, output, system or all, got ${JSON.stringify(raw.trim())}`,
        );
      }
    }
  }
  return named ? picked : new Set(DEFAULT_SOURCES);
}

/** The bit mask of a set of sources. */
export function sourceMask(sources: Iterable<LogSource>): number {
  let mask = 0;
  for (const source of sources) mask |= SOURCE_BITS[source];
  return mask;
}
