/**
 * The bound on publishes in flight, shared by every sandbox of a shipper:
 * a counting semaphore. Pipelining is what makes shipping fast (one round
 * trip per entry would cap it at the broker's latency); the bound keeps the
 * memory of unacknowledged entries, and the re-publishing after a failure,
 * small.
 */
export class PublishWindow {
  private available: number;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly size: number) {
    this.available = size;
  }

  /** Resolves when a slot is free (at once when one is). */
  acquire(): Promise<void> | undefined {
    if (this.available > 0) {
      this.available -= 1;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Frees a slot (hands it straight to the oldest waiter). */
  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next();
    else this.available += 1;
  }

  /** Publishes in flight now. */
  get inFlight(): number {
    return this.size - this.available;
  }
}
