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
import { readFleet, type FleetReadOptions } from './read.js';

/** Buckets when the request names no number, and the most it may ask for (as on one machine). */
export const DEFAULT_BUCKETS = 60;
export const MAX_BUCKETS = 2000;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// The widths of src/engine/histogram.ts, so that a fleet's bars fall where a host's do.
const NICE_WIDTHS_MS = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
];

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

function widthFor(span: number, buckets: number): number {
  const wanted = Math.max(1, Math.ceil(span / buckets));
  return NICE_WIDTHS_MS.find((width) => width >= wanted) ?? Math.ceil(wanted / DAY) * DAY;
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
