/**
 * Several sandboxes read as one stream, as `stern` and `docker compose logs`
 * do: the entries of every selected sandbox, each tagged with its sandbox's
 * name and the multi-cursor after it.
 *
 * Contracts:
 * - Filters apply per sandbox: `tail: 10` is the last ten of each.
 * - What is on disk when the stream starts is merged by time across
 *   sandboxes (ties: name order, then each sandbox's own order), never
 *   loaded whole. While following, each round of new entries is merged the
 *   same way, so live entries come out in arrival rounds, time-ordered
 *   within a round.
 * - Cursors: an entry's `cursor` is the multi-cursor after it (see
 *   ../format/multi-cursor.ts); resuming from it continues every sandbox
 *   exactly after its last entry handed out. A sandbox the multi-cursor does
 *   not name starts as the options say (`since`, `tail`, else its beginning).
 *   When the stream ends, `cursor` names every sandbox, after all it read.
 * - A selection with patterns (or `{ all: true }`), followed, looks for
 *   sandboxes appearing and disappearing and reports them in band
 *   (`sandbox-added` / `sandbox-removed` events) and through callbacks.
 *   Explicit names must exist; patterns may match nothing.
 */
import { InvalidCursorError, OptionsError, SandboxNotFoundError, StreamIteratedTwiceError } from '../errors.js';
import type { Entry } from '../format/entry.js';
import { decodeMultiCursor, encodeMultiCursor, type MultiCursor } from '../format/multi-cursor.js';
import { defaultHome } from '../files/layout.js';
import { EntryByEntry } from './entry-by-entry.js';
import { mergeRuns, mergeSnapshots, type SandboxRun } from './multi-merge.js';
import { resolveOptions, type ReadOptions } from './options.js';
import { streamLogs, type LogStreamHandle } from './read.js';
import { SandboxEntry, type SandboxLogEntry } from './sandbox-entry.js';
import {
  compareNames,
  matchingSandboxes,
  resolveSelection,
  sandboxLogsGone,
  selectedSandboxes,
  type ResolvedSelection,
  type SandboxSelection,
} from './selection.js';
import { onAbort } from './shared-abort.js';
import { Waker } from './waker.js';

/** How often a followed pattern looks for sandboxes appearing and disappearing. */
export const DISCOVERY_INTERVAL_MS = 1000;
/** Batches a follower may read ahead of the consumer. */
const MAX_QUEUED_BATCHES = 4;

/** Options of {@link streamManyLogs}; all optional. */
export interface ManyStreamOptions extends ReadOptions {
  /** Continue after this multi-cursor (a string, or the `{ name: cursor }` object). Sandboxes it does not name start as `since`/`tail` say. */
  afterCursor?: string | MultiCursor;
  /** Keep following, across rotations; with patterns, also sandboxes created later. @default false */
  follow?: boolean;
  /** Ends the stream (cleanly) when aborted. */
  signal?: AbortSignal;
  /** As for `streamLogs`. @default 2000 */
  pollIntervalMs?: number;
  /** As for `streamLogs`, per sandbox. @default 4 */
  holdGenerations?: number;
  /** How often a followed pattern looks for new and removed sandboxes. @default 1000 */
  discoveryIntervalMs?: number;
  /** Told when a followed pattern picks up a sandbox. */
  onSandboxAdded?: (name: string) => void;
  /** Told when a followed pattern's sandbox goes away. */
  onSandboxRemoved?: (name: string) => void;
}

/** What a multi-sandbox stream hands out: entries, or a change in the set of sandboxes. */
export type ManyLogEvent =
  | { readonly type: 'entries'; readonly entries: SandboxEntry[] }
  | { readonly type: 'sandbox-added'; readonly sandbox: string }
  | { readonly type: 'sandbox-removed'; readonly sandbox: string };

/** A stream over several sandboxes; iterate it with `for await`, or take its events. */
export interface ManyLogStreamHandle extends AsyncIterable<SandboxLogEntry> {
  /** Entries in batches, with sandbox changes in between. Iterate one of events/batches/entries, once. */
  events(): AsyncIterable<ManyLogEvent>;
  /** Just the entries, in batches. */
  batches(): AsyncIterable<SandboxEntry[]>;
  /** The multi-cursor after the last entry handed out (naming every sandbox once the stream has ended). */
  readonly cursor: string;
  /** The sandboxes read now, sorted (known after `open()`). */
  readonly sandboxes: readonly string[];
  /** Malformed records skipped so far, all sandboxes together. */
  readonly malformed: number;
  /** Resolves the selection and opens every sandbox: a missing named sandbox or an unusable cursor fails here. */
  open(): Promise<void>;
  /** Stops the stream and releases every file and watcher. */
  close(): Promise<void>;
}

interface Member {
  readonly name: string;
  readonly handle: LogStreamHandle;
  readonly queue: Entry[][];
  ended: boolean;
  resume: (() => void) | undefined;
}

class ManyStream implements ManyLogStreamHandle {
  private readonly selection: ResolvedSelection;
  private readonly options: ManyStreamOptions;
  private readonly home: string;
  private readonly since: number;
  private readonly until: number;
  private readonly startCursors: Map<string, string>;
  private readonly stop = new AbortController();
  private readonly handles: LogStreamHandle[] = [];
  private names: string[] = [];
  private state: Record<string, string> = {};
  private opening: Promise<Member[]> | undefined;
  private started = false;
  private closed = false;
  private readonly handedOut = new EntryByEntry<SandboxEntry>();
  private stopListening: (() => void) | undefined;

  constructor(selection: SandboxSelection, options: ManyStreamOptions) {
    this.selection = resolveSelection(selection);
    const { afterCursor, discoveryIntervalMs, onSandboxAdded, onSandboxRemoved, ...single } = options;
    // Checked (and `since`/`until` fixed to one instant for every sandbox) once, up front.
    const resolved = resolveOptions(single);
    if (discoveryIntervalMs !== undefined && !(Number.isFinite(discoveryIntervalMs) && discoveryIntervalMs >= 1)) {
      throw new OptionsError(
        `Expected the \`discoveryIntervalMs\` option to be a positive number, got ${String(discoveryIntervalMs)}`,
      );
    }
    this.options = options;
    this.home = options.home ?? defaultHome();
    this.since = resolved.since;
    this.until = resolved.until;
    this.startCursors =
      afterCursor === undefined
        ? new Map()
        : typeof afterCursor === 'string'
          ? decodeMultiCursor(afterCursor)
          : decodeMultiCursor(JSON.stringify(afterCursor));
    const signal = options.signal;
    if (signal !== undefined) {
      const abort = (): void => this.stop.abort();
      if (signal.aborted) abort();
      else this.stopListening = onAbort(signal, abort);
    }
  }

  get sandboxes(): readonly string[] {
    return this.names;
  }

  get cursor(): string {
    return this.handedOut.cursorInBatch ?? encodeMultiCursor(this.state);
  }

  get malformed(): number {
    return this.handles.reduce((sum, handle) => sum + handle.malformed, 0);
  }

  // One sandbox's stream: from its cursor when there is one, else as `since`/`tail` say.
  private sandboxStream(name: string, cursor: string | undefined, follow: boolean): LogStreamHandle {
    const { sources, grep, tail, onWarning, pollIntervalMs, holdGenerations } = this.options;
    const handle = streamLogs(
      { name, home: this.home },
      {
        ...(sources === undefined ? {} : { sources }),
        ...(grep === undefined ? {} : { grep }),
        ...(this.until === Infinity ? {} : { until: this.until }),
        ...(cursor !== undefined
          ? { afterCursor: cursor }
          : { ...(this.since === -Infinity ? {} : { since: this.since }), ...(tail === undefined ? {} : { tail }) }),
        ...(onWarning === undefined ? {} : { onWarning }),
        ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
        ...(holdGenerations === undefined ? {} : { holdGenerations }),
        follow,
        signal: this.stop.signal,
      },
    );
    this.handles.push(handle);
    return handle;
  }

  open(): Promise<void> {
    return this.prepare().then(() => undefined);
  }

  // Resolves the selection and opens each sandbox's snapshot stream. A sandbox only a pattern found
  // that is gone (or leads outside the home) by the time it is opened is left out.
  private prepare(): Promise<Member[]> {
    this.opening ??= (async () => {
      const names = await selectedSandboxes(this.selection, this.home);
      const members: Member[] = [];
      for (const name of names) {
        const handle = this.sandboxStream(name, this.startCursors.get(name), false);
        try {
          await handle.open();
        } catch (error) {
          await handle.close();
          if (error instanceof SandboxNotFoundError && !this.selection.names.includes(name)) continue;
          await Promise.all(members.map((member) => member.handle.close()));
          throw error;
        }
        members.push({ name, handle, queue: [], ended: false, resume: undefined });
      }
      this.names = members.map((member) => member.name);
      for (const member of members) {
        const cursor = this.startCursors.get(member.name);
        if (cursor !== undefined) this.state[member.name] = cursor;
      }
      return members;
    })();
    return this.opening;
  }

  // Hands out `entry` of `name`: the state moves on (a new object, so earlier entries keep theirs).
  private tag(name: string, entry: Entry): SandboxEntry {
    this.state = { ...this.state, [name]: entry.cursor };
    return new SandboxEntry(name, entry, this.state);
  }

  async *events(): AsyncGenerator<ManyLogEvent> {
    if (this.started) throw new StreamIteratedTwiceError();
    this.started = true;
    try {
      const members = await this.prepare();
      // What is there now, merged by time across sandboxes; then every sandbox's cursor after all it read.
      const tag = (name: string, entry: Entry): SandboxEntry => this.tag(name, entry);
      for await (const entries of mergeSnapshots(members, tag, this.stop.signal)) yield { type: 'entries', entries };
      if (this.stop.signal.aborted) return;
      for (const { name, handle } of members) this.state = { ...this.state, [name]: handle.cursor };
      if (this.options.follow !== true) return;
      yield* this.followAll(members.map((member) => member.name));
    } finally {
      await this.close();
    }
  }

  private async *followAll(initial: readonly string[]): AsyncGenerator<ManyLogEvent> {
    const members = new Map<string, Member>();
    const pending: ManyLogEvent[] = [];
    let failure: unknown;
    const waker = new Waker();
    const notify = waker.notify;
    this.stop.signal.addEventListener('abort', notify, { once: true });

    const start = (name: string, cursor: string | undefined, handle = this.sandboxStream(name, cursor, true)): void => {
      const member: Member = { name, handle, queue: [], ended: false, resume: undefined };
      members.set(name, member);
      void (async () => {
        try {
          for await (const batch of handle.batches()) {
            member.queue.push(batch as Entry[]);
            notify();
            while (
              member.queue.length >= MAX_QUEUED_BATCHES &&
              !this.stop.signal.aborted &&
              members.get(name) === member
            ) {
              await new Promise<void>((resolve) => (member.resume = resolve));
            }
          }
        } catch (error) {
          // Removed between the snapshot and the follow (its files first, then its directory): as a follower
          // whose directory goes away, it just ends. With its files still there, a lost place is a real error.
          const removed =
            error instanceof SandboxNotFoundError ||
            (error instanceof InvalidCursorError && (await sandboxLogsGone(this.home, name)));
          if (members.get(name) === member && !removed) failure ??= error;
        } finally {
          member.ended = true;
          notify();
        }
      })();
    };
    for (const name of initial) start(name, this.state[name]);

    // Patterns: look for sandboxes appearing and disappearing.
    let timer: NodeJS.Timeout | undefined;
    let scanning = false;
    const discover = async (): Promise<void> => {
      if (scanning || this.stop.signal.aborted) return;
      scanning = true;
      try {
        const present = new Set([...this.selection.names, ...(await matchingSandboxes(this.selection, this.home))]);
        for (const [name, member] of members) {
          if (present.has(name) || this.stop.signal.aborted) continue;
          members.delete(name);
          member.resume?.();
          await member.handle.close();
          const { [name]: _gone, ...rest } = this.state;
          this.state = rest;
          this.names = this.names.filter((known) => known !== name);
          pending.push({ type: 'sandbox-removed', sandbox: name });
          this.options.onSandboxRemoved?.(name);
        }
        for (const name of [...present].sort(compareNames)) {
          if (members.has(name) || this.stop.signal.aborted) continue;
          const handle = this.sandboxStream(name, undefined, true);
          try {
            await handle.open();
          } catch {
            await handle.close(); // gone again, or not ours to read: the next look decides
            continue;
          }
          this.names = [...this.names, name].sort(compareNames);
          pending.push({ type: 'sandbox-added', sandbox: name });
          this.options.onSandboxAdded?.(name);
          start(name, undefined, handle);
        }
      } catch (error) {
        failure ??= error;
      } finally {
        scanning = false;
        if (pending.length > 0) notify();
        if (!this.stop.signal.aborted)
          timer = setTimeout(() => void discover(), this.options.discoveryIntervalMs ?? DISCOVERY_INTERVAL_MS);
      }
    };
    if (this.selection.dynamic)
      timer = setTimeout(() => void discover(), this.options.discoveryIntervalMs ?? DISCOVERY_INTERVAL_MS);
    // `until` ends the stream even when no sandbox (or none of the followers) has anything to say.
    const untilTimer =
      this.until === Infinity
        ? undefined
        : setTimeout(notify, Math.max(0, Math.min(this.until - Date.now(), 2 ** 31 - 1)));

    try {
      for (;;) {
        if (failure !== undefined) throw failure;
        if (this.stop.signal.aborted) return;
        for (const event of pending.splice(0)) yield event;
        const entries = this.mergeQueued(members);
        if (entries.length > 0) yield { type: 'entries', entries };
        if (this.stop.signal.aborted) return;
        if (this.until !== Infinity && Date.now() >= this.until) return;
        const live = [...members.values()];
        if (!this.selection.dynamic && live.every((member) => member.ended && member.queue.length === 0)) return;
        await waker.wait(undefined, this.stop.signal);
      }
    } finally {
      clearTimeout(timer);
      clearTimeout(untilTimer);
      this.stop.signal.removeEventListener('abort', notify);
      for (const member of members.values()) member.resume?.();
    }
  }

  // Takes every batch the followers have queued and merges them by time (ties: name order).
  private mergeQueued(members: Map<string, Member>): SandboxEntry[] {
    const lists: SandboxRun[] = [];
    for (const member of [...members.values()].sort((a, b) => compareNames(a.name, b.name))) {
      if (member.queue.length === 0) continue;
      lists.push({ name: member.name, entries: member.queue.splice(0).flat(), at: 0 });
      member.resume?.();
      member.resume = undefined;
    }
    return mergeRuns(lists, (name, entry) => this.tag(name, entry));
  }

  async *batches(): AsyncGenerator<SandboxEntry[]> {
    for await (const event of this.events()) if (event.type === 'entries') yield event.entries;
  }

  [Symbol.asyncIterator](): AsyncGenerator<SandboxLogEntry> {
    return this.handedOut.entries(this.batches());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    this.stopListening?.();
    await Promise.all(this.handles.map((handle) => handle.close()));
  }
}

/**
 * Streams the entries of several sandboxes merged by time, each tagged with
 * its sandbox (see the contracts at the top of this module). A selection is
 * a name, a shell-style pattern (`web-*`), a list of them, or `{ all: true }`.
 */
export function streamManyLogs(selection: SandboxSelection, options: ManyStreamOptions = {}): ManyLogStreamHandle {
  return new ManyStream(selection, options);
}
