/**
 * Shared directory watchers. Every stream following a directory in this
 * process subscribes to one `fs.watch` of that directory and one fallback
 * poll timer; the watcher is closed when the last subscriber leaves. A process
 * tailing 1,000 sandboxes holds 1,000 watchers, not one per stream.
 *
 * The poll is the safety net for file systems where events do not arrive
 * (network mounts, some containers) and for a watcher that failed: subscribers
 * are woken at least every {@link POLL_INTERVAL_MS} (give or take a tick of
 * the one poll timer all directories share).
 */
import { watch, type FSWatcher } from 'node:fs';

/** How often followers look for changes when the directory's watcher is not working (as microsandbox's engine does). */
export const POLL_INTERVAL_MS = 2000;
/**
 * How often they look anyway while the watcher works: inotify does not miss
 * changes on a local file system, and a thousand idle followers polling every
 * two seconds would cost several percent of a core for nothing.
 */
export const WATCHED_POLL_INTERVAL_MS = 30_000;

/** Called with the event type (`rename` for names appearing and disappearing, `change` for writes), or `poll`. */
type Listener = (event: 'rename' | 'change' | 'poll') => void;

/**
 * How often the one poll timer of the process looks for directories due a
 * poll. One timer for all: a timer per directory, each at its own phase,
 * woke the process 33 times a second for a thousand idle followers.
 */
const POLL_TICK_MS = 500;

interface DirectoryWatch {
  readonly dir: string;
  watcher: FSWatcher | undefined;
  readonly listeners: Set<Listener>;
  /** When the directory is due its next poll (ms since the epoch). */
  nextPoll: number;
  /** When the watcher last reported something, or the last poll (ms). */
  lastEvent: number;
}

const watches = new Map<string, DirectoryWatch>();
let pollTimer: NodeJS.Timeout | undefined;

function wakeAll(entry: DirectoryWatch, event: 'rename' | 'change' | 'poll'): void {
  for (const listener of [...entry.listeners]) listener(event);
}

// At a random phase, so that a thousand followed directories do not all poll in the same tick.
function pollSoon(entry: DirectoryWatch): void {
  entry.nextPoll = Date.now() + Math.random() * POLL_INTERVAL_MS;
}

function startWatcher(entry: DirectoryWatch): FSWatcher | undefined {
  try {
    // Not persistent: a waiting follower holds its own timer, so the watcher alone must not keep alive
    // a process whose consumer abandoned its stream.
    const watcher = watch(entry.dir, { persistent: false }, (event) => {
      entry.lastEvent = Date.now();
      wakeAll(entry, event === 'rename' ? 'rename' : 'change');
    });
    watcher.on('error', () => {
      // The directory went away or the watch broke: fall back to polling, and let followers look now.
      watcher.close();
      if (entry.watcher === watcher) entry.watcher = undefined;
      pollSoon(entry);
      wakeAll(entry, 'rename');
    });
    return watcher;
  } catch {
    return undefined;
  }
}

function poll(entry: DirectoryWatch, now: number): void {
  if (entry.watcher === undefined) {
    entry.watcher = startWatcher(entry);
    entry.lastEvent = now;
    entry.nextPoll = now + (entry.watcher === undefined ? POLL_INTERVAL_MS : WATCHED_POLL_INTERVAL_MS);
    // Not watched until now: what changed since the last poll was not reported, so followers look.
    wakeAll(entry, 'poll');
    return;
  }
  // A directory whose watcher works needs a look of its own only when it has been quiet for long.
  if (now - entry.lastEvent < WATCHED_POLL_INTERVAL_MS) {
    entry.nextPoll = entry.lastEvent + WATCHED_POLL_INTERVAL_MS;
    return;
  }
  entry.lastEvent = now;
  entry.nextPoll = now + WATCHED_POLL_INTERVAL_MS;
  wakeAll(entry, 'poll');
}

function pollDue(): void {
  const now = Date.now();
  for (const entry of [...watches.values()])
    if (entry.nextPoll <= now && watches.get(entry.dir) === entry) poll(entry, now);
}

/**
 * Calls `listener` whenever something in `dir` changes (and at least every
 * poll interval). Returns the function that unsubscribes.
 */
export function subscribe(dir: string, listener: Listener): () => void {
  let entry = watches.get(dir);
  if (entry === undefined) {
    const now = Date.now();
    const created: DirectoryWatch = { dir, watcher: undefined, listeners: new Set(), nextPoll: now, lastEvent: now };
    created.watcher = startWatcher(created);
    created.nextPoll =
      now + Math.random() * (created.watcher === undefined ? POLL_INTERVAL_MS : WATCHED_POLL_INTERVAL_MS);
    watches.set(dir, created);
    pollTimer ??= setInterval(pollDue, POLL_TICK_MS).unref();
    entry = created;
  }
  const subscribed = entry;
  // A distinct function per subscription, so that one listener subscribed twice counts twice.
  const own: Listener = (event) => listener(event);
  subscribed.listeners.add(own);
  let active = true;
  return () => {
    if (!active) return;
    active = false;
    subscribed.listeners.delete(own);
    if (subscribed.listeners.size === 0) {
      subscribed.watcher?.close();
      if (watches.get(dir) === subscribed) watches.delete(dir);
      if (watches.size === 0) {
        clearInterval(pollTimer);
        pollTimer = undefined;
      }
    }
  };
}

/** How many directories this process watches now (one per directory, however many streams follow it). */
export function watchedDirectoryCount(): number {
  return watches.size;
}
