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
 * before any of this code runs (and `node dist/cli.js` gets no flags from a
 * shebang). The growth factor is read at each growth, though: this lets the
 * young generation grow as it does by default, and sets the factor to 1 once
 * the cap is reached (and back to 2 should V8 shrink it below). Process-wide,
 * so only the executable calls it, never the library.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** The cap: both semi-spaces together, as V8 reports the new space's size. */
const NEW_SPACE_CAP_BYTES = 2 * 4 * 1024 * 1024;
const DEFAULT_GROWTH_FACTOR = 2;

function newSpaceBytes(): number {
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_size;
  return 0;
}

/** Caps the young generation of this process at {@link NEW_SPACE_CAP_BYTES}; checked after every collection. */
export function capYoungGeneration(): void {
  let growing = true;
  const observer = new PerformanceObserver(() => {
    const below = newSpaceBytes() < NEW_SPACE_CAP_BYTES;
    if (below === growing) return;
    growing = below;
    setFlagsFromString(`--semi-space-growth-factor=${below ? DEFAULT_GROWTH_FACTOR : 1}`);
  });
  observer.observe({ entryTypes: ['gc'] });
}
