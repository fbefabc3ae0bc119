/**
 * Log volume over time: how many entries fall in each interval of a range,
 * per source, for one or several sandboxes — the bars above a viewer's list.
 * Counted from the same reads as the entries themselves (same filters, same
 * `since`/`until` rules), so a bucket's counts equal the number of entries a
 * read of that bucket's range returns.
 */
import { OptionsError, describeValue } from '../errors.js';
import { defaultHome } from '../files/layout.js';
import type { Entry } from '../format/entry.js';
import { ALL_SOURCES, type LogSource } from '../format/source.js';
import { resolveOptions, type ReadOptions } from './options.js';
import { streamLogs } from './read.js';
import { resolveSelection, selectedSandboxes, type SandboxSelection } from './selection.js';

/** Buckets when the caller names no number. */
export const DEFAULT_BUCKETS = 60;
/** Most buckets one histogram has. */
export const MAX_BUCKETS = 2000;

// Bucket widths a reader recognises (ms): the smallest one that keeps the count within the asked number wins.
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The round bucket widths, smallest first (the fleet's histogram uses the same, so bars fall alike). */
export const NICE_WIDTHS_MS = [
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

/** Options of {@link readHistogram}. */
export interface HistogramOptions extends Omit<ReadOptions, 'tail'> {
  /** Most buckets (the width is the smallest round interval that keeps within it). @default 60 */
  buckets?: number;
}

/** One interval: `[t, t + bucketMs)`, cut at the histogram's `to`. */
export interface HistogramBucket {
  /** Start, RFC 3339 UTC with milliseconds. */
  readonly t: string;
  readonly counts: Record<LogSource, number>;
}

/** Entries per interval over `[from, to)`. */
export interface Histogram {
  /** Start of the range: `since` when given, else the first entry's time rounded down to the width; null when there is nothing to count. */
  readonly from: string | null;
  /** End of the range (exclusive): `until` when given, else just after the newest entry (or now, with `since` alone). */
  readonly to: string | null;
  readonly bucketMs: number;
  readonly buckets: HistogramBucket[];
}

const SOURCE_INDEX: Readonly<Record<LogSource, number>> = { stdout: 0, stderr: 1, output: 2, system: 3 };

/** What is counted, as it grows: each entry's time (whole ms) and source, and the first and last time. */
export class HistogramSamples {
  times = new Float64Array(4096);
  sources = new Uint8Array(4096);
  length = 0;
  first = Infinity;
  last = -Infinity;

  /** Counts one entry at `time` (ms) of `source`. */
  push(time: number, source: LogSource): void {
    if (this.length === this.times.length) {
      const times = new Float64Array(this.times.length * 2);
      times.set(this.times);
      const sources = new Uint8Array(this.sources.length * 2);
      sources.set(this.sources);
      this.times = times;
      this.sources = sources;
    }
    const whole = Math.floor(time);
    this.times[this.length] = whole;
    this.sources[this.length++] = SOURCE_INDEX[source];
    if (whole < this.first) this.first = whole;
    if (whole > this.last) this.last = whole;
  }

  /**
   * The histogram of what was counted over `[since, until)` (either open: from the first entry rounded down to the
   * width, to just after the last, or to now with `since` alone), in at most `wanted` round buckets.
   */
  count(range: { readonly since?: number; readonly until?: number }, wanted: number): Histogram {
    const hasSince = range.since !== undefined;
    const hasUntil = range.until !== undefined;
    if (this.length === 0 && !hasSince) return { from: null, to: null, bucketMs: 0, buckets: [] };
    const to = hasUntil ? Math.ceil(range.until!) : Math.max(this.last + 1, hasSince ? Date.now() : -Infinity);
    let from = hasSince ? Math.ceil(range.since!) : this.first;
    let width = widthFor(to - from, wanted);
    if (!hasSince) {
      // Round the start down to the width: bars start at round times. A wider start may need the next width.
      for (;;) {
        from = Math.floor(this.first / width) * width;
        if (Math.ceil((to - from) / width) <= wanted) break;
        width = NICE_WIDTHS_MS.find((nice) => nice > width) ?? width + DAY;
      }
    }
    const count = Math.max(0, Math.ceil((to - from) / width));
    const counts = Array.from({ length: count }, () => new Uint32Array(ALL_SOURCES.length));
    for (let i = 0; i < this.length; i++) {
      const bucket = Math.floor((this.times[i]! - from) / width);
      if (bucket >= 0 && bucket < count) counts[bucket]![this.sources[i]!]! += 1;
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
}

/** The smallest round width that splits `span` into at most `buckets` intervals. */
export function widthFor(span: number, buckets: number): number {
  const wanted = Math.max(1, Math.ceil(span / buckets));
  return NICE_WIDTHS_MS.find((width) => width >= wanted) ?? Math.ceil(wanted / DAY) * DAY;
}

/** Counts the entries of the selected sandboxes per interval and source. */
export async function readHistogram(selection: SandboxSelection, options: HistogramOptions = {}): Promise<Histogram> {
  const { buckets: wanted = DEFAULT_BUCKETS, ...read } = options;
  if (!Number.isSafeInteger(wanted) || wanted < 1 || wanted > MAX_BUCKETS) {
    throw new OptionsError(
      `Expected the \`buckets\` option to be an integer from 1 to ${MAX_BUCKETS}, got ${describeValue(wanted)}`,
    );
  }
  if ((read as { tail?: unknown }).tail !== undefined)
    throw new OptionsError('A histogram counts a time range: the `tail` option does not apply');
  // `since`/`until` fixed to one instant, so that every sandbox (and the answer) sees the same range.
  const resolved = resolveOptions(read);
  const home = resolved.home ?? defaultHome();
  const names = await selectedSandboxes(resolveSelection(selection), home);
  const samples = new HistogramSamples();
  for (const name of names) {
    const handle = streamLogs(
      { name, home },
      {
        ...read,
        ...(resolved.since === -Infinity ? {} : { since: resolved.since }),
        ...(resolved.until === Infinity ? {} : { until: resolved.until }),
      },
    );
    for await (const batch of handle.batches())
      for (const entry of batch as Entry[]) samples.push(entry.time, entry.source);
  }
  return samples.count(
    {
      ...(resolved.since === -Infinity ? {} : { since: resolved.since }),
      ...(resolved.until === Infinity ? {} : { until: resolved.until }),
    },
    wanted,
  );
}
