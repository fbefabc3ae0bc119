/**
 * Waking a follower: on a directory event, a poll timeout, or abort, without
 * losing an event that arrives while it reads.
 */

/**
 * Waits this long or longer end by one timer shared by the process, which
 * looks every {@link SHARED_TICK_MS}: a thousand followers woken a thousand
 * times a second would otherwise make and cancel a timer per wake-up, for a
 * backstop that almost never fires. Shorter waits (a custom poll interval,
 * `until`) keep a timer of their own, exact to the millisecond.
 */
const SHARED_FROM_MS = 10_000;
const SHARED_TICK_MS = 1_000;

/**
 * Wakers waiting with a long timeout, by timeout: within one timeout, the
 * order they began waiting in is the order of their deadlines. The shared
 * timer runs (and keeps the process alive) while there are any.
 */
const longWaits = new Map<number, Set<Waker>>();
let longWaitCount = 0;
let sharedTimer: NodeJS.Timeout | undefined;

function endLongWaits(): void {
  const now = Date.now();
  for (const waiting of longWaits.values()) {
    for (const waker of waiting) {
      if (waker.deadline > now) break;
      waker.timeOut();
    }
  }
}

/** Wakes a follower waiting in {@link wait} when someone calls {@link notify}; a notify between waits is kept. */
export class Waker {
  private dirty = false;
  private closed = false;
  private release: (() => void) | undefined;
  /** When a long wait times out (ms since the epoch). */
  deadline = Infinity;

  /** Wakes the wait now, or makes the next one return at once. Bound: pass it as a listener. */
  readonly notify = (): void => {
    this.dirty = true;
    this.release?.();
  };

  /** Ends a long wait whose deadline passed (the shared timer). */
  timeOut(): void {
    this.release?.();
  }

  /**
   * Waits for {@link notify}, `timeoutMs` (none when undefined) or an aborted
   * `signal`. Abort does not wake a wait already begun by itself: the caller's
   * abort listener calls {@link notify} (a listener added per wait costs
   * O(listeners) on a signal shared by a thousand followers).
   */
  async wait(timeoutMs: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (this.dirty || this.closed || signal?.aborted === true) {
      this.dirty = false;
      return;
    }
    await new Promise<void>((resolve) => {
      if (timeoutMs === undefined) {
        this.release = resolve;
      } else if (timeoutMs >= SHARED_FROM_MS) {
        this.deadline = Date.now() + timeoutMs;
        let waiting = longWaits.get(timeoutMs);
        if (waiting === undefined) {
          waiting = new Set();
          longWaits.set(timeoutMs, waiting);
        }
        waiting.add(this);
        longWaitCount += 1;
        sharedTimer ??= setInterval(endLongWaits, SHARED_TICK_MS);
        const group = waiting;
        this.release = () => {
          this.release = undefined;
          group.delete(this);
          if (group.size === 0 && longWaits.get(timeoutMs) === group) longWaits.delete(timeoutMs);
          // The last one out stops the timer: it must not keep a finished process alive for a tick.
          if (--longWaitCount === 0) {
            clearInterval(sharedTimer);
            sharedTimer = undefined;
          }
          resolve();
        };
      } else {
        const timer = setTimeout(() => this.release?.(), timeoutMs);
        this.release = () => {
          clearTimeout(timer);
          resolve();
        };
      }
    });
    this.release = undefined;
    this.dirty = false;
  }

  /** The follower is done: a wait still on ends now, and later ones at once. */
  close(): void {
    this.closed = true;
    this.release?.();
  }
}
