/**
 * Which sandboxes a multi-sandbox read covers: names, shell-style patterns
 * (`*`, `?`, `[…]`, `[!…]`, `\` escaping the next character) or all of them. Patterns are matched against the
 * sandboxes present under the home; a matching directory counts once its
 * `logs/` directory exists. Explicit names must exist; patterns may match
 * nothing.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OptionsError, SandboxNotFoundError, describeValue } from '../errors.js';
import { LOG_FILES, resolveTarget, sandboxesDir, sandboxLogDir } from '../files/layout.js';
import { assertSandboxName, sandboxNameProblem } from '../format/name.js';

/**
 * Sandboxes to read: a name or pattern, a list of them, or `{ all: true }`.
 * An argument holding `*`, `?` or `[` is a pattern; anything else is a name.
 */
export type SandboxSelection =
  | string
  | readonly string[]
  | { readonly all: true }
  | { readonly names?: readonly string[]; readonly patterns?: readonly string[] };

/** A selection resolved once: the names it lists and the patterns it matches. */
export interface ResolvedSelection {
  readonly names: readonly string[];
  readonly patterns: readonly RegExp[];
  /** Whether the set of sandboxes can change (patterns or all): followers look for new ones. */
  readonly dynamic: boolean;
  /** How the selection was written, for messages. */
  readonly description: string;
}

/** Whether a command-line argument is a pattern rather than a name. */
export function isPattern(argument: string): boolean {
  return /[*?[]/.test(argument);
}

/** Translates a shell-style glob into an anchored regular expression; an unclosed `[` is literal. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    // Names never hold a backslash, so it can only be an escape: `a\[1]` is the name `a[1]`.
    if (c === '\\' && i + 1 < glob.length) source += glob[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!' || glob[j] === '^') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) {
        source += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, j);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\\\][^]/g, '\\$&')}]`;
      i = j;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'su');
}

/** Checks a selection and splits it into names and patterns. */
export function resolveSelection(selection: SandboxSelection): ResolvedSelection {
  let list: readonly unknown[];
  // With `names`/`patterns` apart, a pattern without wildcards is still a pattern (matching one name, which may be absent).
  let forcedPatterns: readonly unknown[] = [];
  if (typeof selection === 'object' && selection !== null && !Array.isArray(selection)) {
    const object = selection as { all?: unknown; names?: unknown; patterns?: unknown };
    if (object.all === true) return { names: [], patterns: [/^/], dynamic: true, description: 'all sandboxes' };
    if (object.names !== undefined && !Array.isArray(object.names))
      throw new OptionsError(`Expected \`names\` to be an array, got ${describeValue(object.names)}`);
    if (object.patterns !== undefined && !Array.isArray(object.patterns))
      throw new OptionsError(`Expected \`patterns\` to be an array, got ${describeValue(object.patterns)}`);
    list = (object.names as unknown[] | undefined) ?? [];
    forcedPatterns = (object.patterns as unknown[] | undefined) ?? [];
    if (object.all !== undefined || (list.length === 0 && forcedPatterns.length === 0))
      throw new OptionsError(`Expected a sandbox selection, got ${describeValue(selection)}`);
  } else {
    list = typeof selection === 'string' ? [selection] : (selection as readonly unknown[]);
    if (!Array.isArray(list) || list.length === 0)
      throw new OptionsError('Expected at least one sandbox name or pattern');
  }
  const names: string[] = [];
  const patterns: RegExp[] = [];
  for (const [i, item] of [...list, ...forcedPatterns].entries()) {
    if (typeof item !== 'string' || item === '')
      throw new OptionsError(`Expected a sandbox name or pattern, got ${describeValue(item)}`);
    if (i >= list.length || isPattern(item)) {
      if (item.includes('/'))
        throw new OptionsError(`Expected a sandbox pattern without path separators, got ${JSON.stringify(item)}`);
      patterns.push(globToRegExp(item));
    } else {
      assertSandboxName(item);
      if (!names.includes(item)) names.push(item);
    }
  }
  return {
    names,
    patterns,
    dynamic: patterns.length > 0,
    description: [...list, ...forcedPatterns].map((item) => JSON.stringify(item)).join(', '),
  };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The sandboxes under `home` that the selection's patterns match now (sorted), explicit names not included. */
export async function matchingSandboxes(selection: ResolvedSelection, home: string): Promise<string[]> {
  if (selection.patterns.length === 0) return [];
  let entries: string[];
  try {
    entries = await readdir(sandboxesDir(home));
  } catch {
    return [];
  }
  const matched: string[] = [];
  for (const name of entries.sort()) {
    if (sandboxNameProblem(name) !== undefined) continue;
    if (!selection.patterns.some((pattern) => pattern.test(name))) continue;
    if (await isDirectory(join(sandboxesDir(home), name, 'logs'))) matched.push(name);
  }
  return matched;
}

/** Orders names as every merge does: by UTF-16 code units, the same in every process. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The sandboxes a selection covers now, sorted: every explicit name (each
 * must exist: {@link SandboxNotFoundError} otherwise) and every sandbox a
 * pattern matches whose logs are ours to read.
 */
export async function selectedSandboxes(selection: ResolvedSelection, home: string): Promise<string[]> {
  for (const name of selection.names) await resolveTarget({ name, home }, home);
  const found: string[] = [];
  for (const name of await matchingSandboxes(selection, home)) {
    if (selection.names.includes(name)) continue;
    try {
      await resolveTarget({ name, home }, home);
      found.push(name);
    } catch (error) {
      if (!(error instanceof SandboxNotFoundError)) throw error;
    }
  }
  return [...selection.names, ...found].sort(compareNames);
}

/** Whether a sandbox's log directory is gone, or holds none of the log files any more (being removed). */
export async function sandboxLogsGone(home: string, name: string): Promise<boolean> {
  try {
    const present = new Set(await readdir(sandboxLogDir(home, name)));
    return !LOG_FILES.some((spec) => present.has(spec.fileName));
  } catch {
    return true;
  }
}
