/**
 * The order and cursors of a snapshot, as microsandbox makes them (measured
 * against msb 0.6.18): its engine reads the files in rounds — in each round,
 * one chunk of up to 1 MiB from each file's reader in table order (exec.log's
 * chain oldest file first, then runtime.log, then kernel.log) — collects
 * every entry, and sorts them by timestamp with a stable sort. So entries
 * with equal timestamps keep that read order: by round ("step"), then
 * reader, then file order. Each entry's cursor then holds, for every file,
 * the position of the last entry of that file up to it in the sorted order
 * (the start position while there is none).
 *
 * This module knows the steps (exactly for files up to 1 MiB, the common
 * case, and by the byte offset beyond), compares entries in that order and
 * lays down the accumulated cursors.
 */
import { statSync } from 'node:fs';
import { RotationChain } from '../files/chain.js';
import type { LogFileSpec } from '../files/layout.js';
import type { FilePosition } from '../format/cursor.js';
import type { Entry } from '../format/entry.js';

/** Bytes microsandbox's reader takes from a file per round. */
export const CHUNK_BYTES = 1024 * 1024;

/** The read round of each file of one reader, from where the read starts. */
export class StepTable {
  private readonly bases = new Map<bigint, { base: number; start: number }>();
  /** Bytes the reader has to read, from its start. */
  bytes = 0;

  private constructor() {}

  /**
   * Looks at the files one reader will read: for exec.log the chain, oldest
   * first (from the cursor's file when resuming), else the one file.
   */
  static async of(logDir: string, spec: LogFileSpec, start: FilePosition | undefined): Promise<StepTable> {
    const table = new StepTable();
    const chain = new RotationChain(logDir, spec.fileName);
    const members = spec.rotates ? (await chain.scan()).reverse() : [{ index: 0, generation: undefined }];
    let base = 0;
    let started = start === undefined || start.generation === 0n || !spec.rotates;
    for (const member of members) {
      let size: number;
      let generation: bigint;
      try {
        const stats = statSync(chain.path(member.index), { bigint: true });
        size = Number(stats.size);
        generation = stats.ino;
      } catch {
        continue;
      }
      if (!started && generation !== start!.generation) continue;
      const from = start !== undefined && generation === start.generation ? start.offset : 0;
      started = true;
      table.bases.set(generation, { base, start: from });
      table.bytes += Math.max(0, size - from);
      // A file with nothing left to read takes no round.
      base += size > from ? Math.ceil((size - from) / CHUNK_BYTES) : 0;
    }
    return table;
  }

  private lastGeneration: bigint | undefined;
  private lastFile: { base: number; start: number } | undefined;

  /** The round in which the line ending at `offset` of file `generation` is read. */
  stepOf(generation: bigint, offset: number): number {
    // Consecutive entries come from one file: one bigint-keyed lookup per file, not per entry.
    if (generation !== this.lastGeneration) {
      this.lastGeneration = generation;
      this.lastFile = this.bases.get(generation);
    }
    const file = this.lastFile;
    if (file === undefined) return 0;
    return file.base + Math.max(0, Math.floor((offset - file.start - 1) / CHUNK_BYTES));
  }
}

/**
 * Snapshot order for entries of the readers whose step tables are `tables`:
 * timestamp, then read round, then reader (file table order); 0 for two
 * entries of one reader at one time, so that a stable sort keeps file order.
 * Rounds are looked up only for equal timestamps of different readers.
 */
export function snapshotComparator(tables: readonly StepTable[]): (a: Entry, b: Entry) => number {
  return (a, b) => {
    const byTime = a.time - b.time;
    if (byTime !== 0 || a.reader === b.reader) return byTime;
    return (
      tables[a.reader]!.stepOf(a.generation, a.offset) - tables[b.reader]!.stepOf(b.generation, b.offset) ||
      a.reader - b.reader
    );
  };
}

/**
 * Gives each entry, in order, its accumulated cursor: `positions` (every
 * reader's position before the first entry) with each reader's slot moved to
 * its entries' ends as they pass. `positions` is left after the last entry.
 */
export function accumulateCursors(entries: readonly Entry[], positions: FilePosition[]): void {
  let base: FilePosition[] | undefined;
  let baseReader = -1;
  let previous: Entry | undefined;
  for (const entry of entries) {
    if (base === undefined || baseReader !== entry.reader) {
      if (previous !== undefined) positions[previous.reader] = previous.position;
      // Consecutive entries of one reader share the other readers' slots; each puts its own position in its slot.
      base = [...positions];
      baseReader = entry.reader;
    }
    entry.setCursor(base, undefined);
    previous = entry;
  }
  if (previous !== undefined) positions[previous.reader] = previous.position;
}

/** Stable-sorts `entries` (one reader's, in file order) by time when they are not in time order already. */
export function sortByTime(entries: Entry[]): Entry[] {
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.time < entries[i - 1]!.time) return entries.sort((a, b) => a.time - b.time);
  }
  return entries;
}
