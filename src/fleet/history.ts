/**
 * Pages of fleet history: the newest `limit` entries a read selects before a
 * stream sequence (or before the end), oldest first — what the viewer loads
 * when it opens and when it is scrolled back.
 *
 * JetStream delivers forwards only, so a page is read in windows of
 * sequences walking back from its end: each window is read forwards (one
 * ordered consumer from the first message its subject filter holds in it)
 * and put before the entries already found, each window four times the last,
 * until the page is full or the stream's first message is reached. A page of
 * a busy sandbox costs about one window; a sparse one costs a few.
 */
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { LogSource } from '../format/source.js';
import { FleetUnavailableError } from './connect.js';
import { patternFilter, type SandboxPattern } from './pattern.js';
import { fleetEntry, keep, type FleetEntry } from './read.js';

/** The smallest window of sequences read at once. */
const FIRST_WINDOW_SEQUENCES = 1024;
const WINDOW_GROWTH = 4;

/** What a page reads. */
export interface FleetPageOptions {
  readonly stream: string;
  readonly pattern: SandboxPattern;
  readonly sources: ReadonlySet<LogSource>;
  readonly only?: (host: string, sandbox: string) => boolean;
  readonly since?: number;
  readonly until?: number;
  readonly grep?: RegExp;
  /** The page ends before this sequence; undefined: at the end of the stream. */
  readonly beforeSequence?: number;
  readonly limit: number;
}

/** One page. */
export interface FleetPage {
  /** Oldest first. */
  readonly entries: FleetEntry[];
  /** True when nothing older passes the filters. */
  readonly start: boolean;
  /** The stream's last sequence when the page was read (0: empty or missing stream). */
  readonly lastSequence: number;
}

async function streamState(jsm: JetStreamManager, stream: string): Promise<{ first: number; last: number }> {
  try {
    const { state } = await jsm.streams.info(stream);
    return state.messages === 0 ? { first: 0, last: state.last_seq } : { first: state.first_seq, last: state.last_seq };
  } catch (error) {
    if (/not found/i.test((error as Error).message)) return { first: 0, last: 0 };
    throw new FleetUnavailableError(`cannot read stream ${stream}: ${(error as Error).message}`);
  }
}

/** The first sequence at or after `from` whose subject matches `filter`, or undefined. */
async function firstMatching(
  jsm: JetStreamManager,
  stream: string,
  filter: string,
  from: number,
): Promise<number | undefined> {
  // No such message is null; an error is the broker failing, which must not pass for the start of history.
  let message: Awaited<ReturnType<JetStreamManager['streams']['getMessage']>>;
  try {
    message = await jsm.streams.getMessage(stream, { seq: from, next_by_subj: filter } as unknown as { seq: number });
  } catch (error) {
    throw new FleetUnavailableError(`cannot read stream ${stream}: ${(error as Error).message}`);
  }
  return message === null ? undefined : message.seq;
}

/** The kept entries with a sequence in `[from, to)`, in stream order. */
async function readWindow(
  connection: NatsConnection,
  jsm: JetStreamManager,
  options: FleetPageOptions,
  filter: string,
  from: number,
  to: number,
): Promise<FleetEntry[]> {
  const start = await firstMatching(jsm, options.stream, filter, from);
  if (start === undefined || start >= to) return [];
  const consumer = await jetstream(connection).consumers.get(options.stream, {
    filter_subjects: filter,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: start,
  });
  const messages = await consumer.consume();
  const out: FleetEntry[] = [];
  try {
    for await (const message of messages) {
      if (message.seq >= to) break;
      const entry = fleetEntry(message);
      if (entry !== undefined) {
        if (keep(entry, options)) out.push(entry);
        // Only the newest `limit + 1` can be on the page: a wide window of a busy stream is not held whole.
        if (out.length > 2 * (options.limit + 1)) out.splice(0, out.length - (options.limit + 1));
      }
      if (message.info.pending === 0 || message.seq === to - 1) break;
    }
  } finally {
    await messages.close().catch(() => undefined);
  }
  return out;
}

/** The page of `limit` entries before `beforeSequence` (or the newest `limit`). */
export async function readFleetPage(connection: NatsConnection, options: FleetPageOptions): Promise<FleetPage> {
  const jsm = await jetstreamManager(connection, { timeout: 5_000 });
  const { first, last } = await streamState(jsm, options.stream);
  if (first === 0 || options.limit === 0) return { entries: [], start: first === 0, lastSequence: last };
  const filter = patternFilter(options.pattern, options.sources);
  let to = Math.min(options.beforeSequence ?? last + 1, last + 1);
  let window = Math.max(FIRST_WINDOW_SEQUENCES, options.limit * 2);
  let found: FleetEntry[] = [];
  // One more than the page: its presence says the page does not reach the start.
  while (found.length <= options.limit && to > first) {
    const from = Math.max(first, to - window);
    found = (await readWindow(connection, jsm, options, filter, from, to)).concat(found);
    to = from;
    window *= WINDOW_GROWTH;
  }
  return {
    entries: found.slice(Math.max(0, found.length - options.limit)),
    start: found.length <= options.limit,
    lastSequence: last,
  };
}
