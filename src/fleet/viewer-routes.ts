/**
 * The routes the web viewer calls, served over the fleet's stream by
 * `serve --nats`: the same paths, parameters and answers as the local
 * server's (src/server/app.ts, routes-many.ts), with a sandbox named by its
 * fleet id `host/name` (URL-encoded in a path: `h1%2Fweb-1`) and every
 * cursor the stream sequence, written as a decimal string.
 *
 * Each entry is the payload (`t`, `s`, `d`, `id`, `e`) with `cursor` the
 * stream sequence, `sandbox` the id, `host`, `name`, `seq`, and `hostCursor`
 * (the cursor on the shipping host, which resumes `sandlog logs` there).
 * Merged reads are in stream order (the order entries reached the broker),
 * not by time as on one machine. `GET /api/histogram` counts what the same
 * read returns (./histogram.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { ALL_SOURCES, resolveSources } from '../format/source.js';
import { parseTimeArgument } from '../format/time.js';
import { badRequest, HttpError } from '../server/errors.js';
import { integerParameter, readParameters } from '../server/parameters.js';
import { sendJson } from '../server/respond.js';
import { SECURITY_HEADERS } from '../server/security.js';
import { SseResponse } from '../server/sse.js';
import { FleetUnavailableError } from './connect.js';
import { DEFAULT_BUCKETS, readFleetHistogram } from './histogram.js';
import { readFleetPage } from './history.js';
import { parseEntrySubject } from '../ship/naming.js';
import { patternFilter } from './pattern.js';
import { readFleet, type FleetEntry, type FleetReadOptions } from './read.js';
import { fleetId, manySelection, singleSelection, type FleetSelection } from './selection.js';

/** Entries of a history page when `limit` is not given, and the most one page holds (as on one machine). */
const DEFAULT_PAGE_ENTRIES = 200;
const MAX_PAGE_ENTRIES = 10_000;

const SELECTION_PARAMETERS = ['sandbox', 'pattern', 'all'];
const LOGS_PARAMETERS = ['tail', 'since', 'until', 'source', 'grep', 'after', 'before', 'limit'];
const STREAM_PARAMETERS = ['tail', 'since', 'source', 'grep', 'after', 'token'];
const HISTOGRAM_PARAMETERS = [...SELECTION_PARAMETERS, 'since', 'until', 'source', 'grep', 'buckets'];

/** What the routes need from the server. */
export interface ViewerRoutesContext {
  readonly connection: NatsConnection;
  readonly stream: string;
  /** The server's live streams, which its close() aborts. */
  readonly streams: Set<AbortController>;
}

/** An entry as the viewer reads it. */
export function viewerEntryJson(entry: FleetEntry): string {
  const { t, s, d, id, e, cursor } = entry.fields;
  return JSON.stringify({
    t,
    s,
    d,
    id,
    e,
    cursor: String(entry.sequence),
    sandbox: fleetId(entry.host, entry.sandbox),
    host: entry.host,
    name: entry.sandbox,
    seq: entry.sequence,
    hostCursor: cursor,
  });
}

function sequenceParameter(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (!/^\d{1,15}$/.test(text))
    throw new HttpError(
      400,
      'INVALID_CURSOR',
      `invalid cursor: \`${name}\` is a stream sequence (a non-negative integer) with --nats, got ${JSON.stringify(raw)}`,
    );
  return Number(text);
}

function timeParameter(parameters: Map<string, string[]>, name: string): number | undefined {
  const raw = parameters.get(name)?.[0];
  if (raw === undefined) return undefined;
  try {
    return parseTimeArgument(raw).getTime();
  } catch (error) {
    throw badRequest(`${name}: ${(error as Error).message}`);
  }
}

/** The filters every read takes: sources, grep, since, until. */
function readFilters(parameters: Map<string, string[]>, selection: FleetSelection) {
  let sources: ReturnType<typeof resolveSources>;
  try {
    sources = resolveSources(parameters.get('source')?.join(',').split(','));
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  let grep: RegExp | undefined;
  const grepText = parameters.get('grep')?.[0];
  if (grepText !== undefined) {
    try {
      grep = new RegExp(grepText, 'u');
    } catch (error) {
      throw badRequest(`grep: ${(error as Error).message}`);
    }
  }
  const since = timeParameter(parameters, 'since');
  const until = timeParameter(parameters, 'until');
  return {
    pattern: selection.pattern,
    only: selection.matches,
    sources,
    ...(grep === undefined ? {} : { grep }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
  };
}

function readSelection(parameters: Map<string, string[]>): FleetSelection {
  const all = parameters.get('all')?.[0];
  if (all !== undefined && all !== '1' && all !== 'true')
    throw badRequest(`Expected \`all\` to be 1 or true, got ${JSON.stringify(all)}`);
  const ids = parameters.get('sandbox') ?? [];
  const patterns = parameters.get('pattern') ?? [];
  if (all !== undefined && (ids.length > 0 || patterns.length > 0))
    throw badRequest('`all` conflicts with `sandbox` and `pattern`');
  return manySelection(ids, patterns, all !== undefined);
}

/** The ids of the sandboxes a subject filter holds messages of now (none when the stream is missing). */
async function idsIn(connection: NatsConnection, stream: string, filter: string): Promise<Set<string>> {
  const jsm = await jetstreamManager(connection, { timeout: 5_000 });
  let subjects: Record<string, number>;
  try {
    subjects = (await jsm.streams.info(stream, { subjects_filter: filter })).state.subjects ?? {};
  } catch (error) {
    if (/not found/i.test((error as Error).message)) return new Set();
    throw new FleetUnavailableError(`cannot read stream ${stream}: ${(error as Error).message}`);
  }
  const ids = new Set<string>();
  for (const subject of Object.keys(subjects)) {
    const names = parseEntrySubject(subject);
    if (names !== undefined) ids.add(fleetId(names.host, names.sandbox));
  }
  return ids;
}

/** The stream's last sequence now (0 when it is missing or empty). */
async function lastSequence(connection: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(connection, { timeout: 5_000 });
  try {
    return (await jsm.streams.info(stream)).state.last_seq;
  } catch (error) {
    if (/not found/i.test((error as Error).message)) return 0;
    throw new FleetUnavailableError(`cannot read stream ${stream}: ${(error as Error).message}`);
  }
}

/** Creates the viewer's routes over one connection and stream. */
export function createViewerRoutes(context: ViewerRoutesContext) {
  const { connection, stream } = context;

  /** `…/logs`: a snapshot `{ entries, cursor }`, or with `before`/`limit` a page `{ entries, cursor, start }`. */
  async function serveLogs(response: ServerResponse, selection: FleetSelection, query: URLSearchParams): Promise<void> {
    const parameters = readParameters(
      query,
      selection.merged ? [...SELECTION_PARAMETERS, ...LOGS_PARAMETERS] : LOGS_PARAMETERS,
    );
    const filters = readFilters(parameters, selection);
    const tail = integerParameter(parameters, 'tail');
    const after = sequenceParameter('after', parameters.get('after')?.[0]);
    if (query.has('before') || query.has('limit')) {
      if (tail !== undefined || after !== undefined)
        throw badRequest('`tail` and `after` do not combine with `before`');
      const beforeText = parameters.get('before')?.[0];
      const before =
        beforeText === undefined || beforeText === 'end' ? undefined : sequenceParameter('before', beforeText);
      const limit = integerParameter(parameters, 'limit') ?? DEFAULT_PAGE_ENTRIES;
      if (limit > MAX_PAGE_ENTRIES)
        throw badRequest(`Expected \`limit\` to be at most ${MAX_PAGE_ENTRIES}, got ${limit}`);
      const page = await readFleetPage(connection, {
        stream,
        ...filters,
        ...(before === undefined ? {} : { beforeSequence: before }),
        limit,
      });
      const first = page.entries[0];
      const cursor = first === undefined ? (before === undefined ? null : String(before)) : String(first.sequence);
      sendJson(
        response,
        200,
        `{"entries":[${page.entries.map(viewerEntryJson).join(',')}],"cursor":${JSON.stringify(cursor)},"start":${page.start}}`,
      );
      return;
    }
    if (tail !== undefined && after === undefined) {
      // The newest entries, read backwards: a tail costs about its own size, however long the stream.
      const page = await readFleetPage(connection, { stream, ...filters, limit: tail });
      sendJson(
        response,
        200,
        `{"entries":[${page.entries.map(viewerEntryJson).join(',')}],"cursor":${JSON.stringify(String(page.lastSequence))}}`,
      );
      return;
    }
    // The cursor sits after everything read, kept or not: a stream started from it has no gap and no duplicate.
    let cursor = Math.max(after ?? 0, await lastSequence(connection, stream));
    const entries: string[] = [];
    if (cursor > (after ?? 0)) {
      const abort = new AbortController();
      const read: FleetReadOptions = {
        stream,
        ...filters,
        ...(tail === undefined ? {} : { tail }),
        ...(after === undefined ? {} : { afterSequence: after }),
        follow: false,
        signal: abort.signal,
      };
      for await (const batch of readFleet(connection, read)) {
        for (const entry of batch) entries.push(viewerEntryJson(entry));
        cursor = Math.max(cursor, batch[batch.length - 1]!.sequence);
      }
    }
    sendJson(response, 200, `{"entries":[${entries.join(',')}],"cursor":${JSON.stringify(String(cursor))}}`);
  }

  /**
   * `…/logs/stream`: every entry as an event whose `id:` is its sequence, then live ones. While a
   * pattern (or `all`) is followed, `event: sandbox-added` comes before the first entry of a
   * sandbox the stream held nothing of when the request came.
   */
  async function serveStream(
    request: IncomingMessage,
    response: ServerResponse,
    selection: FleetSelection,
    query: URLSearchParams,
  ): Promise<void> {
    const parameters = readParameters(
      query,
      selection.merged ? [...SELECTION_PARAMETERS, ...STREAM_PARAMETERS] : STREAM_PARAMETERS,
    );
    const filters = readFilters(parameters, selection);
    const lastEventId = request.headers['last-event-id'];
    // A reconnect: where the client got to wins over where it first asked to start.
    const resumed = typeof lastEventId === 'string' && lastEventId.trim() !== '';
    const after = sequenceParameter(
      resumed ? 'Last-Event-ID' : 'after',
      resumed ? lastEventId : parameters.get('after')?.[0],
    );
    const tail = after === undefined ? integerParameter(parameters, 'tail') : undefined;
    const abort = new AbortController();
    // The response closes when the client goes (or once it is ended): either way the read stops.
    response.once('close', () => abort.abort());
    const { since, ...rest } = filters;
    const read: FleetReadOptions = {
      stream,
      ...rest,
      ...(after === undefined && since !== undefined ? { since } : {}),
      ...(tail === undefined ? {} : { tail }),
      ...(after === undefined ? {} : { afterSequence: after }),
      follow: true,
      signal: abort.signal,
    };
    const known = selection.watchesNew
      ? await idsIn(connection, stream, patternFilter(selection.pattern, new Set(ALL_SOURCES)))
      : undefined;
    const events = readFleet(connection, read)[Symbol.asyncIterator]();
    context.streams.add(abort);
    let sse: SseResponse | undefined;
    try {
      sse = new SseResponse(response, { ...SECURITY_HEADERS });
      for (let next = await events.next(); !next.done; next = await events.next()) {
        let text = '';
        for (const entry of next.value) {
          const id = fleetId(entry.host, entry.sandbox);
          if (known !== undefined && !known.has(id)) {
            known.add(id);
            text += `event: sandbox-added\ndata: ${JSON.stringify({ sandbox: id })}\n\n`;
          }
          text += `id: ${entry.sequence}\ndata: ${viewerEntryJson(entry)}\n\n`;
        }
        if (!(await sse.send(text))) break;
      }
    } finally {
      context.streams.delete(abort);
      abort.abort();
      await events.return?.(undefined);
      sse?.end();
    }
  }

  return {
    /**
     * Serves `segments` (`['api', …]`, decoded) when it is a viewer route;
     * false when it is not one.
     */
    async serve(
      request: IncomingMessage,
      response: ServerResponse,
      segments: readonly string[],
      query: URLSearchParams,
    ): Promise<boolean> {
      const [, first, id, logs, tail] = segments;
      if (first === 'sandboxes' && segments.length === 4 && logs === 'logs') {
        await serveLogs(response, singleSelection(id!), query);
        return true;
      }
      if (first === 'sandboxes' && segments.length === 5 && logs === 'logs' && tail === 'stream') {
        await serveStream(request, response, singleSelection(id!), query);
        return true;
      }
      if (first === 'logs' && segments.length === 2) {
        await serveLogs(
          response,
          readSelection(readParameters(query, [...SELECTION_PARAMETERS, ...LOGS_PARAMETERS])),
          query,
        );
        return true;
      }
      if (first === 'logs' && segments.length === 3 && segments[2] === 'stream') {
        await serveStream(
          request,
          response,
          readSelection(readParameters(query, [...SELECTION_PARAMETERS, ...STREAM_PARAMETERS])),
          query,
        );
        return true;
      }
      if (first === 'histogram' && segments.length === 2) {
        const parameters = readParameters(query, HISTOGRAM_PARAMETERS);
        const histogram = await readFleetHistogram(connection, {
          stream,
          ...readFilters(parameters, readSelection(parameters)),
          buckets: integerParameter(parameters, 'buckets') ?? DEFAULT_BUCKETS,
          signal: new AbortController().signal,
        });
        sendJson(response, 200, JSON.stringify(histogram));
        return true;
      }
      return false;
    },
  };
}
