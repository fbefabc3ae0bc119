/** Copying a run of bytes between buffers at the lowest cost for its length (the output writers' one helper). */

/** Bytes from which Buffer.copy beats a byte loop (Node 20 here: a copy costs ~45 ns whatever its size up to 256 bytes, a loop ~1 ns a byte). */
export const COPY_BYTES = 48;

/** `source[from, to)` into `target` at `at`; returns the end. */
export function copyBytes(target: Uint8Array, at: number, source: Uint8Array, from: number, to: number): number {
  if (to - from >= COPY_BYTES) return at + (source as Buffer).copy(target, at, from, to);
  for (let i = from; i < to; i++) target[at++] = source[i]!;
  return at;
}
