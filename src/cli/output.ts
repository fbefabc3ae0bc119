/**
 * Writing to stdout with backpressure.
 */

/** Writes `text` (a string, or bytes) and waits until the stream has taken it (drained when it had to buffer). */
export function writeOut(stream: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  if (text.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const flushed = stream.write(text, (error) => {
      if (error) reject(error);
    });
    if (flushed) resolve();
    else stream.once('drain', resolve);
  });
}
