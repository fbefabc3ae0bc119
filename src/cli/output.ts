/**
 * Writing to stdout with backpressure.
 */

/**
 * Writes `text` (a string, or bytes) and waits until the stream has taken it
 * (drained when it had to buffer). `written` runs once the stream is done with
 * `text` (its write callback), failed or not.
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
    const flushed = stream.write(text, (error) => {
      written?.(text);
      if (error) reject(error);
    });
    if (flushed) resolve();
    else stream.once('drain', resolve);
  });
}
