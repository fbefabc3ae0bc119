/**
 * The CLI as one script: `dist/cli.bundle.cjs` (every module the commands
 * use, bundled by scripts/bundle-cli.js at build time) with V8's code cache
 * for it, `dist/cli.bundle.cache` (bytecode of the functions a few
 * representative commands ran, made at build time). Node 20 has no compile
 * cache for ES modules: loading the ~50 modules of `sandlog logs` one by
 * one, resolving, reading and compiling each, costs about 40 ms of every
 * run; the bundle with its cache starts in a few (bench/performance-notes.md,
 * "Start-up").
 *
 * Used only when it is at least as new as the modules it was made from: a
 * checkout rebuilt with `tsc` alone runs its modules, not a stale bundle.
 * A cache that V8 rejects (another Node, other flags) only costs the compile.
 *
 * A CommonJS module, like the executable that loads it (src/cli.cts): an ES
 * module as the process's entry point starts Node's ES module loader, ~20 ms
 * of every run that the bundle itself does not need.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import type { CommandContext } from './args.js' with { 'resolution-mode': 'import' };

export const BUNDLE_PATH = join(__dirname, '..', 'cli.bundle.cjs');
export const CODE_CACHE_PATH = join(__dirname, '..', 'cli.bundle.cache');
/** The module the bundle is made from (its entry point). */
const ENTRY_PATH = join(__dirname, 'process.js');

/** What the bundle exports: its entry point, src/cli/process.ts. */
export interface CliBundle {
  runProcess(argv: readonly string[]): Promise<void>;
  main(argv: readonly string[], context: CommandContext): Promise<number>;
}

export interface LoadedBundle {
  readonly exports: CliBundle;
  /** The compiled script: `createCachedData()` gives the cache of what has run so far. */
  readonly script: Script;
  /** Whether V8 refused the code cache (or there was none). */
  readonly cacheUnused: boolean;
}

/** The name the bundle's `import.meta.url` is replaced by (scripts/bundle-cli.js defines it). */
export const BUNDLE_URL_NAME = '__sandlog_bundle_url';

function modifiedMs(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Loads the bundle, with its code cache unless `useCache` is false; undefined
 * when there is no bundle or it is older than its entry module.
 */
export function loadBundle(useCache = true): LoadedBundle | undefined {
  const bundleTime = modifiedMs(BUNDLE_PATH);
  const entryTime = modifiedMs(ENTRY_PATH);
  if (bundleTime === undefined || (entryTime !== undefined && bundleTime < entryTime)) return undefined;
  const source = readFileSync(BUNDLE_PATH, 'utf8');
  let cachedData: Buffer | undefined;
  if (useCache) {
    try {
      cachedData = readFileSync(CODE_CACHE_PATH);
    } catch {
      cachedData = undefined;
    }
  }
  // A CommonJS module's wrapper, plus the bundle's own URL for what was `import.meta.url`.
  const wrapped = `(function (exports, require, module, __filename, __dirname, ${BUNDLE_URL_NAME}) {'use strict';${source}\n})`;
  const script = new Script(wrapped, { filename: BUNDLE_PATH, cachedData });
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} as CliBundle };
  run.call(
    module.exports,
    module.exports,
    createRequire(BUNDLE_PATH),
    module,
    BUNDLE_PATH,
    dirname(BUNDLE_PATH),
    pathToFileURL(BUNDLE_PATH).href,
  );
  return {
    exports: module.exports,
    script,
    cacheUnused: cachedData === undefined || script.cachedDataRejected === true,
  };
}
