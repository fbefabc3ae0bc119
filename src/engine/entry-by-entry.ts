/**
 * Handing out a stream's batches one entry at a time, for `for await` over a
 * stream handle. While the consumer is inside a batch, the stream itself has
 * moved on to the batch's end: the handle's cursor is then the cursor of the
 * last entry handed out, which this remembers.
 */

/** The entry-by-entry iteration of one stream handle. */
export class EntryByEntry<T extends { readonly cursor: string }> {
  private last: T | undefined;
  private midBatch = false;

  /** The cursor of the last entry handed out while the consumer is inside a batch; undefined between batches. */
  get cursorInBatch(): string | undefined {
    return this.midBatch && this.last !== undefined ? this.last.cursor : undefined;
  }

  /** The entries of `batches`, one by one. */
  async *entries(batches: AsyncIterable<readonly T[]>): AsyncGenerator<T> {
    for await (const batch of batches) {
      for (let i = 0; i < batch.length; i++) {
        this.last = batch[i];
        this.midBatch = i < batch.length - 1;
        yield batch[i]!;
      }
      this.midBatch = false;
    }
  }
}
