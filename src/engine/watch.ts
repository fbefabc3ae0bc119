/**
 * Shared directory watchers. Every stream following a directory in this
 * process subscribes to one `fs.watch` of that directory and one fallback
 * poll timer; the watcher is closed when the last subscriber leaves. A process
 * tailing 1,000 sandboxes holds 1,000 watchers, not one per stream.
 *
 * The poll is the safety net for file systems where events do not arrive
 * (network mounts, some containers) and for a watcher that failed: subscribers
 * are woken at least every {@link POLL_INTERVAL_MS}.
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

interface DirectoryWatch {
  watcher: FSWatcher | undefined;
  readonly listeners: Set<Listener>;
  /** The next poll: one timer per directory, rescheduled by each poll. */
  timer: NodeJS.Timeout | undefined;
  /** When the watcher last reported something, or the last poll (ms). */
  lastEvent: number;
  /** Brings the next poll forward to the short interval (the watcher broke). */
  pollSoon: () => void;
}

const watches = new Map<string, DirectoryWatch>();

function wakeAll(entry: DirectoryWatch, event: 'rename' | 'change' | 'poll'): void {
  for (const listener of [...entry.listeners]) listener(event);
}

function startWatcher(dir: string, entry: DirectoryWatch): FSWatcher | undefined {
  try {
    // Not persistent: a waiting follower holds its own timer, so the watcher alone must not keep alive
    // a process whose consumer abandoned its stream.
    const watcher = watch(dir, { persistent: false }, (event) => {
      entry.lastEvent = Date.now();
      wakeAll(entry, event === 'rename' ? 'rename' : 'change');
    });
    watcher.on('error', () => {
      // The directory went away or the watch broke: fall back to polling, and let followers look now.
      watcher.close();
      if (entry.watcher === watcher) entry.watcher = undefined;
      entry.pollSoon();
      wakeAll(entry, 'rename');
    });
    return watcher;
  } catch {
    return undefined;
  }
}

/**
 * Calls `listener` whenever something in `dir` changes (and at least every
 * poll interval). Returns the function that unsubscribes.
 */
export function subscribe(dir: string, listener: Listener): () => void {
  let entry = watches.get(dir);
  if (entry === undefined) {
    const schedule = (delayMs: number): void => {
      if (created.timer !== undefined) clearTimeout(created.timer);
      created.timer = setTimeout(poll, delayMs).unref();
    };
    const poll = (): void => {
      if (created.watcher === undefined) created.watcher = startWatcher(dir, created);
      if (created.watcher === undefined) {
        wakeAll(created, 'poll');
        schedule(POLL_INTERVAL_MS);
        return;
      }
      // A directory whose watcher works needs a look of its own only when it has been quiet for long.
      const quietMs = Date.now() - created.lastEvent;
      if (quietMs < WATCHED_POLL_INTERVAL_MS) {
        schedule(WATCHED_POLL_INTERVAL_MS - quietMs);
        return;
      }
      created.lastEvent = Date.now();
      wakeAll(created, 'poll');
      schedule(WATCHED_POLL_INTERVAL_MS);
    };
    const created: DirectoryWatch = {
      watcher: undefined,
      listeners: new Set(),
      timer: undefined,
      lastEvent: Date.now(),
      pollSoon: () => schedule(Math.random() * POLL_INTERVAL_MS),
    };
    created.watcher = startWatcher(dir, created);
    // At a random phase, so that a thousand followed directories do not all poll in the same millisecond.
    schedule(Math.random() * (created.watcher === undefined ? POLL_INTERVAL_MS : WATCHED_POLL_INTERVAL_MS));
    watches.set(dir, created);
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
      clearTimeout(subscribed.timer);
      subscribed.watcher?.close();
      if (watches.get(dir) === subscribed) watches.delete(dir);
    }
  };
}

/** How many directories this process watches now (one per directory, however many streams follow it). */
export function watchedDirectoryCount(): number {
  return watches.size;
}
