/**
 * Shipping one sandbox: read its logs from the checkpoint (or from the start
 * of retained history), publish every entry pipelined, and advance the
 * checkpoint over the acknowledged prefix only.
 *
 * Contracts:
 * - Catch-up then follow. What is on disk at start is read as `sandlog logs`
 *   reads it (a snapshot, sorted by time, with the same cursors), so each
 *   payload is the `--json` line `sandlog logs --json --source …` prints for
 *   it; then the logs are followed from the snapshot's end.
 * - In order, exactly once. Entries are sent in read order with at most the
 *   shared window in flight. A failed publish stops sending; once nothing is
 *   in flight the failed entries are sent again in order (same message id:
 *   the broker keeps one copy) until acknowledged, then pipelining resumes.
 *   Nothing is skipped, ever: only the shutdown deadline abandons retries,
 *   and those entries are after the stored checkpoint. (The publishing is
 *   ordered-publisher.ts; this module reads and keeps the checkpoint.)
 * - Checkpoints move over the acknowledged prefix only (never past an entry
 *   that was not acknowledged).
 * - Falling behind retention (at restart, or a missed rotation while
 *   following) publishes one `system` entry saying what was lost, and reading
 *   goes on from the oldest retained entry.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { InvalidCursorError, MissedRotationError, SandboxNotFoundError } from '../errors.js';
import { filesForSources, sandboxLogDir, type LogFileSpec } from '../files/layout.js';
import { encodeCursor, START_POSITION, type FilePosition } from '../format/cursor.js';
import type { Entry } from '../format/entry.js';
import { encodeEntryJson } from '../format/json-line.js';
import type { LogSource } from '../format/source.js';
import { streamLogs } from '../engine/read.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  lastEntryStillThere,
  resumePositions,
  type Checkpoint,
  type FileCheckpoint,
  type LastEntry,
  type LostFile,
} from './checkpoint.js';
import { checkpointKey, entryMessageId, entrySubject } from './naming.js';
import { OrderedPublisher, type Pending } from './ordered-publisher.js';
import { sleep } from './nats.js';
import { recordDigest } from '../format/record-digest.js';
import type { PublishWindow } from './window.js';

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2_000;
/** Headers and framing a message needs besides its payload, with margin (for the max_payload check). */
const HEADER_ALLOWANCE = 1_024;

/** Counters of a shipper, shared by its sandboxes. */
export interface ShipStats {
  published: number;
  duplicates: number;
  bytes: number;
  /** Times a sandbox fell behind retention (each announced by a `system` entry). */
  gaps: number;
  /** Entries larger than the broker takes, shipped as a notice instead. */
  oversized: number;
}

/** What a sandbox shipper shares with the others. */
export interface ShipContext {
  readonly js: JetStreamClient;
  readonly kv: KV;
  readonly host: string;
  readonly home: string;
  readonly sources: ReadonlySet<LogSource>;
  readonly window: PublishWindow;
  readonly stats: ShipStats;
  readonly maxPayload: number;
  /** A publish failed / succeeded (the shipper says so once per change). */
  readonly onPublishFailure: (error: unknown) => void;
  readonly onPublishSuccess: () => void;
  /** One line for stderr. */
  readonly onNotice: (message: string) => void;
}

function describeError(error: unknown): string {
  return ((error as Error | undefined)?.message ?? String(error)).replace(/\s+/g, ' ');
}

/** Ships one sandbox until stopped or its directory goes away. */
export class SandboxShipper {
  readonly name: string;
  private readonly context: ShipContext;
  private readonly logDir: string;
  private readonly files: LogFileSpec[];
  private readonly key: string;
  private readonly stopping = new AbortController();
  private readonly publisher: OrderedPublisher;
  // The acknowledged prefix: what a checkpoint stores.
  private acked: { cursor: string; digest: string; positions: readonly FilePosition[] } | undefined;
  private readonly lastOfFile: (LastEntry | null)[];
  private ackedVersion = 0;
  private storedVersion = 0;
  private storing: Promise<void> | undefined;
  private running: Promise<void> | undefined;
  /** True once the sandbox's directory went away (its checkpoint is then removed). */
  removed = false;

  constructor(context: ShipContext, name: string) {
    this.context = context;
    this.name = name;
    this.logDir = sandboxLogDir(context.home, name);
    this.files = filesForSources(context.sources);
    this.key = checkpointKey(context.host, name);
    this.lastOfFile = this.files.map(() => null);
    this.publisher = new OrderedPublisher(context, name, (head) => {
      this.acked = { cursor: head.cursor, digest: head.digest, positions: head.positions };
      if (head.fileIndex >= 0) this.lastOfFile[head.fileIndex] = head.last;
      this.ackedVersion += 1;
    });
  }

  /** Starts shipping in the background. */
  start(): void {
    this.running ??= this.run().catch((error) => {
      this.context.onNotice(`sandbox ${JSON.stringify(this.name)}: stopped shipping: ${describeError(error)}`);
    });
  }

  /** Entries read and not yet acknowledged, and how long the oldest has waited (ms). */
  lag(now = Date.now()): { entries: number; ms: number } {
    return this.publisher.lag(now);
  }

  /**
   * Stops reading, waits for what is in flight (retrying failures until
   * `deadline`, epoch ms), and stores the checkpoint.
   */
  async stop(deadline: number): Promise<void> {
    this.stopping.abort();
    const timer = setTimeout(() => this.publisher.abandon(), Math.max(0, deadline - Date.now()));
    try {
      await this.running;
      await this.storeCheckpoint(true);
      if (this.removed && !this.publisher.abandoned) await this.context.kv.delete(this.key).catch(() => undefined);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stores the checkpoint when the acknowledged prefix moved since the last store (at most one store at a time). */
  storeCheckpoint(wait = false): Promise<void> {
    if (this.storing !== undefined)
      return wait ? this.storing.then(() => this.storeCheckpoint(false)) : Promise.resolve();
    if (this.acked === undefined || this.ackedVersion === this.storedVersion) return Promise.resolve();
    const version = this.ackedVersion;
    const files: Record<string, FileCheckpoint> = {};
    this.files.forEach((spec, i) => {
      files[spec.fileName] = { position: this.acked!.positions[i] ?? START_POSITION, last: this.lastOfFile[i] ?? null };
    });
    const value = encodeCheckpoint({ cursor: this.acked.cursor, digest: this.acked.digest, files });
    this.storing = this.context.kv
      .put(this.key, value)
      .then(() => {
        this.storedVersion = Math.max(this.storedVersion, version);
      })
      .catch(() => undefined)
      .finally(() => {
        this.storing = undefined;
      });
    return this.storing;
  }

  // ---- Reading ----------------------------------------------------------------------------------

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async loadCheckpoint(): Promise<Checkpoint | undefined | null> {
    let delay = RETRY_FIRST_MS;
    while (!this.stopped) {
      try {
        const entry = await this.context.kv.get(this.key);
        if (entry === null || entry.operation !== 'PUT') return undefined;
        return decodeCheckpoint(entry.value);
      } catch (error) {
        this.context.onPublishFailure(error);
        await sleep(delay, this.stopping.signal);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
    return null;
  }

  private async run(): Promise<void> {
    const checkpoint = await this.loadCheckpoint();
    if (checkpoint === null) return;
    let positions: FilePosition[] = this.files.map(() => START_POSITION);
    if (checkpoint !== undefined) {
      const resumed = await resumePositions(this.logDir, this.files, checkpoint);
      positions = resumed.positions;
      this.files.forEach((spec, i) => {
        this.lastOfFile[i] = checkpoint.files[spec.fileName]?.last ?? null;
      });
      this.acked = { cursor: checkpoint.cursor, digest: checkpoint.digest, positions };
      for (const lost of resumed.lost) await this.sendGap(lost.fileName, positions, describeLost(lost));
    }
    let cursor = encodeCursor(positions);
    let follow = false;
    while (!this.stopped) {
      try {
        const handle = streamLogs(
          { logDir: this.logDir },
          { sources: this.context.sources, afterCursor: cursor, follow, signal: this.stopping.signal },
        );
        for await (const batch of handle.batches()) {
          for (const entry of batch) {
            const waiting = this.publisher.send(this.pendingOf(entry as Entry));
            if (waiting !== undefined) await waiting;
          }
          if (this.stopped) break;
        }
        if (this.stopped) break;
        if (follow) break;
        cursor = handle.cursor;
        follow = true;
      } catch (error) {
        if (this.stopped) break;
        await this.publisher.drain();
        if (error instanceof SandboxNotFoundError) {
          this.removed = true;
          break;
        }
        positions = this.acked?.positions.slice() ?? positions;
        if (error instanceof MissedRotationError || error instanceof InvalidCursorError) {
          // The chain moved past what was shipped: start its file over at the oldest retained entry.
          const index = this.files.findIndex((spec) => spec.rotates);
          const last = index < 0 ? null : (this.lastOfFile[index] ?? null);
          if (index < 0) throw error;
          if (last !== null && (await lastEntryStillThere(this.logDir, this.files[index]!, last))) {
            // What was shipped last is still retained: read again from there rather than announce a loss.
            await sleep(100, this.stopping.signal);
            cursor = encodeCursor(positions);
            follow = true;
            continue;
          }
          positions[index] = START_POSITION;
          const where =
            error instanceof MissedRotationError
              ? `offset ${error.offset} of generation ${error.generation}`
              : 'its checkpoint';
          await this.sendGap(
            this.files[index]!.fileName,
            positions,
            `${this.files[index]!.fileName} rotated out of retention before it was shipped past ${where}${last === null ? '' : ` (last shipped entry at ${last.time})`}; the entries after that point were lost`,
          );
        } else {
          this.context.onNotice(
            `sandbox ${JSON.stringify(this.name)}: ${describeError(error)}; reading again from the last acknowledged entry`,
          );
          await sleep(1_000, this.stopping.signal);
        }
        cursor = encodeCursor(positions);
        follow = true;
      }
    }
    await this.publisher.drain();
  }

  private pendingOf(entry: Entry): Pending {
    const line = entry.recordLine;
    const digest = recordDigest(line);
    const cursor = entry.cursor;
    let payload: Uint8Array = Buffer.from(entry.toJsonLine(), 'utf8');
    let source: LogSource = entry.source;
    if (payload.length + HEADER_ALLOWANCE > this.context.maxPayload) {
      this.context.stats.oversized += 1;
      const notice = `sandlog ship: a ${entry.source} entry of ${payload.length} bytes is larger than the broker's max_payload (${this.context.maxPayload}); it was not shipped\n`;
      payload = Buffer.from(
        encodeEntryJson(entry.timeText, 'system', JSON.stringify(notice), false, null, cursor),
        'utf8',
      );
      source = 'system';
    }
    return {
      subject: entrySubject(this.context.host, this.name, source),
      payload,
      msgId: entryMessageId(this.context.host, this.name, cursor, digest),
      cursor,
      digest,
      positions: entry.positions,
      fileIndex: entry.reader,
      last: { generation: entry.generation, offset: entry.offset, digest, time: entry.timeText },
      readAt: Date.now(),
    };
  }

  // A `system` entry saying what was lost; its id is derived from what was lost, so that a restart
  // that finds the same loss again does not announce it twice.
  private async sendGap(fileName: string, positions: readonly FilePosition[], what: string): Promise<void> {
    this.context.stats.gaps += 1;
    this.context.onNotice(`sandbox ${JSON.stringify(this.name)}: fell behind retention: ${what}`);
    const cursor = encodeCursor(positions);
    const index = this.files.findIndex((spec) => spec.fileName === fileName);
    const lastBefore = this.lastOfFile[index];
    const digest = recordDigest(
      Buffer.from(
        `lost ${fileName} ${lastBefore?.generation ?? 0} ${lastBefore?.offset ?? 0} ${lastBefore?.digest ?? ''}`,
      ),
    );
    const body = `sandlog ship: fell behind retention: ${what}\n`;
    await this.publisher.send({
      subject: entrySubject(this.context.host, this.name, 'system'),
      payload: Buffer.from(
        encodeEntryJson(new Date().toISOString(), 'system', JSON.stringify(body), false, null, cursor),
        'utf8',
      ),
      msgId: entryMessageId(this.context.host, this.name, cursor, digest),
      cursor,
      digest,
      positions,
      fileIndex: index,
      last: null,
      readAt: Date.now(),
    });
    await this.publisher.drain();
  }
}

function describeLost(lost: LostFile): string {
  return `${lost.fileName}: the checkpoint's entry (generation ${lost.last.generation}, offset ${lost.last.offset}, written ${lost.last.time}) is no longer retained; the entries after it that were rotated out before they were shipped were lost`;
}
