/**
 * Log volume over the fleet: entries per interval and source of a
 * selection, for the viewer's histogram (`GET /api/histogram` of
 * `serve --nats`). The answer has the local server's shape and rules
 * (src/engine/histogram.ts): the range is `since`…`until` when given, else
 * from the first entry, rounded down to the width, to just after the last;
 * the width is the smallest round interval that keeps within the asked
 * number of buckets. Counted from the same read as the entries (same
 * filters), so a bucket's counts equal what a read of its range returns.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { badRequest } from '../server/errors.js';
import { HistogramSamples, MAX_BUCKETS, type Histogram } from '../engine/histogram.js';
import { readFleet, type FleetReadOptions } from './read.js';

export { DEFAULT_BUCKETS, MAX_BUCKETS } from '../engine/histogram.js';

/** What a histogram reads: a non-following read without `tail` or a start, and the number of buckets. */
export type FleetHistogramOptions = Omit<FleetReadOptions, 'follow' | 'tail' | 'afterSequence' | 'afterCursor'> & {
  readonly buckets: number;
};

/** The histogram, in the JSON shape of the local server's. */
export type FleetHistogram = Histogram;

/** Counts the selected entries per interval and source. */
export async function readFleetHistogram(
  connection: NatsConnection,
  options: FleetHistogramOptions,
): Promise<FleetHistogram> {
  const { buckets: wanted, ...read } = options;
  if (!Number.isSafeInteger(wanted) || wanted < 1 || wanted > MAX_BUCKETS)
    throw badRequest(`Expected \`buckets\` to be an integer from 1 to ${MAX_BUCKETS}, got ${wanted}`);
  const samples = new HistogramSamples();
  // A stream that does not exist yet has nothing to count.
  try {
    for await (const batch of readFleet(connection, { ...read, follow: false }))
      for (const entry of batch) samples.push(Date.parse(entry.fields.t), entry.fields.s);
  } catch (error) {
    const missing =
      (error as { code?: string }).code === 'FLEET_UNAVAILABLE' && /does not exist/.test((error as Error).message);
    if (!missing) throw error;
  }
  return samples.count(read, wanted);
}
