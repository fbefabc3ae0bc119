/**
 * Where logs live: the home, a sandbox's log directory, and the table of log
 * files a directory holds. Adding a log file type is one entry in
 * {@link LOG_FILES}.
 */
import { realpathSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SandboxNotFoundError } from '../errors.js';
import { assertSandboxName } from '../format/name.js';
import type { LogSource } from '../format/source.js';

/** The rotating JSON Lines log of exec sessions. */
export const EXEC_LOG = 'exec.log';
/** The runtime's own diagnostics (plain text). */
export const RUNTIME_LOG = 'runtime.log';
/** The guest kernel's console (plain text). */
export const KERNEL_LOG = 'kernel.log';
/** A failed start, written atomically by the runtime. */
export const BOOT_ERROR_FILE = 'boot-error.json';

/** Static description of one log file a reader can stream. */
export interface LogFileSpec {
  readonly fileName: string;
  readonly format: 'jsonl' | 'text';
  /** Rotating files are read as a chain (`name.N` … `name.1`, `name`); others as one file that may be replaced. */
  readonly rotates: boolean;
  /** Sources its entries can carry: a reader is opened only when these meet the requested ones. */
  readonly sources: readonly LogSource[];
}

/** The files of a log directory, in cursor order. */
export const LOG_FILES: readonly LogFileSpec[] = Object.freeze([
  Object.freeze({
    fileName: EXEC_LOG,
    format: 'jsonl',
    rotates: true,
    sources: Object.freeze(['stdout', 'stderr', 'output', 'system']),
  }),
  Object.freeze({ fileName: RUNTIME_LOG, format: 'text', rotates: false, sources: Object.freeze(['system']) }),
  Object.freeze({ fileName: KERNEL_LOG, format: 'text', rotates: false, sources: Object.freeze(['system']) }),
] as LogFileSpec[]);

/** The files whose sources meet `sources`, in cursor order. */
export function filesForSources(sources: ReadonlySet<LogSource>): LogFileSpec[] {
  return LOG_FILES.filter((spec) => spec.sources.some((source) => sources.has(source)));
}

/** The home: `$MSB_HOME` verbatim when set, else `~/.microsandbox`. */
export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['MSB_HOME'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.microsandbox');
}

/** Where a home keeps its sandboxes. */
export function sandboxesDir(home: string): string {
  return join(home, 'sandboxes');
}

/** A sandbox's log directory under a home (the name is validated). */
export function sandboxLogDir(home: string, name: string): string {
  assertSandboxName(name);
  return join(sandboxesDir(home), name, 'logs');
}

/** The path of rotation index `index` of `fileName` (0 is the live file). */
export function rotatedPath(logDir: string, fileName: string, index: number): string {
  return index === 0 ? join(logDir, fileName) : join(logDir, `${fileName}.${index}`);
}

/**
 * What to read: a sandbox name (no `/`; resolved under the home), a path to a
 * log directory (anything with a `/`), or an object naming either.
 */
export type LogTarget = string | { readonly name: string; readonly home?: string } | { readonly logDir: string };

/** A target resolved to a directory. */
export interface ResolvedTarget {
  readonly logDir: string;
  /** The sandbox name, when the target was one. */
  readonly name: string | undefined;
}

/** Resolves a target to its log directory without touching the disk. */
export function locateTarget(target: LogTarget, home: string | undefined): ResolvedTarget {
  if (typeof target === 'string') {
    if (target.includes('/')) return { logDir: resolve(target), name: undefined };
    return { logDir: sandboxLogDir(home ?? defaultHome(), target), name: target };
  }
  if ('logDir' in target) return { logDir: resolve(target.logDir), name: undefined };
  return { logDir: sandboxLogDir(target.home ?? home ?? defaultHome(), target.name), name: target.name };
}

/**
 * Resolves a target and checks that its directory exists — and, for a sandbox
 * name, that it does not lead outside the home through a symbolic link.
 */
export async function resolveTarget(target: LogTarget, home: string | undefined): Promise<ResolvedTarget> {
  const located = locateTarget(target, home);
  const what =
    located.name === undefined ? `log directory ${located.logDir}` : `sandbox ${JSON.stringify(located.name)}`;
  let info: Stats;
  try {
    info = await stat(located.logDir);
  } catch (error) {
    throw new SandboxNotFoundError(`${what} not found (no ${located.logDir})`, { cause: error });
  }
  if (!info.isDirectory()) throw new SandboxNotFoundError(`${what} not found (${located.logDir} is not a directory)`);
  if (located.name !== undefined) {
    const homeDir =
      typeof target === 'object' && 'home' in target && target.home !== undefined
        ? target.home
        : (home ?? defaultHome());
    let realHome: string;
    let realLogDir: string;
    try {
      realHome = realpathSync(homeDir);
      realLogDir = realpathSync(located.logDir);
    } catch (error) {
      // Removed between the stat and here.
      throw new SandboxNotFoundError(`${what} not found (no ${located.logDir})`, { cause: error });
    }
    if (!isWithin(realHome, realLogDir)) {
      throw new SandboxNotFoundError(`${what} not found: its log directory leads outside the home (${realLogDir})`);
    }
  }
  return located;
}

/**
 * Whether `path` is `root` or lies below it (both already resolved through
 * links): a sandbox whose log directory leads elsewhere is not ours to read.
 */
export function isWithin(root: string, path: string): boolean {
  const inside = relative(root, path);
  return inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside);
}
