/**
 * History pages: the entries just before a cursor, read backwards (a few
 * blocks per page however large the chain), oldest first, with the cursors a
 * forward read would have given them. What a viewer needs to scroll back
 * through a 50 MiB log page by page while live entries keep arriving.
 *
 * `before` names the position after the oldest entry the caller already
 * has (that entry's cursor): the page ends just before that entry, which is
 * not returned again. `before: 'end'` (or none) asks for the newest entries.
 * A cursor whose file has left retention is a {@link HistoryGoneError}.
 */
import { OptionsError, describeValue } from '../errors.js';
import { defaultHome, resolveTarget, type LogTarget } from '../files/layout.js';
import { decodeCursor, encodeCursor } from '../format/cursor.js';
import type { Entry, LogEntry } from '../format/entry.js';
import { decodeMultiCursor, encodeMultiCursor } from '../format/multi-cursor.js';
import { resolveOptions, type ReadOptions, type ResolvedOptions } from './options.js';
import { SandboxEntry } from './sandbox-entry.js';
import { resolveSelection, selectedSandboxes, type SandboxSelection } from './selection.js';
import { mergeByTime, readHistoryWalk } from './history-walk.js';

/** Entries per page when the caller names no limit. */
export const DEFAULT_HISTORY_LIMIT = 200;
/** Largest page. */
export const MAX_HISTORY_LIMIT = 10_000;

/** Options of {@link readHistory} and {@link readManyHistory}. */
export interface HistoryOptions extends Omit<ReadOptions, 'tail'> {
  /** The cursor of the oldest entry the caller has (a multi-cursor for several sandboxes); `'end'` or absent: the newest entries. */
  before?: string;
  /** Most entries returned. @default 200 */
  limit?: number;
}

/** One page of history. */
export interface HistoryPage<E extends LogEntry = LogEntry> {
  /** Up to `limit` entries immediately before `before`, oldest first. */
  readonly entries: E[];
  /** What to pass as `before` for the page before this one (the first entry's cursor; `before` itself when the page is empty). */
  readonly cursor: string;
  /** True when the page holds the first retained entry: there is nothing older (that passes the filter). */
  readonly start: boolean;
}

function resolveLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_HISTORY_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
    throw new OptionsError(
      `Expected the \`limit\` option to be an integer from 1 to ${MAX_HISTORY_LIMIT}, got ${describeValue(limit)}`,
    );
  }
  return limit;
}

function isEnd(before: string | undefined): boolean {
  return before === undefined || before === '' || before === 'end';
}

function resolveHistoryOptions(options: HistoryOptions): ResolvedOptions {
  if ((options as { tail?: unknown }).tail !== undefined)
    throw new OptionsError('The `tail` and `before` options conflict: a page is `limit` entries before a place');
  const { before: _before, limit: _limit, ...read } = options;
  return resolveOptions(read);
}

/** The page of one sandbox's (or log directory's) history before a cursor. */
export async function readHistory(target: LogTarget, options: HistoryOptions = {}): Promise<HistoryPage> {
  const resolved = resolveHistoryOptions(options);
  const limit = resolveLimit(options.limit);
  const before = isEnd(options.before) ? undefined : decodeCursor(options.before!);
  const { logDir } = await resolveTarget(target, resolved.home);
  // One more than the limit: the newest one found is the caller's own oldest entry, dropped.
  const page = await readHistoryWalk(logDir, resolved, before === undefined ? limit : limit + 1, before);
  const entries: Entry[] = page.entries;
  if (before !== undefined) entries.pop();
  return { entries, cursor: entries[0]?.cursor ?? encodeCursor(before ?? page.end), start: page.complete };
}

/**
 * The page of several sandboxes' merged history before a multi-cursor
 * (ties: name order). A sandbox the multi-cursor does not name had nothing
 * before it and contributes nothing; with `before` absent or `'end'`, the
 * newest `limit` entries of all the sandboxes together.
 */
export async function readManyHistory(
  selection: SandboxSelection,
  options: HistoryOptions = {},
): Promise<HistoryPage<SandboxEntry>> {
  const resolved = resolveHistoryOptions(options);
  const limit = resolveLimit(options.limit);
  const home = resolved.home ?? defaultHome();
  const before = isEnd(options.before) ? undefined : decodeMultiCursor(options.before!);
  const names = (await selectedSandboxes(resolveSelection(selection), home)).filter(
    (name) => before === undefined || before.has(name),
  );
  const pages = await Promise.all(
    names.map(async (name) => {
      const { logDir } = await resolveTarget({ name, home }, home);
      const from = before?.get(name);
      return readHistoryWalk(
        logDir,
        resolved,
        before === undefined ? limit : limit + 1,
        from === undefined ? undefined : decodeCursor(from),
      );
    }),
  );

  // Merge by time, ties by name order (the order of `names`), each sandbox's entries in their order.
  const merged = mergeByTime(pages.map((page) => page.entries));
  if (before !== undefined) merged.pop();
  const keepFrom = Math.max(0, merged.length - limit);

  let state: Record<string, string> = {};
  for (const [s, name] of names.entries()) state[name] = encodeCursor(pages[s]!.start);
  const entries: SandboxEntry[] = [];
  for (const [i, { list, entry }] of merged.entries()) {
    const name = names[list]!;
    state = { ...state, [name]: entry.cursor };
    if (i >= keepFrom) entries.push(new SandboxEntry(name, entry, state));
  }
  const fallback =
    options.before !== undefined && !isEnd(options.before)
      ? options.before
      : encodeMultiCursor(Object.fromEntries(names.map((name, s) => [name, encodeCursor(pages[s]!.end)])));
  return {
    entries,
    cursor: entries[0]?.cursor ?? fallback,
    start: keepFrom === 0 && pages.every((page) => page.complete),
  };
}
