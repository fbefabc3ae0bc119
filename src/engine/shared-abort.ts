/**
 * One abort listener per signal, however many streams share it: a listener
 * per stream makes Node print "MaxListenersExceededWarning: Possible
 * EventTarget memory leak" to the caller's stderr from the 11th on, and costs
 * O(listeners) to add and remove.
 */

const abortCallbacks = new WeakMap<
  AbortSignal,
  { readonly callbacks: Set<() => void>; readonly listener: () => void }
>();

/** Calls `callback` once when `signal` aborts; returns the function that cancels that. */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let entry = abortCallbacks.get(signal);
  if (entry === undefined) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      abortCallbacks.delete(signal);
      for (const waiting of [...callbacks]) waiting();
    };
    entry = { callbacks, listener };
    abortCallbacks.set(signal, entry);
    signal.addEventListener('abort', listener, { once: true });
  }
  const { callbacks, listener } = entry;
  // A distinct function per call, so that one callback registered twice is called twice.
  const own = (): void => callback();
  callbacks.add(own);
  return () => {
    callbacks.delete(own);
    if (callbacks.size === 0 && abortCallbacks.get(signal)?.callbacks === callbacks) {
      abortCallbacks.delete(signal);
      signal.removeEventListener('abort', listener);
    }
  };
}
