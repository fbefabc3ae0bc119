/**
 * A cap on V8's young generation for the CLI process.
 *
 * V8 doubles the young generation after scavenges until each semi-space is
 * 16 MiB (Node 20, 64-bit). A `sandlog logs` read allocates a few hundred
 * bytes of short-lived objects per entry, so a large read grows it to the
 * full 2 × 16 MiB, and every page of that (and the read buffers that die
 * with the entries, freed only when a scavenge finds them dead) counts in
 * the process's RSS. Semi-spaces of 4 MiB keep the same read about 30 MiB
 * smaller and no slower: on a virtual machine whose host hands out pages
 * lazily, fresh pages cost more than the extra scavenges
 * (bench/performance-notes.md, "young generation").
 *
 * `--max-semi-space-size` is read only when the heap is set up, which is
 * before any of this code runs (and `node dist/cli.cjs` gets no flags from a
 * shebang). The growth factor is read at each growth, though: this lets the
 * young generation grow as it does by default, and sets the factor to 1 at
 * the cap. Process-wide, so only the executable calls it, never the library.
 */
import { createRequire } from 'node:module';
import type { getHeapSpaceStatistics as HeapSpaceStatistics } from 'node:v8';

/** Loads the built-in modules the cap needs when it is put in place (see capYoungGeneration). */
const load = createRequire(import.meta.url);

/** The cap: both semi-spaces together, as V8 reports the new space's size. */
const NEW_SPACE_CAP_BYTES = 2 * 4 * 1024 * 1024;

function newSpaceBytes(getHeapSpaceStatistics: typeof HeapSpaceStatistics): number {
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_size;
  return NEW_SPACE_CAP_BYTES;
}

/**
 * Caps the young generation of this process at {@link NEW_SPACE_CAP_BYTES}.
 * V8 doubles it when it grows it (at most once a scavenge) with the default
 * factor of 2; once a collection finds it at the cap (or past it: the
 * observer runs a turn or two of the event loop after the collection), the
 * factor is set to 1 for good. For good, because V8 also shrinks the young
 * generation (when it thinks memory is short, or few objects survive), and
 * one that shrinks and is let grow again can double twice before an
 * observer runs: the scavenge counts it keeps toward the next growth are
 * not reset by a shrink. After a shrink it stays smaller, which costs a few
 * more scavenges and no memory.
 *
 * The two modules it needs are loaded here, not with the CLI: most commands
 * end before they would have grown the young generation at all.
 */
export function capYoungGeneration(): void {
  const { PerformanceObserver } = load('node:perf_hooks') as typeof import('node:perf_hooks');
  const { getHeapSpaceStatistics, setFlagsFromString } = load('node:v8') as typeof import('node:v8');
  if (newSpaceBytes(getHeapSpaceStatistics) >= NEW_SPACE_CAP_BYTES) {
    setFlagsFromString('--semi-space-growth-factor=1');
    return;
  }
  const observer = new PerformanceObserver(() => {
    if (newSpaceBytes(getHeapSpaceStatistics) * 2 <= NEW_SPACE_CAP_BYTES) return;
    setFlagsFromString('--semi-space-growth-factor=1');
    observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
}
