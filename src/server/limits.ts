/**
 * The server's limits: how many event streams may be open at once, when a
 * connection whose client stopped reading is cut off, and the HTTP timeouts
 * and sizes that stop slow or oversized requests (slow-loris). Together they
 * bound what clients can make the server hold:
 *
 * - **Streams.** At most `maxStreams` event streams are open; one more is
 *   answered 503 with `Retry-After` ({@link StreamSlots}).
 * - **Stalled clients.** A response that the client does not take is never
 *   queued: writers wait for `drain` (sse.ts, respond.ts), so a stalled
 *   connection holds at most what was written when the socket filled up.
 *   When no byte of that has been taken for `stallTimeoutMs`, the connection
 *   is destroyed ({@link StallMonitor}) and what it held is freed; an event
 *   stream's client resumes with `Last-Event-ID`.
 * - **Requests.** Headers must arrive within `headersTimeoutMs` (a client
 *   that trickles them is answered 408 and closed), the whole request within
 *   `requestTimeoutMs`, headers are at most `maxHeaderBytes` (431), and an
 *   idle keep-alive connection is closed after `keepAliveTimeoutMs`.
 *   These are `node:http`'s own mechanisms, configured by
 *   {@link httpServerSettings}; {@link answerClientError} gives their
 *   answers the JSON body of every other error.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { describeValue, OptionsError } from '../errors.js';
import { clientErrorToHttpError, tooManyStreams } from './errors.js';
import { rawErrorResponse } from './respond.js';

/** Event streams served at once unless told otherwise. */
export const DEFAULT_MAX_STREAMS = 512;
/** How long a connection may leave everything it was sent untaken before it is closed. */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;
/** How long a client may take to send a request's headers. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** How long a client may take to send a whole request (headers and body). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** How long an idle keep-alive connection stays open (Node's own default). */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Largest request head (request line and headers) accepted (Node's own default). */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** `Retry-After` of the 503 sent when every stream slot is taken. */
export const STREAM_RETRY_AFTER_SECONDS = 5;

/** The limits that apply to the app itself (wherever it is mounted). */
export interface AppLimitOptions {
  /**
   * Event streams served at once; one more is answered 503 with `Retry-After`.
   * @default 512
   */
  maxStreams?: number;
  /**
   * Milliseconds a connection may leave everything it was sent untaken before
   * it is closed (an event stream's client then resumes with `Last-Event-ID`);
   * 0 never closes it.
   * @default 60000
   */
  stallTimeoutMs?: number;
}

/** The limits that apply to the listening `node:http` server. */
export interface HttpLimitOptions {
  /**
   * Milliseconds a client may take to send a request's headers (a slow-loris
   * client trickling them is answered 408 and closed).
   * @default 10000
   */
  headersTimeoutMs?: number;
  /**
   * Milliseconds a client may take to send a whole request; at least `headersTimeoutMs`.
   * @default 30000
   */
  requestTimeoutMs?: number;
  /**
   * Milliseconds an idle keep-alive connection stays open.
   * @default 5000
   */
  keepAliveTimeoutMs?: number;
  /**
   * Largest request head in bytes; a larger one is answered 431.
   * @default 16384
   */
  maxHeaderBytes?: number;
}

/** {@link AppLimitOptions}, checked and complete. */
export interface AppLimits {
  readonly maxStreams: number;
  readonly stallTimeoutMs: number;
}

/** {@link HttpLimitOptions}, checked and complete. */
export interface HttpLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderBytes: number;
}

function integerOption(options: object, name: string, fallback: number, minimum: number): number {
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    throw new OptionsError(
      `Expected the \`${name}\` option to be an integer of at least ${minimum}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Checks and completes the app's limits; throws `OptionsError` for a bad one. */
export function resolveAppLimits(options: AppLimitOptions): AppLimits {
  return Object.freeze({
    maxStreams: integerOption(options, 'maxStreams', DEFAULT_MAX_STREAMS, 1),
    stallTimeoutMs: integerOption(options, 'stallTimeoutMs', DEFAULT_STALL_TIMEOUT_MS, 0),
  });
}

/** Checks and completes the HTTP server's limits; throws `OptionsError` for a bad one. */
export function resolveHttpLimits(options: HttpLimitOptions): HttpLimits {
  const headersTimeoutMs = integerOption(options, 'headersTimeoutMs', DEFAULT_HEADERS_TIMEOUT_MS, 1);
  const requestTimeoutMs = integerOption(
    options,
    'requestTimeoutMs',
    Math.max(DEFAULT_REQUEST_TIMEOUT_MS, headersTimeoutMs),
    1,
  );
  // node:http refuses a header deadline beyond the request deadline: say so in our words.
  if (requestTimeoutMs < headersTimeoutMs) {
    throw new OptionsError(
      `Expected the \`requestTimeoutMs\` option (${requestTimeoutMs}) to be at least \`headersTimeoutMs\` (${headersTimeoutMs})`,
    );
  }
  return Object.freeze({
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: integerOption(options, 'keepAliveTimeoutMs', DEFAULT_KEEP_ALIVE_TIMEOUT_MS, 1),
    maxHeaderBytes: integerOption(options, 'maxHeaderBytes', DEFAULT_MAX_HEADER_BYTES, 1024),
  });
}

/**
 * The options of `http.createServer` that enforce the limits. node:http
 * checks the header and request deadlines on a timer
 * (`connectionsCheckingInterval`, 30 s by default, which would let a
 * trickling client last up to 30 s past its deadline): here it runs a quarter
 * of the header deadline apart, at most once a second.
 */
export function httpServerSettings(limits: HttpLimits): {
  headersTimeout: number;
  requestTimeout: number;
  maxHeaderSize: number;
  connectionsCheckingInterval: number;
} {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes,
    connectionsCheckingInterval: checkInterval(limits.headersTimeoutMs),
  };
}

/** How often a deadline of `timeoutMs` is checked: a quarter of it, between 10 ms and 1 s. */
function checkInterval(timeoutMs: number): number {
  return Math.min(1000, Math.max(10, Math.floor(timeoutMs / 4)));
}

/**
 * Answers what node:http reports as a client error (headers too slow or too
 * large, a malformed request) with the JSON error body, then closes the
 * connection. Install as the server's `clientError` listener.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  // A reset connection, or one with a response under way, cannot be answered: it can only be closed.
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent === true) {
    socket.destroy();
    return;
  }
  socket.end(rawErrorResponse(clientErrorToHttpError(error)));
}

/** Applies what `http.createServer` takes no option for: the keep-alive timeout and the JSON answers to client errors. */
export function installHttpLimits(server: Server, limits: HttpLimits): void {
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.on('clientError', answerClientError);
}

/** Counts the open event streams and refuses one beyond the maximum. */
export class StreamSlots {
  readonly max: number;
  private used = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Slots taken. */
  get inUse(): number {
    return this.used;
  }

  /**
   * Takes a slot; returns the function that gives it back (once, however
   * often it is called). Throws the 503 `HttpError` when none is free.
   */
  take(): () => void {
    if (this.used >= this.max) throw tooManyStreams(this.max, STREAM_RETRY_AFTER_SECONDS);
    this.used += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= 1;
    };
  }
}

interface StallState {
  /** Bytes waiting to be taken at the last look. */
  pending: number;
  /** The socket drained since the last look (it may have filled up again with newer bytes). */
  drained: boolean;
  /** When the connection was last seen to make progress (or to fill up). */
  since: number | undefined;
}

/**
 * Bytes written to a socket that the kernel has not taken yet: the stream's
 * buffer plus libuv's queue. The queue (`writeQueueSize`, the measure
 * node:net's own idle timeout uses) shrinks as the client reads, byte by
 * byte; the stream's buffer only when a whole chunk is done — alone it would
 * call a client that reads slowly stalled.
 */
function pendingBytes(socket: Socket): number {
  const queued = (socket as Socket & { _handle?: { writeQueueSize?: number } | null })._handle?.writeQueueSize;
  return socket.writableLength + (typeof queued === 'number' ? queued : 0);
}

/**
 * Closes connections whose client has stopped taking what it was sent. A
 * connection is stalled while its socket is full (`writableNeedDrain`: a
 * write was refused and `drain` has not come) and none of the bytes waiting
 * have been taken since (their count has not gone down, and the socket has
 * not drained in between); after `timeoutMs` of that it is destroyed. A quiet
 * connection with nothing waiting is never stalled, however long the client
 * does not read: it holds nothing but the kernel's socket buffers. One timer
 * looks at every watched connection a quarter of the timeout apart (at most
 * once a second), so a connection is closed between `timeoutMs` and
 * `timeoutMs` plus two looks after it stopped.
 */
export class StallMonitor {
  private readonly timeoutMs: number;
  private readonly sockets = new Map<Socket, StallState>();
  private timer: NodeJS.Timeout | undefined;
  private closedCount = 0;

  /** `timeoutMs` 0 watches nothing. */
  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  /** Connections closed for stalling so far. */
  get closed(): number {
    return this.closedCount;
  }

  /** Watches a connection until it closes (watching it again is a no-op). */
  watch(socket: Socket | null | undefined): void {
    if (this.timeoutMs === 0 || socket == null || socket.destroyed || this.sockets.has(socket)) return;
    const state: StallState = { pending: 0, drained: false, since: undefined };
    this.sockets.set(socket, state);
    socket.on('drain', () => {
      state.drained = true;
    });
    socket.once('close', () => {
      this.sockets.delete(socket);
      if (this.sockets.size === 0 && this.timer !== undefined) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    });
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.look(), checkInterval(this.timeoutMs));
      this.timer.unref();
    }
  }

  private look(): void {
    const now = performance.now();
    for (const [socket, state] of this.sockets) {
      if (!socket.writableNeedDrain) {
        state.since = undefined;
        continue;
      }
      const pending = pendingBytes(socket);
      if (state.since === undefined || state.drained || pending < state.pending) {
        state.since = now;
        state.pending = pending;
        state.drained = false;
        continue;
      }
      state.pending = pending;
      if (now - state.since >= this.timeoutMs) {
        this.closedCount += 1;
        // Frees what was waiting; the response's writer sees `close` and lets its stream go.
        socket.destroy();
      }
    }
  }
}
