/**
 * The options of `readLogs`, `readLogsSnapshot` and `streamLogs`, all optional,
 * resolved once into a complete frozen object. Conflicts and bad values are
 * {@link OptionsError}s naming the option and the value.
 */
import { OptionsError, describeValue } from '../errors.js';
import { checkCheckpoint, type Checkpoint, type CheckedCheckpoint } from '../format/checkpoint.js';
import { decodeCursor, type FilePosition } from '../format/cursor.js';
import { resolveSources, sourceMask, type LogSource } from '../format/source.js';
import { parseTimeArgument } from '../format/time.js';
import { POLL_INTERVAL_MS } from './watch.js';
import type { LogWarning } from './file-reader.js';
import { DEFAULT_HOLD_GENERATIONS } from './generation-holder.js';

/** A point in time: a Date, epoch milliseconds, or a string (RFC 3339, or relative such as `5m`). */
export type TimeInput = Date | number | string;

/** Options shared by every read. */
export interface ReadOptions {
  /**
   * Sources to include: names, `all`, or a comma-separated string.
   * @default ["stdout", "stderr", "output"]
   */
  sources?: Iterable<LogSource | 'all'> | string;
  /** Only entries at or after this time. */
  since?: TimeInput;
  /**
   * Only entries strictly before this time. A snapshot reads on past later
   * entries (an older one may follow them, as microsandbox's sorted snapshot
   * keeps it); a follower's source ends at its first entry at or after it.
   */
  until?: TimeInput;
  /** Only the last N entries (after every other filter). */
  tail?: number;
  /** Only entries whose text matches (a RegExp, or a pattern string). */
  grep?: RegExp | string;
  /**
   * Home that sandbox names resolve under.
   * @default `$MSB_HOME`, else `~/.microsandbox`
   */
  home?: string;
  /** Told about skipped malformed records and files truncated in place. */
  onWarning?: (warning: LogWarning) => void;
}

/** Options of `streamLogs`. */
export interface StreamOptions extends ReadOptions {
  /** Start strictly after this cursor (conflicts with `since`). */
  afterCursor?: string;
  /**
   * Start strictly after this checkpoint (from `handle.checkpoint()`): like
   * `afterCursor`, but a position whose file has left retention — even one
   * whose inode number a newer file carries now — fails with
   * `MissedRotationError` before the first entry instead of resuming in the
   * wrong place. Conflicts with `afterCursor`, `since` and `tail`.
   */
  afterCheckpoint?: Checkpoint;
  /**
   * Keep reading as the logs grow, across rotations, until aborted or broken out of.
   * @default false
   */
  follow?: boolean;
  /** Ends the stream (cleanly) when aborted. */
  signal?: AbortSignal;
  /**
   * Longest wait between looks at the files when no change event arrives.
   * The default (2000) means "the shared poll": every 2 s while the
   * directory's watcher is down, every 30 s while it works.
   * @default 2000
   */
  pollIntervalMs?: number;
  /**
   * How many generations of exec.log beyond retention a follower may fall
   * behind and still get every record: files that rotate out of retention
   * stay open (shared by every stream of the process) while a stream that
   * far behind still needs them. Further behind, the stream fails with
   * `MissedRotationError`. The deleted files held for it take at most this
   * many × the writer's `maxBytes` of disk space until it has read them.
   * @default 4
   */
  holdGenerations?: number;
}

/** Options after resolution. */
export interface ResolvedOptions {
  readonly sources: ReadonlySet<LogSource>;
  readonly sourceMask: number;
  readonly since: number;
  readonly until: number;
  readonly tail: number | undefined;
  readonly grep: RegExp | undefined;
  readonly home: string | undefined;
  readonly afterCursor: readonly FilePosition[] | undefined;
  /** The checkpoint `afterCursor` came from, when it did: its digests are checked on opening. */
  readonly checkpoint: CheckedCheckpoint | undefined;
  readonly follow: boolean;
  readonly signal: AbortSignal | undefined;
  readonly pollIntervalMs: number;
  readonly holdGenerations: number;
  readonly onWarning: (warning: LogWarning) => void;
}

function resolveTime(name: string, value: TimeInput | undefined, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (value instanceof Date) {
    const time = value.getTime();
    if (Number.isNaN(time))
      throw new OptionsError(`Expected the \`${name}\` option to be a valid date, got ${describeValue(value)}`);
    return time;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new OptionsError(`Expected the \`${name}\` option to be a finite number, got ${describeValue(value)}`);
    return value;
  }
  if (typeof value === 'string') return parseTimeArgument(value).getTime();
  throw new OptionsError(
    `Expected the \`${name}\` option to be a Date, a number or a string, got ${describeValue(value)}`,
  );
}

function resolveGrep(value: RegExp | string | undefined): RegExp | undefined {
  if (value === undefined) return undefined;
  if (value instanceof RegExp) return new RegExp(value.source, value.flags.replace(/[gy]/g, ''));
  if (typeof value !== 'string')
    throw new OptionsError(`Expected the \`grep\` option to be a RegExp or a string, got ${describeValue(value)}`);
  try {
    return compileGrep(value);
  } catch (error) {
    throw new OptionsError(
      `Expected the \`grep\` option to be a valid regular expression, got ${JSON.stringify(value)}: ${(error as Error).message}`,
    );
  }
}

/**
 * A `grep` pattern as a RegExp: with the `u` flag where the pattern is valid
 * with it, else without (such as `a{` or `\-`, which are valid only so). Throws the
 * latter's SyntaxError.
 */
export function compileGrep(pattern: string): RegExp {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return new RegExp(pattern);
  }
}

/** Resolves and checks options. */
export function resolveOptions(options: StreamOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError(`Expected options to be an object, got ${describeValue(options)}`);
  }
  const sourceList =
    options.sources === undefined
      ? undefined
      : typeof options.sources === 'string'
        ? options.sources
        : [...options.sources];
  const sources = resolveSources(sourceList);
  if (options.afterCursor !== undefined && options.since !== undefined) {
    throw new OptionsError('The `since` and `afterCursor` options conflict: a stream starts at one place');
  }
  if (options.afterCursor !== undefined && options.tail !== undefined) {
    throw new OptionsError('The `tail` and `afterCursor` options conflict: a stream starts at one place');
  }
  if (options.afterCheckpoint !== undefined) {
    for (const other of ['afterCursor', 'since', 'tail'] as const) {
      if (options[other] !== undefined)
        throw new OptionsError(
          `The \`${other}\` and \`afterCheckpoint\` options conflict: a stream starts at one place`,
        );
    }
  }
  const checkpoint = options.afterCheckpoint === undefined ? undefined : checkCheckpoint(options.afterCheckpoint);
  const tail = options.tail;
  if (tail !== undefined && (!Number.isSafeInteger(tail) || tail < 0)) {
    throw new OptionsError(`Expected the \`tail\` option to be a non-negative integer, got ${describeValue(tail)}`);
  }
  const pollIntervalMs = options.pollIntervalMs ?? POLL_INTERVAL_MS;
  if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 1) {
    throw new OptionsError(
      `Expected the \`pollIntervalMs\` option to be a positive number, got ${describeValue(pollIntervalMs)}`,
    );
  }
  const holdGenerations = options.holdGenerations ?? DEFAULT_HOLD_GENERATIONS;
  if (!Number.isSafeInteger(holdGenerations) || holdGenerations < 0) {
    throw new OptionsError(
      `Expected the \`holdGenerations\` option to be a non-negative integer, got ${describeValue(holdGenerations)}`,
    );
  }
  return Object.freeze({
    sources,
    sourceMask: sourceMask(sources),
    since: resolveTime('since', options.since, -Infinity),
    until: resolveTime('until', options.until, Infinity),
    tail,
    grep: resolveGrep(options.grep),
    home: options.home,
    afterCursor:
      checkpoint !== undefined
        ? checkpoint.positions
        : options.afterCursor === undefined
          ? undefined
          : decodeCursor(options.afterCursor),
    checkpoint,
    follow: options.follow === true,
    signal: options.signal,
    pollIntervalMs,
    holdGenerations,
    onWarning: options.onWarning ?? (() => undefined),
  });
}
