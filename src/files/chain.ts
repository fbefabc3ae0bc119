/**
 * The rotation chain of one rotating log file: `name` (live, index 0) and
 * `name.1` … `name.N` (older as N grows). The chain is discovered from the
 * directory listing, so a writer that keeps more (or fewer) than four rotated
 * files is read whole, and a hole left by a crash mid-rotation is no obstacle.
 *
 * A rotation renames several files one after another; a scan that runs in the
 * middle of it can see a file twice or not at all. {@link RotationChain.scan}
 * therefore repeats until two scans agree before anyone concludes from it.
 */
import { readdirSync } from 'node:fs';
import { rotatedPath } from './layout.js';
import { generationOfNow } from './log-file.js';

/** One file of the chain. */
export interface ChainMember {
  readonly index: number;
  readonly generation: bigint;
}

const MAX_SCAN_ATTEMPTS = 8;

export class RotationChain {
  readonly logDir: string;
  readonly fileName: string;

  constructor(logDir: string, fileName: string) {
    this.logDir = logDir;
    this.fileName = fileName;
  }

  path(index: number): string {
    return rotatedPath(this.logDir, this.fileName, index);
  }

  /** Indexes of the rotated files present now (ascending: newest first). */
  async rotatedIndexes(): Promise<number[]> {
    return this.rotatedIndexesNow();
  }

  // Synchronous on purpose: a scan is a handful of metadata calls that take microseconds, while through
  // the thread pool, shared by every follower of the process, they queue behind each other; under fast
  // rotation a scan that waits there longer than the retention window lets the files it is about to
  // take rotate out (40 followers of one sandbox at ~25 rotations/s all missed rotations).
  private rotatedIndexesNow(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.logDir);
    } catch {
      return [];
    }
    const prefix = `${this.fileName}.`;
    const indexes: number[] = [];
    for (const name of names) {
      if (!name.startsWith(prefix)) continue;
      const suffix = name.slice(prefix.length);
      if (/^[1-9][0-9]{0,5}$/.test(suffix)) indexes.push(Number(suffix));
    }
    return indexes.sort((a, b) => a - b);
  }

  private scanOnce(): ChainMember[] {
    const members: ChainMember[] = [];
    for (const index of [0, ...this.rotatedIndexesNow()]) {
      const generation = generationOfNow(this.path(index));
      if (generation !== undefined) members.push({ index, generation });
    }
    return members;
  }

  /** The chain as it stands, newest first, from two consecutive scans that agree. */
  async scan(): Promise<ChainMember[]> {
    return this.scanNow();
  }

  /** {@link scan}, synchronously: for the generation holder, which acts in the turn that learnt of a rotation. */
  scanNow(): ChainMember[] {
    let previous = this.scanOnce();
    for (let attempt = 1; attempt < MAX_SCAN_ATTEMPTS; attempt++) {
      const current = this.scanOnce();
      if (sameMembers(previous, current)) return current;
      previous = current;
    }
    return previous;
  }
}

function sameMembers(a: readonly ChainMember[], b: readonly ChainMember[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((member, i) => member.index === b[i]!.index && member.generation === b[i]!.generation);
}
