/**
 * Merging several sandboxes' entries by time for the multi-sandbox stream
 * (ties: the order of the runs given, which is name order): what is on disk,
 * batch by batch so that it is never loaded whole, and each round of what the
 * followers queued.
 */
import type { Entry } from '../format/entry.js';
import type { LogStreamHandle } from './read.js';
import type { SandboxEntry } from './sandbox-entry.js';

/** Most entries handed out in one batch of a snapshot merge. */
const MAX_BATCH_ENTRIES = 512;

/** Entries of one sandbox, consumed from `at` on. */
export interface SandboxRun {
  readonly name: string;
  entries: readonly Entry[];
  at: number;
}

/** Hands out one entry of a sandbox (the multi-stream tags it with its multi-cursor). */
export type TagEntry = (name: string, entry: Entry) => SandboxEntry;

// The run whose next entry is earliest (ties: the first in `runs`), or undefined when all are used up.
function earliest<R extends SandboxRun>(runs: readonly R[]): R | undefined {
  let best: R | undefined;
  for (const run of runs) {
    if (run.at < run.entries.length && (best === undefined || run.entries[run.at]!.time < best.entries[best.at]!.time))
      best = run;
  }
  return best;
}

/** Merges `runs` whole, in time order. */
export function mergeRuns(runs: readonly SandboxRun[], tag: TagEntry): SandboxEntry[] {
  const out: SandboxEntry[] = [];
  for (;;) {
    const best = earliest(runs);
    if (best === undefined) return out;
    out.push(tag(best.name, best.entries[best.at++]!));
  }
}

/**
 * Merges the snapshot streams of `members` (opened, in name order) in time
 * order, in batches; stops when `signal` aborts.
 */
export async function* mergeSnapshots(
  members: readonly { readonly name: string; readonly handle: LogStreamHandle }[],
  tag: TagEntry,
  signal: AbortSignal,
): AsyncGenerator<SandboxEntry[]> {
  const heads = members.map((member) => ({
    name: member.name,
    iterator: member.handle.batches()[Symbol.asyncIterator](),
    entries: [] as readonly Entry[],
    at: 0,
    done: false,
  }));
  const fill = async (head: (typeof heads)[number]): Promise<void> => {
    while (head.at >= head.entries.length && !head.done) {
      const next = await head.iterator.next();
      if (next.done === true) head.done = true;
      else {
        head.entries = next.value as Entry[];
        head.at = 0;
      }
    }
  };
  try {
    await Promise.all(heads.map(fill));
    let out: SandboxEntry[] = [];
    for (;;) {
      const best = earliest(heads);
      if (best === undefined || signal.aborted) break;
      out.push(tag(best.name, best.entries[best.at++]!));
      if (best.at >= best.entries.length) await fill(best);
      if (out.length >= MAX_BATCH_ENTRIES) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    await Promise.all(heads.map((head) => head.iterator.return?.(undefined)));
  }
}
