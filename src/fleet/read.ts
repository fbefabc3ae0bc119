/**
 * Reading the fleet back: the entries a pattern (`host/name`, either part
 * `*`) selects from the stream, in stream order, with the filters of
 * `sandlog logs` applied to each entry's own fields, and an inventory of
 * what the stream holds per host and sandbox.
 *
 * Cursor: the stream sequence. It is global across every host and sandbox
 * (a merged read has one), strictly increasing, and means the same thing to
 * every reader; a resumed read starts at the next sequence. A sandbox's own
 * cursor (the `cursor` of a `--json` line, which resumes `sandlog logs` on
 * its host) is accepted too for a single sandbox: the read then starts after
 * the message that carries it.
 */
import { DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { InvalidCursorError } from '../errors.js';
import { filesForSources, LOG_FILES } from '../files/layout.js';
import { decodeCursor, encodeCursor, START_POSITION } from '../format/cursor.js';
import type { LogSource } from '../format/source.js';
import { parseEntrySubject, SUBJECT_PREFIX } from '../ship/naming.js';
import { FleetUnavailableError } from './connect.js';
import { patternFilter, type SandboxPattern } from './pattern.js';

/** One shipped entry as read back. */
export interface FleetEntry {
  /** Stream sequence: the fleet cursor. */
  readonly sequence: number;
  readonly host: string;
  readonly sandbox: string;
  /** The payload: exactly the `--json` line on the host. */
  readonly line: string;
  readonly fields: { t: string; s: LogSource; d: string; id: number | null; e: string | null; cursor: string };
}

/** What to read. */
export interface FleetReadOptions {
  readonly stream: string;
  readonly pattern: SandboxPattern;
  readonly sources: ReadonlySet<LogSource>;
  readonly since?: number;
  readonly until?: number;
  readonly grep?: RegExp;
  readonly tail?: number;
  readonly follow: boolean;
  /** Start after this stream sequence. */
  readonly afterSequence?: number;
  /** Start after the message carrying this sandbox cursor (single sandbox only). */
  readonly afterCursor?: string;
  /** Keeps only the sandboxes it accepts (a selection finer than the pattern's subject filter). */
  readonly only?: (host: string, sandbox: string) => boolean;
  readonly signal: AbortSignal;
}

function entryText(fields: FleetEntry['fields']): string {
  return fields.e === 'b64' ? Buffer.from(fields.d, 'base64').toString('utf8') : fields.d;
}

/** Whether an entry passes the read's filters (its sandbox, source, time range and grep). */
export function keep(entry: FleetEntry, options: Omit<FleetReadOptions, 'follow' | 'signal' | 'stream'>): boolean {
  if (options.only !== undefined && !options.only(entry.host, entry.sandbox)) return false;
  if (!options.sources.has(entry.fields.s)) return false;
  const time = Date.parse(entry.fields.t);
  if (options.since !== undefined && time < options.since) return false;
  if (options.until !== undefined && time >= options.until) return false;
  if (options.grep !== undefined) {
    options.grep.lastIndex = 0;
    if (!options.grep.test(entryText(entry.fields))) return false;
  }
  return true;
}

/** A message of the stream as an entry; undefined when its subject or payload is not a shipped entry's. */
export function fleetEntry(message: JsMsg): FleetEntry | undefined {
  const names = parseEntrySubject(message.subject);
  if (names === undefined) return undefined;
  const line = message.string();
  try {
    const fields = JSON.parse(line) as FleetEntry['fields'];
    return { sequence: message.seq, host: names.host, sandbox: names.sandbox, line, fields };
  } catch {
    return undefined;
  }
}

/** Messages the filter matches now, and the stream's last sequence (0 for both when the stream is missing). */
async function matching(
  connection: NatsConnection,
  stream: string,
  filter: string,
): Promise<{ count: number; last: number; exists: boolean }> {
  const jsm = await jetstreamManager(connection, { timeout: 5_000 });
  try {
    const info = await jsm.streams.info(stream, { subjects_filter: filter });
    const count = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    return { count, last: info.state.last_seq, exists: true };
  } catch (error) {
    if (/not found/i.test((error as Error).message)) return { count: 0, last: 0, exists: false };
    throw new FleetUnavailableError(`cannot read stream ${stream}: ${(error as Error).message}`);
  }
}

/** Whether a message matching `filter` has a sequence at or after `sequence`. */
async function anyFrom(connection: NatsConnection, stream: string, filter: string, sequence: number): Promise<boolean> {
  const jsm = await jetstreamManager(connection, { timeout: 5_000 });
  const message = await jsm.streams
    .getMessage(stream, { seq: sequence, next_by_subj: filter } as unknown as { seq: number })
    .catch(() => null);
  return message !== null;
}

/**
 * The selected entries, in stream order; without `follow` it ends at what
 * the stream held when the read began.
 */
export async function* readFleet(connection: NatsConnection, options: FleetReadOptions): AsyncGenerator<FleetEntry[]> {
  const filter = patternFilter(options.pattern, options.sources);
  const { count, last, exists } = await matching(connection, options.stream, filter);
  if (!exists && !options.follow)
    throw new FleetUnavailableError(`stream ${options.stream} does not exist (nothing was shipped yet?)`);
  if (options.afterCursor !== undefined && options.pattern.merged)
    throw new InvalidCursorError(
      'invalid cursor: a sandbox cursor resumes one sandbox; use the stream sequence for host/* or */name',
    );
  let skipping = options.afterCursor !== undefined;
  const tail = options.tail === undefined ? undefined : ([] as FleetEntry[]);
  let live =
    count === 0 ||
    (options.afterSequence !== undefined &&
      !(await anyFrom(connection, options.stream, filter, options.afterSequence + 1)));
  const flushTail = (): FleetEntry[] => {
    const out = tail === undefined ? [] : tail.slice(Math.max(0, tail.length - options.tail!));
    if (tail !== undefined) tail.length = 0;
    return out;
  };
  if (live) {
    if (skipping) throw new InvalidCursorError('invalid cursor: no message of this sandbox carries it');
    if (!options.follow) return;
  }
  const js = jetstream(connection);
  const consumer = await js.consumers.get(options.stream, {
    filter_subjects: filter,
    ...(options.afterSequence === undefined
      ? { deliver_policy: DeliverPolicy.All }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: options.afterSequence + 1 }),
  });
  const messages = await consumer.consume();
  const stop = (): void => void messages.close().catch(() => undefined);
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    let batch: FleetEntry[] = [];
    for await (const message of messages) {
      const entry = fleetEntry(message);
      if (entry !== undefined) {
        const { fields } = entry;
        if (skipping) {
          if (
            fields.cursor === options.afterCursor ||
            cursorForSources(fields.cursor, options.sources) === options.afterCursor
          )
            skipping = false;
        } else if (keep(entry, options)) {
          if (tail !== undefined && !live) {
            tail.push(entry);
            if (tail.length > 2 * options.tail! + 1024) tail.splice(0, tail.length - options.tail!);
          } else batch.push(entry);
        }
      }
      // The broker's count of what is left is one too many on messages stored after the consumer was made
      // (nats-server 2.9): a message the stream did not hold when the read began also ends the catch-up.
      const caughtUp = message.info.pending === 0 || message.seq >= last;
      if (caughtUp && !live) {
        live = true;
        if (skipping) throw new InvalidCursorError('invalid cursor: no message of this sandbox carries it');
        batch.push(...flushTail());
      }
      if (caughtUp && !options.follow) {
        if (batch.length > 0) yield batch;
        return;
      }
      // Live (every message is then past `last`), each entry goes out as it comes.
      if (batch.length >= 512 || caughtUp) {
        if (batch.length > 0) yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    options.signal.removeEventListener('abort', stop);
    await messages.close().catch(() => undefined);
  }
}

/** One host's sandbox in the stream. */
export interface FleetSandbox {
  readonly host: string;
  readonly name: string;
  readonly entries: number;
  /** Time of its last shipped entry. */
  readonly lastEntry: string | null;
}

/** Every host/sandbox the stream holds, with entry counts and last entry time, sorted. */
export async function listFleet(connection: NatsConnection, stream: string): Promise<FleetSandbox[]> {
  const jsm = await jetstreamManager(connection, { timeout: 5_000 });
  let subjects: Record<string, number>;
  try {
    subjects = (await jsm.streams.info(stream, { subjects_filter: `${SUBJECT_PREFIX}.>` })).state.subjects ?? {};
  } catch (error) {
    if (/not found/i.test((error as Error).message)) return [];
    throw new FleetUnavailableError(`cannot read stream ${stream}: ${(error as Error).message}`);
  }
  const groups = new Map<string, { host: string; name: string; entries: number; subjects: string[] }>();
  for (const [subject, count] of Object.entries(subjects)) {
    const names = parseEntrySubject(subject);
    if (names === undefined) continue;
    const key = `${names.host}\u0000${names.sandbox}`;
    const group = groups.get(key) ?? { host: names.host, name: names.sandbox, entries: 0, subjects: [] };
    group.entries += count;
    group.subjects.push(subject);
    groups.set(key, group);
  }
  const out: FleetSandbox[] = [];
  for (const group of groups.values()) {
    let lastEntry: string | null = null;
    for (const subject of group.subjects) {
      const message = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(() => null);
      if (message === null) continue;
      try {
        const t = (JSON.parse(message.string()) as { t: string }).t;
        if (lastEntry === null || Date.parse(t) > Date.parse(lastEntry)) lastEntry = t;
      } catch {
        // Not a sandlog payload: it does not date the sandbox.
      }
    }
    out.push({ host: group.host, name: group.name, entries: group.entries, lastEntry });
  }
  return out.sort((a, b) => (a.host === b.host ? (a.name < b.name ? -1 : 1) : a.host < b.host ? -1 : 1));
}

/**
 * The line `sandlog logs --json --source <sources>` prints for a shipped
 * entry on its host. The shipper's cursor has a position for every file it
 * read (all three with `--source all`); a read of fewer sources has
 * positions for fewer files, so the cursor is narrowed to those (each file's
 * position is the same in both).
 */
export function lineForSources(entry: FleetEntry, sources: ReadonlySet<LogSource>): string {
  const suffix = `,"cursor":"${entry.fields.cursor}"}`;
  if (!entry.line.endsWith(suffix)) return entry.line;
  const cursor = cursorForSources(entry.fields.cursor, sources);
  return cursor === entry.fields.cursor ? entry.line : `${entry.line.slice(0, -suffix.length)},"cursor":"${cursor}"}`;
}

/** A shipped cursor narrowed to the files of `sources` (see {@link lineForSources}). */
export function cursorForSources(cursor: string, sources: ReadonlySet<LogSource>): string {
  let positions: ReturnType<typeof decodeCursor>;
  try {
    positions = decodeCursor(cursor);
  } catch {
    return cursor;
  }
  const shipped =
    positions.length === LOG_FILES.length ? LOG_FILES : positions.length === 1 ? [LOG_FILES[0]!] : undefined;
  const wanted = filesForSources(sources);
  if (shipped === undefined || (shipped.length === wanted.length && shipped.every((spec, i) => spec === wanted[i])))
    return cursor;
  return encodeCursor(
    wanted.map((spec) => {
      const at = shipped.indexOf(spec);
      return at < 0 ? START_POSITION : positions[at]!;
    }),
  );
}
