/**
 * Generation holders: one per rotating log file of a directory (exec.log),
 * shared by every reader of it in this process, beside the shared watcher.
 *
 * When the directory changes, the holder opens each new generation once, in
 * the same turn of the event loop (synchronously), and keeps the descriptor
 * for as long as a reader still needs it. N followers of a sandbox therefore
 * cost one open per rotation, and a follower that falls behind reads files
 * that have already left retention from the held descriptors: an open
 * descriptor keeps a deleted file readable.
 *
 * Contracts:
 * - Held generations are a contiguous run of the file's history, oldest
 *   first. Each reader holds a {@link GenerationLease} on the generation it
 *   is in; a generation is held while a lease is at it or before it, and
 *   closed as soon as none is.
 * - A generation that has left the chain ("departed": deleted by retention)
 *   stays open while a lease within its hold needs it; a lease is within its
 *   hold while at most `hold` departed generations lie at or after the one it
 *   is in. A lease further behind is missed: it keeps, as room allows, the
 *   departed generations right after it, its reader reads those and then
 *   fails with MissedRotationError (never skipping one). The departed
 *   generations open stay at most the largest hold of the leases, so the
 *   disk space of deleted files held stays under that × maxBytes.
 * - When the newest generation held departed before the holder saw the next
 *   one, the next one it sees may not be its successor (the format has no
 *   rotation counter): it is marked as after a gap, and a reader reaching it
 *   fails with MissedRotationError instead of skipping silently.
 * - The holder closes every descriptor and stops watching when its last
 *   lease is released.
 */
import { RotationChain, type ChainMember } from '../files/chain.js';
import { generationOfNow, openLogFileNow, renamedHereCount, type OpenLogFile } from '../files/log-file.js';
import { subscribe } from './watch.js';

/** Generations a follower may fall behind beyond retention by default before it misses a rotation. */
export const DEFAULT_HOLD_GENERATIONS = 4;

// Rotations can move files between a scan and an open; the holder scans again this many times.
const MAX_OPEN_ATTEMPTS = 8;

/** One generation (inode) of the file, open. */
export interface HeldGeneration {
  readonly generation: bigint;
  readonly file: OpenLogFile;
  /** Position in the file's history: consecutive generations have consecutive numbers. */
  readonly sequence: number;
  /** Generations between the one before and this one may have come and gone unseen. */
  readonly afterGap: boolean;
  /** Left the rotation chain: only the descriptor keeps it. */
  departed: boolean;
  /** Closed: a reader at it or moving to it has missed a rotation. */
  released: boolean;
}

/** A reader's claim on the generation it is in and every newer one. */
export interface GenerationLease {
  readonly holder: GenerationHolder;
  /** The generation the reader is in; undefined until it has one. */
  readonly at: HeldGeneration | undefined;
}

interface Lease extends GenerationLease {
  at: HeldGeneration | undefined;
  missed: boolean;
  following: boolean;
  readonly hold: number;
}

const holders = new Map<string, GenerationHolder>();
let opens = 0;

export class GenerationHolder {
  readonly chain: RotationChain;
  private readonly key: string;
  /** Oldest first, contiguous sequence numbers. */
  private readonly held: HeldGeneration[] = [];
  private readonly leases = new Set<Lease>();
  /** The chain as last scanned, newest first. */
  private members: ChainMember[] = [];
  private unsubscribe: (() => void) | undefined;
  private followers = 0;
  /** The generation at the live name as last seen in this turn of the event loop (see {@link look}). */
  private seenLive: bigint | undefined;
  private seenThisTurn = false;
  private seenAtRename = 0;

  private constructor(logDir: string, fileName: string, key: string) {
    this.chain = new RotationChain(logDir, fileName);
    this.key = key;
  }

  /**
   * A lease on the file `fileName` of `logDir`, from the holder shared by the
   * process (created on first use). `hold` is how many departed generations
   * the lease may fall behind; a `following` lease makes the holder watch the
   * directory, so that it opens new generations as they appear.
   */
  static lease(
    logDir: string,
    fileName: string,
    options: { readonly hold: number; readonly following: boolean },
  ): GenerationLease {
    const key = `${logDir}\0${fileName}`;
    let holder = holders.get(key);
    if (holder === undefined) {
      holder = new GenerationHolder(logDir, fileName, key);
      holders.set(key, holder);
    }
    const lease: Lease = { holder, at: undefined, missed: false, following: false, hold: options.hold };
    holder.leases.add(lease);
    if (options.following) holder.follow(lease);
    return lease;
  }

  private follow(lease: Lease): void {
    lease.following = true;
    this.followers += 1;
    // Subscribed before the stream's own listener, so new generations are held before followers wake.
    this.unsubscribe ??= subscribe(this.chain.logDir, (event) => {
      if (event === 'change') return;
      try {
        this.refresh();
      } catch {
        // A file that cannot be opened: the readers meet the error when they look themselves.
      }
    });
  }

  /** The lease stops following (its stream was aborted): the holder stops watching when no lease follows. */
  unfollow(lease: GenerationLease): void {
    const own = lease as Lease;
    if (!own.following) return;
    own.following = false;
    this.followers -= 1;
    if (this.followers === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
    }
  }

  /** Ends a lease; the last one closes the holder. Safe to call twice. */
  release(lease: GenerationLease): void {
    const own = lease as Lease;
    if (!this.leases.delete(own)) return;
    this.unfollow(own);
    own.at = undefined;
    if (this.leases.size > 0) {
      this.trim();
      return;
    }
    if (holders.get(this.key) === this) holders.delete(this.key);
    for (const generation of this.held.splice(0)) if (!generation.released) this.close(generation);
  }

  /**
   * Starts `lease` at the oldest generation in the chain (not at one that has
   * already departed). False when the file does not exist yet.
   */
  startAtOldest(lease: GenerationLease): boolean {
    this.refresh();
    const oldest = this.members[this.members.length - 1];
    if (oldest === undefined) return false;
    const found = this.holdFrom(oldest.generation);
    if (found === undefined) return false;
    (lease as Lease).at = found;
    this.trim();
    return true;
  }

  /** Starts `lease` at `generation`, which must be in the chain now; undefined when it is not. */
  startAt(lease: GenerationLease, generation: bigint): HeldGeneration | undefined {
    this.refresh();
    const found = this.holdFrom(generation);
    if (found === undefined) return undefined;
    (lease as Lease).at = found;
    this.trim();
    return found;
  }

  /** Moves `lease` on to `next` (the generation after its own); what no lease needs any more is closed. */
  advance(lease: GenerationLease, next: HeldGeneration): void {
    (lease as Lease).at = next;
    this.trim();
  }

  /** The generation held after `generation`, if one is held yet. */
  after(generation: HeldGeneration): HeldGeneration | undefined {
    const first = this.held[0];
    if (first === undefined) return undefined;
    return this.held[generation.sequence - first.sequence + 1];
  }

  /** The newest generation held. */
  newest(): HeldGeneration | undefined {
    return this.held[this.held.length - 1];
  }

  /**
   * A cheap look (one lstat): when the live name holds a generation not held
   * yet, {@link refresh}. Readers call it as they go, so that the holder
   * keeps up even where no watcher reports changes. Returns the generation
   * at the live name (undefined when there is none).
   */
  look(): bigint | undefined {
    // One wake-up resumes every reader of the holder in the same turn of the event loop: one lstat serves them all
    // (200 readers each making their own was a fifth of their CPU). Another process's rename after it is not
    // missed: it comes as a watcher event or a poll, both in a later turn; a writer of this process can rotate
    // within the turn, and says so.
    if (this.seenThisTurn && this.seenAtRename === renamedHereCount()) return this.seenLive;
    const live = generationOfNow(this.chain.path(0));
    this.seen(live);
    if (live !== undefined && live !== this.newest()?.generation) this.refresh();
    return live;
  }

  private seen(live: bigint | undefined): void {
    this.seenLive = live;
    this.seenAtRename = renamedHereCount();
    if (this.seenThisTurn) return;
    this.seenThisTurn = true;
    setImmediate(() => {
      this.seenThisTurn = false;
    });
  }

  /** Scans the chain: opens the generations that appeared, marks the ones that left, applies the holds. */
  refresh(): void {
    for (let attempt = 0; attempt < MAX_OPEN_ATTEMPTS; attempt++) {
      const members = this.chain.scanNow();
      this.members = members;
      this.seen(members[0]?.index === 0 ? members[0].generation : undefined);
      const present = new Set(members.map((member) => member.generation));
      for (const generation of this.held)
        if (!generation.departed && !present.has(generation.generation)) generation.departed = true;
      const newest = this.newest();
      let fresh: ChainMember[];
      let gap = false;
      if (newest === undefined) {
        fresh = members;
      } else {
        // A departed generation matching a member is its inode number given to a newer file, not it.
        const at = newest.departed ? -1 : members.findIndex((member) => member.generation === newest.generation);
        fresh = at < 0 ? members : members.slice(0, at);
        gap = at < 0;
      }
      if (this.append([...fresh].reverse(), gap)) break;
    }
    this.applyHolds();
  }

  // Opens `members` (oldest first) after the newest held; false when one had moved (the caller scans again).
  private append(members: readonly ChainMember[], gap: boolean): boolean {
    for (const [i, member] of members.entries()) {
      const file = this.open(member);
      if (file === undefined) return false;
      const last = this.newest();
      this.held.push({
        generation: member.generation,
        file,
        sequence: last === undefined ? 0 : last.sequence + 1,
        afterGap: gap && i === 0 && last !== undefined,
        departed: false,
        released: false,
      });
    }
    return true;
  }

  private open(member: ChainMember): OpenLogFile | undefined {
    const file = openLogFileNow(this.chain.path(member.index));
    if (file === undefined) return undefined;
    opens += 1;
    if (file.generation === member.generation) return file;
    void file.handle.close();
    return undefined;
  }

  /**
   * The held generation `generation` of the chain, opening it and the ones
   * between it and the oldest held when they were let go (or never held).
   */
  private holdFrom(generation: bigint): HeldGeneration | undefined {
    for (let attempt = 0; attempt < MAX_OPEN_ATTEMPTS; attempt++) {
      const members = attempt === 0 ? this.members : this.chain.scanNow();
      const index = members.findIndex((member) => member.generation === generation);
      if (index < 0) return undefined;
      // Only a generation still in the chain: a departed one with that number is another file.
      const held = this.held.find((candidate) => candidate.generation === generation && !candidate.departed);
      if (held !== undefined) return held;
      const oldest = this.held[0];
      if (oldest === undefined) {
        if (!this.append([...members].reverse(), false)) this.closeAll();
        continue;
      }
      // The chain is contiguous: what lies between the wanted generation and the oldest held is older than it.
      const oldestAt = oldest.departed ? -1 : members.findIndex((member) => member.generation === oldest.generation);
      if (oldestAt < 0 || oldestAt > index) return undefined;
      const older: HeldGeneration[] = [];
      let moved = false;
      for (let i = oldestAt + 1; i <= index; i++) {
        const file = this.open(members[i]!);
        if (file === undefined) {
          moved = true;
          break;
        }
        older.push({
          generation: members[i]!.generation,
          file,
          sequence: oldest.sequence - (i - oldestAt),
          afterGap: false,
          departed: false,
          released: false,
        });
      }
      if (moved) {
        for (const generation of older) void generation.file.handle.close();
        continue;
      }
      this.held.unshift(...older.reverse());
    }
    return undefined;
  }

  // A holder that could not take a consistent chain lets go of it, so the next attempt starts clean.
  private closeAll(): void {
    if ([...this.leases].some((lease) => lease.at !== undefined)) return;
    for (const generation of this.held.splice(0)) this.close(generation);
  }

  /**
   * Marks leases more than their hold behind as missed, then decides which
   * departed generations stay open: every one a lease within its hold needs,
   * then, up to the largest hold in all, the ones right after where the
   * missed leases are (most behind first), so a missed reader still gets what
   * could be kept for it before it fails. Closes the rest.
   */
  private applyHolds(): void {
    const departed = this.held.filter((generation) => generation.departed && !generation.released);
    if (departed.length === 0) {
      this.trim();
      return;
    }
    let bound = 0;
    let neededFrom = Infinity;
    const missed: Lease[] = [];
    for (const lease of this.leases) {
      bound = Math.max(bound, lease.hold);
      const at = lease.at;
      if (at === undefined || at.released) continue;
      if (!lease.missed) {
        let behind = 0;
        for (const generation of departed) if (generation.sequence >= at.sequence) behind += 1;
        if (behind > lease.hold) lease.missed = true;
      }
      if (lease.missed) missed.push(lease);
      else neededFrom = Math.min(neededFrom, at.sequence);
    }
    const keep = new Set(departed.filter((generation) => generation.sequence >= neededFrom));
    let room = bound - keep.size;
    missed.sort((a, b) => a.at!.sequence - b.at!.sequence);
    for (const lease of missed) {
      // Contiguous from where the lease is: a generation it cannot have ends what it can read.
      for (let i = lease.at!.sequence - this.held[0]!.sequence; i < this.held.length && room > 0; i++) {
        const generation = this.held[i]!;
        if (!generation.departed || generation.released) break;
        if (!keep.has(generation)) {
          keep.add(generation);
          room -= 1;
        }
      }
    }
    for (const generation of departed) if (!keep.has(generation)) this.close(generation);
    this.trim();
  }

  private close(generation: HeldGeneration): void {
    generation.released = true;
    void generation.file.handle.close();
  }

  // Drops generations from the oldest on while no lease that can still read is at or before them.
  private trim(): void {
    let needed = Infinity;
    for (const lease of this.leases) {
      if (lease.at === undefined) {
        if (lease.missed) continue;
        return;
      }
      if (!lease.at.released) needed = Math.min(needed, lease.at.sequence);
    }
    while (this.held.length > 0 && this.held[0]!.sequence < needed) {
      const generation = this.held.shift()!;
      if (!generation.released) this.close(generation);
    }
  }

  /** Descriptors held now. */
  get size(): number {
    return this.held.length;
  }
}

/** Opens of log files by every holder of this process so far (for tests and benchmarks: not part of the API). */
export function generationOpenCount(): number {
  return opens;
}

/** Descriptors held now by every holder of this process (for tests and benchmarks: not part of the API). */
export function heldDescriptorCount(): number {
  let count = 0;
  for (const holder of holders.values()) count += holder.size;
  return count;
}

/** Holders alive in this process (for tests: not part of the API). */
export function holderCount(): number {
  return holders.size;
}
