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
 * young generation grow as it does by default, and sets the factor to 1 at
 * the cap. Process-wide, so only the executable calls it, never the library.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** The cap: both semi-spaces together, as V8 reports the new space's size. */
const NEW_SPACE_CAP_BYTES = 2 * 4 * 1024 * 1024;

function newSpaceBytes(): number {
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_size;
  return NEW_SPACE_CAP_BYTES;
}

/**
 * Caps the young generation of this process at {@link NEW_SPACE_CAP_BYTES}.
 * V8 doubles it when it grows it (at most once a scavenge) with the default
 * factor of 2; after every collection the factor is set to 1 once a doubling
 * would pass the cap. Observers run between turns of the event loop, so a
 * single synchronous burst that grows it twice could pass the cap; the CLI's
 * reads are made of small steps (a block of 256 KiB at most) between I/O.
 */
export function capYoungGeneration(): void {
  let factor = 2;
  new PerformanceObserver(() => {
    const next = newSpaceBytes() * 2 <= NEW_SPACE_CAP_BYTES ? 2 : 1;
    if (next === factor) return;
    factor = next;
    setFlagsFromString(`--semi-space-growth-factor=${factor}`);
  }).observe({ entryTypes: ['gc'] });
}
