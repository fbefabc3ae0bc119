/**
 * What the entry routes share, one sandbox or several: a snapshot's
 * `{"entries":[…], …}` body written piece by piece, and a Server-Sent Events
 * stream's life — open, tell an EventSource of an unusable cursor, relay,
 * `end` or `error`, and be counted among the app's live streams meanwhile.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidCursorError } from '../errors.js';
import { toHttpError } from './errors.js';
import { JSON_HEADERS, writeChunk, WRITE_CHUNK_CHARS } from './respond.js';
import { SECURITY_HEADERS } from './security.js';
import { SseResponse } from './sse.js';

/** A live stream as the app tracks it: its close() shuts every one down and waits for them. */
export interface LiveStream {
  readonly shutdown: () => void;
  readonly done: Promise<void>;
}

/** What a stream route needs of the app. */
export interface EventStreamContext {
  readonly heartbeatMs: number;
  readonly onError: (error: unknown, request: IncomingMessage) => void;
  readonly streams: Set<LiveStream>;
}

/** A stream of entries that is opened, read, and closed, with the cursor after what it gave. */
export interface EntryStream {
  open(): Promise<void>;
  close(): Promise<void>;
  readonly cursor: string;
}

/**
 * Writes `{"entries":[` the batches' JSON lines `]` then `closing()` and `}`.
 * The status line waits for the first batch: a bad cursor or a missing
 * sandbox still gets its status.
 */
export async function sendEntriesBody(
  response: ServerResponse,
  batches: AsyncIterable<readonly { toJsonLine(): string }[]>,
  closing: () => string,
): Promise<void> {
  const iterator = batches[Symbol.asyncIterator]();
  try {
    let next = await iterator.next();
    response.writeHead(200, JSON_HEADERS);
    let separator = '';
    let chunk = '{"entries":[';
    while (next.done !== true) {
      for (const entry of next.value) {
        chunk += separator + entry.toJsonLine();
        separator = ',';
        if (chunk.length >= WRITE_CHUNK_CHARS) {
          if (!(await writeChunk(response, chunk))) return;
          chunk = '';
        }
      }
      next = await iterator.next();
    }
    response.end(`${chunk}]${closing()}}`);
  } finally {
    await iterator.return?.(undefined);
  }
}

/**
 * Serves one event stream: `start` makes the stream (its options carry the
 * signal, aborted when the client leaves or the app closes), `relay` sends
 * its events until it ends or the client stops taking them. An unusable
 * cursor is a 400 before the stream starts, except to an EventSource, which
 * cannot read an error status's body: it gets the named `error` event, after
 * `whenCursorRefused` (which may still throw, e.g. the sandbox's 404).
 */
export async function serveEventStream<S extends EntryStream>(
  context: EventStreamContext,
  request: IncomingMessage,
  response: ServerResponse,
  start: (signal: AbortSignal) => S,
  relay: (stream: S, sse: SseResponse) => Promise<void>,
  whenCursorRefused?: () => Promise<unknown>,
): Promise<void> {
  const stop = new AbortController();
  const eventSource = (request.headers.accept ?? '').includes('text/event-stream');
  let stream: S | undefined;
  let cursorError: InvalidCursorError | undefined;
  try {
    stream = start(stop.signal);
    await stream.open();
  } catch (error) {
    await stream?.close();
    if (!(error instanceof InvalidCursorError) || !eventSource) throw error;
    cursorError = error;
    stream = undefined;
    await whenCursorRefused?.();
  }

  const sse = new SseResponse(response, { ...SECURITY_HEADERS }, context.heartbeatMs);
  let finish!: () => void;
  const tracked: LiveStream = {
    shutdown: (): void => {
      stop.abort();
      // A client that stopped reading would hold the stream in its wait for `drain` forever.
      if (sse.blocked) response.destroy();
    },
    done: new Promise<void>((resolve) => (finish = resolve)),
  };
  context.streams.add(tracked);
  response.once('close', () => stop.abort());
  try {
    if (stream === undefined) {
      await sse.sendEvent('error', toHttpError(cursorError).toJSON());
      return;
    }
    try {
      await relay(stream, sse);
      // Aborted: the client left or the server is stopping; either way the client should reconnect, so no `end`.
      if (!stop.signal.aborted && !sse.closed) await sse.sendEvent('end', { cursor: stream.cursor });
    } catch (error) {
      const failure = toHttpError(error);
      if (failure.status >= 500) context.onError(error, request);
      if (!sse.closed) await sse.sendEvent('error', failure.toJSON());
    } finally {
      await stream.close();
    }
  } finally {
    sse.end();
    context.streams.delete(tracked);
    finish();
  }
}
