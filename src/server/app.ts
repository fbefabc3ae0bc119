/**
 * The HTTP app: routing, the request checks (path, Host, token, method,
 * parameters) and the three read-only API routes plus the viewer's files.
 * It is a plain `(request, response)` handler, so it can be mounted on any
 * `node:http` server — the tests mount it in-process, `sandlog serve` through
 * {@link startServer} in ./server.ts.
 *
 * Routes:
 * - `GET /`, `/app.js`, `/style.css` — the viewer (no token needed: it holds no data).
 * - `GET /api/sandboxes` — an array, exactly what `sandlog ls --json` prints.
 * - `GET /api/sandboxes/:name/logs` — `{ entries, cursor }`, entries in the
 *   `--json` shape; the body is streamed, so a large answer is never held whole.
 * - `GET /api/sandboxes/:name/logs/stream` — Server-Sent Events, one event per
 *   entry with the entry's cursor as `id:`; resumes from `Last-Event-ID` (which
 *   wins over `after`, `since` and `tail`, because it is the newer place).
 * - `GET /api/sandboxes/:name/logs?before=C&limit=N` — a page of history.
 * - `GET /api/logs`, `/api/logs/stream`, `/api/histogram` — several
 *   sandboxes at once (./routes-many.ts).
 *
 * Order of checks: path syntax (400) → Host (403) → token on /api (401) →
 * route (404) → method (405) → sandbox name (400) → a free stream slot (503,
 * stream route) → parameters (400) → sandbox exists (404). Nothing is read
 * from disk before the name is validated. The limits (stream slots, closing
 * stalled connections) live in ./limits.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { defaultHome, resolveTarget } from '../files/layout.js';
import { assertSandboxName } from '../format/name.js';
import { listSandboxes } from '../engine/inventory.js';
import { streamLogs } from '../engine/read.js';
import { badRequest, HttpError, methodNotAllowed, notFound, toHttpError, unauthorized } from './errors.js';
import { decodePathSegment, readOptions, readParameters } from './parameters.js';
import { sendEntriesBody, serveEventStream, type LiveStream } from './event-stream.js';
import { sendError, sendJson } from './respond.js';
import { resolveAppLimits, StallMonitor, StreamSlots, type AppLimitOptions } from './limits.js';
import { createManyRoutes, findManyRoute, type ManyRoute } from './routes-many.js';
import { hostHeaderIsLoopback, TokenCheck } from './security.js';
import { HEARTBEAT_INTERVAL_MS } from './sse.js';
import { loadViewer, sendStaticFile, type StaticFile } from './static.js';

/** Options of {@link createApp}; all optional. The limits (`maxStreams`, `stallTimeoutMs`) are described in ./limits.ts. */
export interface AppOptions extends AppLimitOptions {
  /**
   * Home holding `sandboxes/`.
   * @default `$MSB_HOME`, else `~/.microsandbox`
   */
  home?: string;
  /** When set, every /api request needs `Authorization: Bearer <token>` (the stream route also takes `?token=`). */
  token?: string;
  /**
   * Answer only requests whose Host header is a loopback name (stops DNS
   * rebinding). {@link startServer} turns it off when listening on another address.
   * @default true
   */
  loopbackOnly?: boolean;
  /**
   * Silence after which a stream sends a comment line.
   * @default 15000
   */
  heartbeatMs?: number;
  /** Told about unexpected errors (the client gets a bare 500). @default writes to stderr */
  onError?: (error: unknown, request: IncomingMessage) => void;
}

/** The app: a request handler plus what a server needs to shut it down. */
export interface App {
  /** Handles one request (never throws; failures become error responses). */
  readonly handle: (request: IncomingMessage, response: ServerResponse) => void;
  /** Live event streams. */
  readonly activeStreams: number;
  /** Ends every live stream (clients see the connection close and reconnect elsewhere) and waits for them. */
  close(): Promise<void>;
}

interface ResolvedAppOptions {
  readonly home: string;
  readonly token: TokenCheck | undefined;
  readonly loopbackOnly: boolean;
  readonly heartbeatMs: number;
  readonly onError: (error: unknown, request: IncomingMessage) => void;
}

type Route =
  | ManyRoute
  | { readonly kind: 'static'; readonly file: StaticFile }
  | { readonly kind: 'sandboxes' }
  | { readonly kind: 'logs'; readonly name: string }
  | { readonly kind: 'stream'; readonly name: string };

const API_METHODS = ['GET'] as const;
const STATIC_METHODS = ['GET', 'HEAD'] as const;
const SNAPSHOT_PARAMETERS = ['tail', 'since', 'until', 'source', 'grep', 'after', 'before', 'limit'];
const STREAM_PARAMETERS = ['tail', 'since', 'source', 'grep', 'after', 'token'];

function decodeSegment(segment: string): string {
  const decoded = decodePathSegment(segment);
  // Refused wherever they appear (not only where a name is expected): no path means "go up".
  if (decoded === '.' || decoded === '..')
    throw badRequest(`path segment ${JSON.stringify(segment)} is a relative path`);
  if (decoded !== segment && (decoded.includes('/') || decoded.includes('\\')))
    throw badRequest(`path segment ${JSON.stringify(segment)} hides a path separator`);
  return decoded;
}

/** Splits the raw request target (never normalised: `/a/../b` stays as sent) into path segments and query. */
function splitTarget(target: string | undefined): { segments: string[]; query: URLSearchParams } {
  if (target === undefined || !target.startsWith('/')) throw badRequest('Expected a request target starting with "/"');
  const at = target.indexOf('?');
  const path = at < 0 ? target : target.slice(0, at);
  const segments = path.split('/').slice(1).map(decodeSegment);
  return { segments, query: new URLSearchParams(at < 0 ? '' : target.slice(at + 1)) };
}

function findRoute(segments: readonly string[], viewer: ReadonlyMap<string, StaticFile>): Route {
  if (segments[0] !== 'api') {
    const file = segments.length === 1 ? viewer.get(`/${segments[0]}`) : undefined;
    if (file === undefined) throw notFound();
    return { kind: 'static', file };
  }
  const many = findManyRoute(segments);
  if (many !== undefined) return many;
  if (segments[1] !== 'sandboxes') throw notFound();
  if (segments.length === 2) return { kind: 'sandboxes' };
  const last = segments.length - 1;
  // The name is everything between `sandboxes/` and `/logs`: a name with a slash is refused as a name (400), not missed (404).
  if (segments.length >= 4 && segments[last] === 'logs')
    return { kind: 'logs', name: segments.slice(2, last).join('/') };
  if (segments.length >= 5 && segments[last] === 'stream' && segments[last - 1] === 'logs') {
    return { kind: 'stream', name: segments.slice(2, last - 1).join('/') };
  }
  throw notFound();
}

/** Creates the app. Reads the viewer's files now, so a broken install fails at start-up. */
export function createApp(options: AppOptions = {}): App {
  const resolved: ResolvedAppOptions = Object.freeze({
    home: options.home ?? defaultHome(),
    token: options.token === undefined ? undefined : new TokenCheck(options.token),
    loopbackOnly: options.loopbackOnly ?? true,
    heartbeatMs: options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS,
    onError: options.onError ?? ((error: unknown) => console.error('sandlog serve: unexpected error:', error)),
  });
  const limits = resolveAppLimits(options);
  const slots = new StreamSlots(limits.maxStreams);
  const stalls = new StallMonitor(limits.stallTimeoutMs);
  const viewer = loadViewer();
  const streams = new Set<LiveStream>();
  const streamContext = { ...resolved, streams };
  const many = createManyRoutes(streamContext);

  function authorize(request: IncomingMessage, route: Route | undefined, query: URLSearchParams): void {
    if (resolved.token === undefined) return;
    if (resolved.token.matches(TokenCheck.bearer(request))) return;
    // EventSource cannot send headers: the stream route alone accepts the token in its URL.
    if (
      (route?.kind === 'stream' || route?.kind === 'many-stream') &&
      resolved.token.matches(query.get('token') ?? undefined)
    )
      return;
    throw unauthorized();
  }

  async function serveSandboxes(response: ServerResponse): Promise<void> {
    const sandboxes = await listSandboxes(resolved.home);
    sendJson(response, 200, JSON.stringify(sandboxes));
  }

  async function serveSnapshot(response: ServerResponse, name: string, query: URLSearchParams): Promise<void> {
    if (query.has('before') || query.has('limit')) return many.serveHistory(response, name, query);
    const streamOptions = readOptions(readParameters(query, SNAPSHOT_PARAMETERS), resolved.home);
    const handle = streamLogs({ name, home: resolved.home }, streamOptions);
    try {
      await sendEntriesBody(response, handle.batches(), () => `,"cursor":${JSON.stringify(handle.cursor)}`);
    } finally {
      await handle.close();
    }
  }

  async function serveStream(
    request: IncomingMessage,
    response: ServerResponse,
    name: string,
    query: URLSearchParams,
  ): Promise<void> {
    const parameters = readParameters(query, STREAM_PARAMETERS);
    parameters.delete('token');
    const lastEventId = request.headers['last-event-id'];
    if (typeof lastEventId === 'string' && lastEventId.trim() !== '') {
      // A reconnect: where the client got to overrides where it first asked to start.
      for (const key of ['after', 'since', 'tail']) parameters.delete(key);
      parameters.set('after', [lastEventId.trim()]);
    }
    const read = readOptions(parameters, resolved.home);
    const target = { name, home: resolved.home };
    return serveEventStream(
      streamContext,
      request,
      response,
      (signal) => streamLogs(target, { ...read, follow: true, signal }),
      async (handle, sse) => {
        for await (const batch of handle.batches()) {
          if (!(await sse.sendEntries(batch))) break;
        }
      },
      // The sandbox must exist for the cursor's `error` event to be the answer (else its 404).
      () => resolveTarget(target, resolved.home),
    );
  }

  async function dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { segments, query } = splitTarget(request.url);
    if (resolved.loopbackOnly && !hostHeaderIsLoopback(request.headers.host)) {
      throw new HttpError(
        403,
        'FORBIDDEN_HOST',
        'this server answers only requests addressed to a loopback host (localhost, 127.0.0.1, [::1])',
      );
    }
    if (segments[0] === 'api') {
      // Without the token nothing under /api answers, not even whether a route exists.
      let route: Route | undefined;
      try {
        route = findRoute(segments, viewer);
      } catch (error) {
        if (!(error instanceof HttpError && error.status === 404)) throw error;
      }
      authorize(request, route, query);
      if (route === undefined) throw notFound();
      return serveApi(request, response, route, query);
    }
    const route = findRoute(segments, viewer);
    if (route.kind !== 'static') throw notFound();
    if (!(STATIC_METHODS as readonly string[]).includes(request.method ?? '')) throw methodNotAllowed(STATIC_METHODS);
    sendStaticFile(request, response, route.file);
  }

  async function serveApi(
    request: IncomingMessage,
    response: ServerResponse,
    route: Route,
    query: URLSearchParams,
  ): Promise<void> {
    if (route.kind === 'static') throw notFound();
    if (request.method !== 'GET') throw methodNotAllowed(API_METHODS);
    if (route.kind === 'many-logs' || route.kind === 'histogram') return many.serve(request, response, route, query);
    if (route.kind === 'many-stream') return withStreamSlot(() => many.serve(request, response, route, query));
    if (route.kind === 'sandboxes') {
      if (query.size > 0) throw badRequest('/api/sandboxes takes no parameters');
      return serveSandboxes(response);
    }
    assertSandboxName(route.name);
    if (route.kind === 'logs') return serveSnapshot(response, route.name, query);
    const name = route.name;
    return withStreamSlot(() => serveStream(request, response, name, query));
  }

  /** Runs a stream route in one of the `maxStreams` slots (503 when none is free). */
  async function withStreamSlot(serve: () => Promise<void>): Promise<void> {
    const release = slots.take();
    try {
      await serve();
    } finally {
      release();
    }
  }

  return {
    handle(request, response) {
      stalls.watch(request.socket);
      dispatch(request, response).catch((error: unknown) => {
        const failure = toHttpError(error);
        // A 503 (no stream slot free) is the server working as configured, not a fault to log.
        if (failure.status >= 500 && failure.status !== 503) resolved.onError(error, request);
        sendError(response, failure);
      });
    },
    get activeStreams() {
      return streams.size;
    },
    async close() {
      const pending = [...streams];
      for (const stream of pending) stream.shutdown();
      await Promise.all(pending.map((stream) => stream.done));
    },
  };
}
