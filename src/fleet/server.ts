/**
 * `sandlog serve --nats`: the log API and the web viewer over the fleet's
 * stream instead of a home — every host's sandboxes, addressed by host. Same
 * checks as the local server (loopback Host header unless told otherwise,
 * optional bearer token on /api, the viewer's files with the same headers
 * and page policy), JSON and Server-Sent Events; the event id is the stream
 * sequence, so a client resumes with `Last-Event-ID` exactly where it was.
 *
 * Routes:
 * - `GET /`, `/app.js`, … — the viewer (src/server/web/; no token needed: it holds no data).
 * - `GET /api/sandboxes` — `[{ id, host, name, entries, lastEntry }]`: what `sandlog ls --nats --json`
 *   prints, each with its id `host/name`, which the viewer's routes take (./viewer-routes.ts):
 *   `/api/sandboxes/:id/logs[/stream]`, `/api/logs[/stream]`, `/api/histogram`.
 * - `GET /api/hosts/:host/sandboxes/:name/logs` — `{ entries, cursor }`: the
 *   payloads (the `--json` shape) with `host`, `sandbox` and `seq` added; `cursor` is the last sequence.
 *   Parameters: `tail`, `since`, `until`, `source`, `grep`, `after` (a sequence). `*` for host or name merges.
 * - `GET /api/hosts/:host/sandboxes/:name/logs/stream` — the same entries as events, then live ones.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import { SandlogError } from '../errors.js';
import { resolveSources } from '../format/source.js';
import { parseTimeArgument } from '../format/time.js';
import { badRequest, HttpError, methodNotAllowed, notFound, toHttpError, unauthorized } from '../server/errors.js';
import { decodePathSegment } from '../server/parameters.js';
import { sendError, sendJson } from '../server/respond.js';
import { hostHeaderIsLoopback, isLoopbackHost, SECURITY_HEADERS, TokenCheck } from '../server/security.js';
import { SseResponse } from '../server/sse.js';
import { checkServerOptions } from '../server/server.js';
import { loadViewer, sendStaticFile } from '../server/static.js';
import { readFleet, listFleet, type FleetEntry, type FleetReadOptions } from './read.js';
import { fleetId } from './selection.js';
import { createViewerRoutes } from './viewer-routes.js';

/** Options of {@link startFleetServer}. */
export interface FleetServerOptions {
  readonly connection: NatsConnection;
  readonly stream: string;
  readonly host: string;
  readonly port: number;
  readonly token?: string;
}

/** A running fleet server. */
export interface FleetServer {
  readonly url: string;
  close(): Promise<void>;
}

const PARAMETERS = new Set(['tail', 'since', 'until', 'source', 'grep', 'after', 'token']);
const STATIC_METHODS = ['GET', 'HEAD'];
// The local server's decoding, without its `..` and hidden-separator checks: an id is not a path here.
const decodeSegment = decodePathSegment;

function entryJson(entry: FleetEntry): string {
  return `${entry.line.slice(0, -1)},"host":${JSON.stringify(entry.host)},"sandbox":${JSON.stringify(entry.sandbox)},"seq":${entry.sequence}}`;
}

function readOptions(
  host: string,
  sandbox: string,
  query: URLSearchParams,
  follow: boolean,
  signal: AbortSignal,
  lastEventId: string | undefined,
): FleetReadOptions {
  for (const key of query.keys())
    if (!PARAMETERS.has(key)) throw badRequest(`unknown parameter ${JSON.stringify(key)}`);
  const value = (name: string): string | undefined => {
    const raw = query.get(name);
    return raw === null || raw === '' ? undefined : raw;
  };
  const number = (name: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    if (!/^\d{1,15}$/.test(raw)) throw badRequest(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  const time = (name: string): number | undefined => {
    const raw = value(name);
    if (raw === undefined) return undefined;
    try {
      return parseTimeArgument(raw).getTime();
    } catch (error) {
      throw badRequest(`${name}: ${(error as Error).message}`);
    }
  };
  let grep: RegExp | undefined;
  const grepText = value('grep');
  if (grepText !== undefined) {
    try {
      grep = new RegExp(grepText, 'u');
    } catch (error) {
      throw badRequest(`grep: ${(error as Error).message}`);
    }
  }
  let sources: ReturnType<typeof resolveSources>;
  try {
    sources = resolveSources(value('source')?.split(','));
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  // Last-Event-ID is the newer place: it wins over after, since and tail.
  const after = number('Last-Event-ID', lastEventId) ?? number('after', value('after'));
  const since = after === undefined ? time('since') : undefined;
  const tail = after === undefined ? number('tail', value('tail')) : undefined;
  const until = time('until');
  return {
    stream: '',
    pattern: { host, sandbox, merged: host === '*' || sandbox === '*' },
    sources,
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(grep === undefined ? {} : { grep }),
    ...(tail === undefined ? {} : { tail }),
    ...(after === undefined ? {} : { afterSequence: after }),
    follow,
    signal,
  };
}

/** Starts the fleet's viewer and API on `host:port`. */
export async function startFleetServer(options: FleetServerOptions): Promise<FleetServer> {
  // The local server's rules: a printable token, and none but a loopback address without one.
  checkServerOptions({
    host: options.host,
    port: options.port,
    ...(options.token === undefined ? {} : { token: options.token }),
  });
  const token = options.token === undefined ? undefined : new TokenCheck(options.token);
  const loopbackOnly = isLoopbackHost(options.host);
  const streams = new Set<AbortController>();
  const viewer = loadViewer();
  const viewerRoutes = createViewerRoutes({ connection: options.connection, stream: options.stream, streams });

  function serveStatic(request: IncomingMessage, response: ServerResponse, segments: readonly string[]): void {
    const file = segments.length === 1 ? viewer.get(`/${segments[0]}`) : undefined;
    if (file === undefined) throw notFound();
    if (!STATIC_METHODS.includes(request.method ?? '')) throw methodNotAllowed(STATIC_METHODS);
    sendStaticFile(request, response, file);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (loopbackOnly && !hostHeaderIsLoopback(request.headers.host))
      throw new HttpError(403, 'FORBIDDEN_HOST', 'forbidden host');
    // Split before decoding: an id's `/` travels as %2F inside one segment.
    const segments = url.pathname.split('/').slice(1).map(decodeSegment);
    if (segments[0] !== 'api') {
      serveStatic(request, response, segments);
      return;
    }
    const isStream = segments.at(-1) === 'stream';
    if (
      token !== undefined &&
      !token.matches(TokenCheck.bearer(request)) &&
      !(isStream && token.matches(url.searchParams.get('token') ?? undefined))
    )
      throw unauthorized();
    if (request.method !== 'GET') throw methodNotAllowed(['GET']);
    if (segments.length === 2 && segments[1] === 'sandboxes') {
      const sandboxes = await listFleet(options.connection, options.stream);
      sendJson(
        response,
        200,
        JSON.stringify(sandboxes.map((sandbox) => ({ id: fleetId(sandbox.host, sandbox.name), ...sandbox }))),
      );
      return;
    }
    if (await viewerRoutes.serve(request, response, segments, url.searchParams)) return;
    if (
      segments[0] !== 'api' ||
      segments[1] !== 'hosts' ||
      segments[3] !== 'sandboxes' ||
      segments[5] !== 'logs' ||
      segments.length > 7 ||
      (segments.length === 7 && !isStream)
    )
      throw notFound();
    const [host, sandbox] = [segments[2]!, segments[4]!];
    if (host === '' || sandbox === '') throw notFound();
    const abort = new AbortController();
    request.once('close', () => abort.abort());
    const lastEventId =
      typeof request.headers['last-event-id'] === 'string' ? request.headers['last-event-id'] : undefined;
    const read = {
      ...readOptions(host, sandbox, url.searchParams, isStream, abort.signal, isStream ? lastEventId : undefined),
      stream: options.stream,
    };
    if (!isStream) {
      const entries: string[] = [];
      let cursor: number | undefined = read.afterSequence;
      for await (const batch of readFleet(options.connection, read)) {
        for (const entry of batch) entries.push(entryJson(entry));
        cursor = batch[batch.length - 1]!.sequence;
      }
      sendJson(
        response,
        200,
        `{"entries":[${entries.join(',')}],"cursor":${cursor === undefined ? 'null' : JSON.stringify(String(cursor))}}`,
      );
      return;
    }
    const events = readFleet(options.connection, read)[Symbol.asyncIterator]();
    streams.add(abort);
    let sse: SseResponse | undefined;
    try {
      // The first look happens before the status line: a missing stream still gets its status.
      const first = events.next();
      sse = new SseResponse(response, SECURITY_HEADERS);
      for (let next = await first; !next.done; next = await events.next()) {
        if (
          !(await sse.send(next.value.map((entry) => `id: ${entry.sequence}\ndata: ${entryJson(entry)}\n\n`).join('')))
        )
          break;
      }
    } finally {
      streams.delete(abort);
      abort.abort();
      await events.return?.(undefined);
      sse?.end();
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const httpError =
        error instanceof SandlogError && !(error instanceof HttpError)
          ? new HttpError(error.code === 'FLEET_UNAVAILABLE' ? 503 : 400, error.code, error.message)
          : toHttpError(error);
      sendError(response, httpError);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    async close() {
      for (const stream of streams) stream.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
