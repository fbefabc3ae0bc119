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
import { ALL_SOURCES, type LogSource } from '../format/source.js';
import { DAY, MAX_BUCKETS, NICE_WIDTHS_MS, widthFor } from '../engine/histogram.js';
import { readFleet, type FleetReadOptions } from './read.js';

export { DEFAULT_BUCKETS, MAX_BUCKETS } from '../engine/histogram.js';

/** What a histogram reads: a non-following read without `tail` or a start, and the number of buckets. */
export type FleetHistogramOptions = Omit<FleetReadOptions, 'follow' | 'tail' | 'afterSequence' | 'afterCursor'> & {
  readonly buckets: number;
};

/** The histogram, in the JSON shape of the local server's. */
export interface FleetHistogram {
  readonly from: string | null;
  readonly to: string | null;
  readonly bucketMs: number;
  readonly buckets: { t: string; counts: Record<LogSource, number> }[];
}

/** Counts the selected entries per interval and source. */
export async function readFleetHistogram(
  connection: NatsConnection,
  options: FleetHistogramOptions,
): Promise<FleetHistogram> {
  const { buckets: wanted, ...read } = options;
  if (!Number.isSafeInteger(wanted) || wanted < 1 || wanted > MAX_BUCKETS)
    throw badRequest(`Expected \`buckets\` to be an integer from 1 to ${MAX_BUCKETS}, got ${wanted}`);
  const times: number[] = [];
  const sources: number[] = [];
  let first = Infinity;
  let last = -Infinity;
  // A stream that does not exist yet has nothing to count.
  const exists = await (async () => {
    try {
      for await (const batch of readFleet(connection, { ...read, follow: false })) {
        for (const entry of batch) {
          const time = Math.floor(Date.parse(entry.fields.t));
          times.push(time);
          sources.push(ALL_SOURCES.indexOf(entry.fields.s));
          if (time < first) first = time;
          if (time > last) last = time;
        }
      }
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'FLEET_UNAVAILABLE' && /does not exist/.test((error as Error).message))
        return false;
      throw error;
    }
  })();
  const hasSince = read.since !== undefined;
  const hasUntil = read.until !== undefined;
  if ((!exists || times.length === 0) && !hasSince) return { from: null, to: null, bucketMs: 0, buckets: [] };
  const to = hasUntil ? Math.ceil(read.until!) : Math.max(last + 1, hasSince ? Date.now() : -Infinity);
  let from = hasSince ? Math.ceil(read.since!) : first;
  let width = widthFor(to - from, wanted);
  if (!hasSince) {
    // Bars start at round times; a start rounded down may need the next width.
    for (;;) {
      from = Math.floor(first / width) * width;
      if (Math.ceil((to - from) / width) <= wanted) break;
      width = NICE_WIDTHS_MS.find((nice) => nice > width) ?? width + DAY;
    }
  }
  const count = Math.max(0, Math.ceil((to - from) / width));
  const counts = Array.from({ length: count }, () => [0, 0, 0, 0]);
  for (let i = 0; i < times.length; i++) {
    const bucket = Math.floor((times[i]! - from) / width);
    if (bucket >= 0 && bucket < count && sources[i]! >= 0) counts[bucket]![sources[i]!]! += 1;
  }
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    bucketMs: width,
    buckets: counts.map((row, i) => ({
      t: new Date(from + i * width).toISOString(),
      counts: { stdout: row[0]!, stderr: row[1]!, output: row[2]!, system: row[3]! },
    })),
  };
}
