/**
 * Connecting to NATS for sandlog: the `--nats URL[,URL…]` list checked up
 * front (a bad one is a usage error), credentials from `--token` or
 * `--creds`, and a connection that is retried with back-off until it comes
 * up and then reconnects by itself forever. Every change of state is told
 * once through `onState`, never once per attempt.
 */
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection, type ConnectionOptions } from '@nats-io/transport-node';
import { OptionsError, SandlogError } from '../errors.js';

/** Where and how to connect. */
export interface NatsTarget {
  readonly servers: readonly string[];
  readonly token?: string;
  readonly credsFile?: string;
}

/** The server refused our credentials: retrying would not help. */
export class NatsAuthError extends SandlogError {
  constructor(message: string) {
    super('NATS_AUTH', message);
  }
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

/** Checks and normalizes a comma-separated list of NATS URLs (`nats://h:p`, `tls://h:p` or `h:p`). */
export function parseNatsUrls(text: string): string[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length === 0 || parts.some((part) => part === ''))
    throw new OptionsError(`Expected --nats to be a list of URLs, got ${JSON.stringify(text)}`);
  return parts.map((part) => {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(part) ? part : `nats://${part}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new OptionsError(`Expected --nats to hold URLs like nats://host:4222, got ${JSON.stringify(part)}`);
    }
    if (!['nats:', 'tls:'].includes(url.protocol))
      throw new OptionsError(`Expected a nats:// or tls:// URL in --nats, got ${JSON.stringify(part)}`);
    if (url.hostname === '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
      throw new OptionsError(`Expected --nats to hold URLs like nats://host:4222, got ${JSON.stringify(part)}`);
    }
    return withScheme;
  });
}

/** Reads the credentials of a target once (a missing --creds file is an options error). */
function connectionOptions(target: NatsTarget, name: string): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: [...target.servers],
    name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // A server that vanished without closing the socket is noticed within half a minute.
    pingInterval: 10_000,
    maxPingOut: 3,
    timeout: 5_000,
    // The client otherwise makes an error with a stack for every request up front, in case it fails: a third of
    // the shipper's CPU at full speed. A failure is reported by its message, which keeps its context.
    noAsyncTraces: true,
  };
  if (target.token !== undefined) options.token = target.token;
  if (target.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(target.credsFile);
    } catch (error) {
      throw new OptionsError(`cannot read --creds ${target.credsFile}: ${(error as Error).message}`);
    }
    options.authenticator = credsAuthenticator(creds);
  }
  return options;
}

function isAuthFailure(error: unknown): boolean {
  const text = `${(error as { code?: unknown } | undefined)?.code ?? ''} ${(error as Error | undefined)?.message ?? ''}`;
  return /authoriz|authenticat|AUTH/i.test(text) && !/ECONNREFUSED|timeout/i.test(text);
}

function reason(error: unknown): string {
  return ((error as Error | undefined)?.message ?? String(error)).replace(/\s+/g, ' ');
}

/** A connection state change, for one line on stderr. */
export type NatsState =
  | { readonly kind: 'unreachable'; readonly reason: string }
  | { readonly kind: 'connected'; readonly server: string }
  | { readonly kind: 'disconnected' }
  | { readonly kind: 'reconnected'; readonly server: string };

/**
 * Connects, retrying with back-off (250 ms doubling to 5 s) while no server
 * answers; resolves to undefined when `signal` aborts first. Refused
 * credentials fail with {@link NatsAuthError}. Once connected, the client
 * reconnects by itself; `onState` hears of every change.
 */
export async function connectWithRetry(
  target: NatsTarget,
  name: string,
  signal: AbortSignal,
  onState: (state: NatsState) => void,
): Promise<NatsConnection | undefined> {
  const options = connectionOptions(target, name);
  let delay = FIRST_RETRY_MS;
  let reported = false;
  while (!signal.aborted) {
    try {
      const connection = await connect(options);
      onState({ kind: 'connected', server: connection.getServer() });
      void watchStatus(connection, onState);
      return connection;
    } catch (error) {
      if (isAuthFailure(error)) throw new NatsAuthError(`NATS refused the credentials: ${reason(error)}`);
      if (!reported) onState({ kind: 'unreachable', reason: reason(error) });
      reported = true;
      await sleep(delay, signal);
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }
  return undefined;
}

async function watchStatus(connection: NatsConnection, onState: (state: NatsState) => void): Promise<void> {
  let down = false;
  for await (const status of connection.status()) {
    if (status.type === 'disconnect' && !down) {
      down = true;
      onState({ kind: 'disconnected' });
    } else if (status.type === 'reconnect') {
      down = false;
      onState({ kind: 'reconnected', server: connection.getServer() });
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
