/**
 * Publishing one sandbox's entries in order, exactly once: pipelined within
 * the shipper's shared window; a failed publish stops sending, and once
 * nothing is in flight the failed entries go again in order (same message
 * id: the broker keeps one copy) until acknowledged. The acknowledged prefix
 * is handed back entry by entry, oldest first, for the checkpoint.
 */
import { headers as natsHeaders } from '@nats-io/transport-node';
import { SandlogError } from '../errors.js';
import type { FilePosition } from '../format/cursor.js';
import type { LastEntry } from './checkpoint.js';
import { HOST_HEADER, SANDBOX_HEADER } from './naming.js';
import { sleep } from './nats.js';
import type { ShipContext } from './sandbox-shipper.js';

/** How long to wait for a publish acknowledgement before sending again. */
export const PUBLISH_TIMEOUT_MS = 5_000;
const GUARD_MARGIN_MS = 2_000;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2_000;

/** A publish the client lost track of (across a reconnect): it is sent again. */
class NoAcknowledgementError extends SandlogError {
  constructor(subject: string) {
    super('NO_ACK', `no acknowledgement of a publish to ${subject} within ${PUBLISH_TIMEOUT_MS + GUARD_MARGIN_MS} ms`);
  }
}

export const enum PublishState {
  Sending,
  Acked,
  Failed,
}

/** One message on its way: the entry's payload and what a checkpoint over it stores. */
export interface Pending {
  readonly subject: string;
  readonly payload: Uint8Array;
  readonly msgId: string;
  readonly cursor: string;
  readonly digest: string;
  readonly positions: readonly FilePosition[];
  readonly fileIndex: number;
  /** The entry itself (null: this message resets its file's last entry, as a gap notice does). */
  readonly last: LastEntry | null;
  readonly readAt: number;
  state?: PublishState;
}

/** Publishes one sandbox's messages in order; see the module comment. */
export class OrderedPublisher {
  private readonly context: ShipContext;
  private readonly sandbox: string;
  private readonly onAcked: (pending: Pending) => void;
  private readonly inflight: Pending[] = [];
  private sending = 0;
  private failed = false;
  private readonly idleWaiters: (() => void)[] = [];
  /** True once the shutdown deadline passed: retries stop, waits end. */
  abandoned = false;

  constructor(context: ShipContext, sandbox: string, onAcked: (pending: Pending) => void) {
    this.context = context;
    this.sandbox = sandbox;
    this.onAcked = onAcked;
  }

  /** Messages sent and not yet acknowledged, and how long the oldest has waited (ms). */
  lag(now = Date.now()): { entries: number; ms: number } {
    const oldest = this.inflight[0];
    return { entries: this.inflight.length, ms: oldest === undefined ? 0 : now - oldest.readAt };
  }

  /** Gives up on what is not acknowledged yet (the shutdown deadline): every wait ends. */
  abandon(): void {
    this.abandoned = true;
    this.wakeIdle();
  }

  /**
   * Publishes `pending`; returns a promise only when it has to wait first (a failure to recover from, or a full
   * window), and callers await only that. The client flushes its socket in a microtask after the first publish into
   * an empty buffer: an await between two publishes that did not wait let it write every message on its own (one
   * syscall each, a third of the shipper's time), where publishes made back to back go out in one write.
   */
  send(pending: Pending): Promise<void> | undefined {
    if (this.failed) return this.recover().then(() => this.sendWhenFree(pending));
    return this.sendWhenFree(pending);
  }

  private sendWhenFree(pending: Pending): Promise<void> | undefined {
    const wait = this.context.window.acquire();
    if (wait !== undefined) return wait.then(() => this.dispatch(pending));
    this.dispatch(pending);
    return undefined;
  }

  private dispatch(pending: Pending): void {
    this.inflight.push(pending);
    this.publish(pending);
  }

  private publish(pending: Pending): void {
    pending.state = PublishState.Sending;
    this.sending += 1;
    const headers = natsHeaders();
    headers.set(HOST_HEADER, this.context.host);
    headers.set(SANDBOX_HEADER, this.sandbox);
    // The client's own timeout is the normal path; this guard makes sure a request the client lost
    // track of across a reconnect still settles, so that nothing waits for it forever.
    let settled = false;
    const guard = setTimeout(
      () => fail(new NoAcknowledgementError(pending.subject)),
      PUBLISH_TIMEOUT_MS + GUARD_MARGIN_MS,
    );
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      pending.state = PublishState.Failed;
      this.failed = true;
      this.context.onPublishFailure(error);
      this.settle();
    };
    this.context.js
      .publish(pending.subject, pending.payload, { msgID: pending.msgId, headers, timeout: PUBLISH_TIMEOUT_MS })
      .then((ack) => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        pending.state = PublishState.Acked;
        if (ack.duplicate) this.context.stats.duplicates += 1;
        else {
          this.context.stats.published += 1;
          this.context.stats.bytes += pending.payload.length;
        }
        this.context.onPublishSuccess();
        this.settle();
        this.advance();
      }, fail);
  }

  private settle(): void {
    this.sending -= 1;
    this.context.window.release();
    if (this.sending === 0) this.wakeIdle();
  }

  private wakeIdle(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private async untilIdle(): Promise<void> {
    while (this.sending > 0 && !this.abandoned) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  // Moves the checkpoint over the acknowledged prefix.
  private advance(): void {
    let head = this.inflight[0];
    if (head === undefined || head.state !== PublishState.Acked) return;
    while (head !== undefined && head.state === PublishState.Acked) {
      this.inflight.shift();
      this.onAcked(head);
      head = this.inflight[0];
    }
  }

  // After a failure: once nothing is in flight, the first failed entry is sent alone (with back-off)
  // until the broker takes it; then the other failed ones are sent again in order, pipelined (one
  // connection keeps their order), and so on until none is left.
  private async recover(): Promise<void> {
    await this.untilIdle();
    let delay = RETRY_FIRST_MS;
    while (!this.abandoned) {
      const failed = this.inflight.filter((pending) => pending.state === PublishState.Failed);
      if (failed.length === 0) break;
      await this.resend(failed[0]!);
      await this.untilIdle();
      if (failed[0]!.state === PublishState.Failed) {
        await sleep(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
        continue;
      }
      delay = RETRY_FIRST_MS;
      for (const pending of failed.slice(1)) {
        if (this.abandoned) break;
        await this.resend(pending);
      }
      await this.untilIdle();
    }
    if (!this.abandoned) this.failed = false;
    this.advance();
  }

  private async resend(pending: Pending): Promise<void> {
    const wait = this.context.window.acquire();
    if (wait !== undefined) await wait;
    this.publish(pending);
  }

  /** Waits until everything read is acknowledged (or the shutdown deadline passed). */
  async drain(): Promise<void> {
    await this.untilIdle();
    while (this.failed && !this.abandoned) await this.recover();
  }
}
