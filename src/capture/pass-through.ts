/**
 * Passing a captured process's output through to this process's own streams
 * as it arrives, without letting a slow reader grow memory (the source is
 * paused until the sink drains) and without letting a reader that went away
 * (`| head`) disturb the capture (the pass-through just stops).
 */

/** Passes output through to a stream with back-pressure; stops quietly if the stream breaks (a closed pipe). */
export class PassThrough {
  private broken = false;
  // Readers paused until the sink drains: a sink that breaks instead never drains, so they are resumed then.
  private readonly waiting = new Set<() => void>();

  constructor(private readonly sink: NodeJS.WritableStream | undefined) {
    sink?.on('error', () => this.breakOff());
  }

  private breakOff(): void {
    this.broken = true;
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const resume of waiting) resume();
  }

  /** Writes `chunk`; calls `pause` and later `resume` when the sink needs to catch up. */
  write(chunk: Buffer, pause: () => void, resume: () => void): void {
    if (this.sink === undefined || this.broken) return;
    let full: boolean;
    try {
      full = !this.sink.write(chunk);
    } catch {
      this.breakOff();
      return;
    }
    if (full && !this.waiting.has(resume)) {
      pause();
      this.waiting.add(resume);
      this.sink.once('drain', () => {
        if (this.waiting.delete(resume)) resume();
      });
    }
  }
}
