/**
 * Writing to stdout with backpressure.
 */

/**
 * Writes `text` (a string, or bytes) and waits until the stream has taken it
 * (drained when it had to buffer). With `written`, it also waits until the
 * stream is done with `text` (its write callback, which then calls `written`,
 * failed or not): the caller may reuse the bytes as soon as this resolves.
 * Whether that callback comes before `drain` or after the next write
 * depends on the kind of stream (a file, a pipe, a socket).
 */
export function writeOut(
  stream: NodeJS.WritableStream,
  text: string | Uint8Array,
  written?: (text: string | Uint8Array) => void,
): Promise<void> {
  if (text.length === 0) {
    written?.(text);
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    let waiting = written === undefined ? 1 : 2;
    const settle = (): void => {
      waiting -= 1;
      if (waiting === 0) resolve();
    };
    const flushed = stream.write(text, (error) => {
      written?.(text);
      if (error) reject(error);
      else if (written !== undefined) settle();
    });
    if (flushed) settle();
    else stream.once('drain', settle);
  });
}
