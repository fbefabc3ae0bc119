/**
 * One Server-Sent Events response, written with backpressure. Each log entry
 * is one event whose `id:` is the entry's cursor, so a reconnecting
 * EventSource sends `Last-Event-ID` and continues exactly after it.
 *
 * Backpressure: {@link SseResponse.send} resolves only once the socket has
 * taken the text (on `drain` when `write` said its buffer was full), and the
 * caller pulls no more entries from the log stream until then. A client that
 * stops reading therefore holds at most one chunk ({@link WRITE_CHUNK_CHARS})
 * plus the socket's buffers — never a growing queue — until the app's stall
 * monitor (limits.ts) closes the connection. Heartbeats are skipped while the
 * socket is full: the connection is evidently not idle.
 */
import type { ServerResponse } from 'node:http';
import { waitForDrain, WRITE_CHUNK_CHARS } from './respond.js';

/** How long a stream may be silent before a comment line keeps proxies and browsers from timing it out. */
export const HEARTBEAT_INTERVAL_MS = 15_000;
/** What a browser waits before reconnecting after the connection drops (sent as `retry:`). */
export const RECONNECT_DELAY_MS = 1000;

/** What an entry event is made of: its cursor (the `id:`) and its JSON line. */
export interface EventEntry {
  readonly cursor: string;
  toJsonLine(): string;
}

/** A `text/event-stream` response. */
export class SseResponse {
  private readonly response: ServerResponse;
  private readonly heartbeat: NodeJS.Timeout;
  private waiting = false;
  private closedValue = false;

  /** Sends the headers and the reconnect delay; `headers` are added to the stream's own. */
  constructor(response: ServerResponse, headers: Record<string, string>, heartbeatMs: number = HEARTBEAT_INTERVAL_MS) {
    this.response = response;
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Tells nginx-like proxies not to hold events back.
      'x-accel-buffering': 'no',
    });
    response.socket?.setNoDelay(true);
    response.write(`retry: ${RECONNECT_DELAY_MS}\n: sandlog\n\n`);
    response.once('close', () => {
      this.closedValue = true;
      clearInterval(this.heartbeat);
    });
    this.heartbeat = setInterval(() => {
      if (!this.waiting && !this.closedValue) response.write(': keep-alive\n\n');
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  /** Whether the client has gone (or the response was ended). */
  get closed(): boolean {
    return this.closedValue || this.response.destroyed;
  }

  /** Whether a write is waiting for the client to take what was already sent. */
  get blocked(): boolean {
    return this.waiting;
  }

  /** Sends entries as events; false when the client went away before all were taken. */
  async sendEntries(entries: readonly EventEntry[]): Promise<boolean> {
    let chunk = '';
    for (const entry of entries) {
      chunk += `id: ${entry.cursor}\ndata: ${entry.toJsonLine()}\n\n`;
      if (chunk.length >= WRITE_CHUNK_CHARS) {
        if (!(await this.send(chunk))) return false;
        chunk = '';
      }
    }
    return chunk.length === 0 ? !this.closed : this.send(chunk);
  }

  /** Sends a named event with a JSON payload. */
  sendEvent(name: string, payload: unknown): Promise<boolean> {
    return this.send(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
  }

  /** Writes text; resolves once the socket has room again (true) or the client has gone (false). */
  async send(text: string): Promise<boolean> {
    if (this.closed) return false;
    if (this.response.write(text)) return true;
    this.waiting = true;
    try {
      return (await waitForDrain(this.response)) && !this.closed;
    } finally {
      this.waiting = false;
    }
  }

  /** Ends the response (the client sees the connection close). */
  end(): void {
    clearInterval(this.heartbeat);
    if (!this.response.writableEnded) this.response.end();
  }
}
