/**
 * Waking a follower: on a directory event, a poll timeout, or abort, without
 * losing an event that arrives while it reads.
 */

/** Wakes a follower waiting in {@link wait} when someone calls {@link notify}; a notify between waits is kept. */
export class Waker {
  private dirty = false;
  private release: (() => void) | undefined;

  /** Wakes the wait now, or makes the next one return at once. Bound: pass it as a listener. */
  readonly notify = (): void => {
    this.dirty = true;
    this.release?.();
  };

  /**
   * Waits for {@link notify}, `timeoutMs` (none when undefined) or an aborted
   * `signal`. Abort does not wake a wait already begun by itself: the caller's
   * abort listener calls {@link notify} (a listener added per wait costs
   * O(listeners) on a signal shared by a thousand followers).
   */
  async wait(timeoutMs: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (this.dirty || signal?.aborted === true) {
      this.dirty = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.release = done;
    });
    this.release = undefined;
    this.dirty = false;
  }
}
