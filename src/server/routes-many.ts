/**
 * The routes that read several sandboxes at once, and history pages:
 *
 * - `GET /api/logs?sandbox=a&sandbox=b` (or `pattern=web-*`, or `all=1`) —
 *   `{ entries, cursor, sandboxes }`: the entries merged by time, each with
 *   `sandbox` and, as `cursor`, the multi-cursor after it. With `before`
 *   (and `limit`), a page of merged history instead.
 * - `GET /api/logs/stream?…` — Server-Sent Events: one event per entry with
 *   the multi-cursor as `id:`, and `sandbox-added` / `sandbox-removed`
 *   events while a pattern is followed. `Last-Event-ID` resumes every
 *   sandbox it names; the others start as `since`/`tail` say.
 * - `GET /api/histogram?…` — entries per interval and source.
 * - `GET /api/sandboxes/:name/logs?before=C&limit=N` — one sandbox's page of
 *   history (app.ts routes it here).
 *
 * Parameters follow the single-sandbox routes' rules (./parameters.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readHistogram } from '../engine/histogram.js';
import { readHistory, readManyHistory, type HistoryOptions, type HistoryPage } from '../engine/history.js';
import { streamManyLogs, type ManyStreamOptions } from '../engine/multi-stream.js';
import type { SandboxSelection } from '../engine/selection.js';
import type { LogEntry } from '../format/entry.js';
import { assertSandboxName } from '../format/name.js';
import { badRequest } from './errors.js';
import { sendEntriesBody, serveEventStream, type EventStreamContext } from './event-stream.js';
import { integerParameter, readOptions, readParameters } from './parameters.js';
import { sendJson } from './respond.js';
import type { EventEntry } from './sse.js';

/** The multi-sandbox routes. */
export type ManyRoute =
  | { readonly kind: 'many-logs' }
  | { readonly kind: 'many-stream' }
  | { readonly kind: 'histogram' };

const SELECTION_PARAMETERS = ['sandbox', 'pattern', 'all'];
const LOGS_PARAMETERS = [
  ...SELECTION_PARAMETERS,
  'tail',
  'since',
  'until',
  'source',
  'grep',
  'after',
  'before',
  'limit',
];
const STREAM_PARAMETERS = [...SELECTION_PARAMETERS, 'tail', 'since', 'source', 'grep', 'after', 'token'];
const HISTOGRAM_PARAMETERS = [...SELECTION_PARAMETERS, 'since', 'until', 'source', 'grep', 'buckets'];
const HISTORY_PARAMETERS = ['since', 'until', 'source', 'grep', 'before', 'limit'];

/** The multi-sandbox route a path names, if any. */
export function findManyRoute(segments: readonly string[]): ManyRoute | undefined {
  if (segments[0] !== 'api') return undefined;
  if (segments.length === 2 && segments[1] === 'logs') return { kind: 'many-logs' };
  if (segments.length === 3 && segments[1] === 'logs' && segments[2] === 'stream') return { kind: 'many-stream' };
  if (segments.length === 2 && segments[1] === 'histogram') return { kind: 'histogram' };
  return undefined;
}

/** What the routes share with the app. */
export interface ManyRoutesContext extends EventStreamContext {
  readonly home: string;
}

function readSelection(parameters: Map<string, string[]>): SandboxSelection {
  const names = parameters.get('sandbox') ?? [];
  const patterns = parameters.get('pattern') ?? [];
  const all = parameters.get('all')?.[0];
  if (all !== undefined) {
    if (all !== '1' && all !== 'true') throw badRequest(`Expected \`all\` to be 1 or true, got ${JSON.stringify(all)}`);
    if (names.length > 0 || patterns.length > 0) throw badRequest('`all` conflicts with `sandbox` and `pattern`');
    return { all: true };
  }
  if (names.length === 0 && patterns.length === 0)
    throw badRequest('Expected sandbox=NAME (repeatable), pattern=GLOB (repeatable) or all=1');
  for (const name of names) assertSandboxName(name);
  return { names, patterns };
}

// The history options of the parameters: before (`before=` alone or `end`: the newest), limit, filters.
function historyOptions(parameters: Map<string, string[]>, home: string): HistoryOptions {
  if (parameters.has('tail'))
    throw badRequest('`before` and `tail` conflict: a page is `limit` entries before a place');
  if (parameters.has('after')) throw badRequest('`before` and `after` conflict');
  const { tail: _tail, afterCursor: _after, ...read } = readOptions(parameters, home);
  const limit = integerParameter(parameters, 'limit');
  const before = parameters.get('before')?.[0]?.replace(/ /g, '+');
  return { ...read, ...(before === undefined ? {} : { before }), ...(limit === undefined ? {} : { limit }) };
}

function pageBody(page: HistoryPage<LogEntry & { toJsonLine(): string }>): string {
  return `{"entries":[${page.entries.map((entry) => entry.toJsonLine()).join(',')}],"cursor":${JSON.stringify(page.cursor)},"start":${page.start}}`;
}

/** Creates the handlers of the multi-sandbox and history routes. */
export function createManyRoutes(context: ManyRoutesContext) {
  const { home } = context;

  async function serveLogs(response: ServerResponse, query: URLSearchParams): Promise<void> {
    const parameters = readParameters(query, LOGS_PARAMETERS);
    const selection = readSelection(parameters);
    if (query.has('before') || query.has('limit')) {
      const page = await readManyHistory(selection, historyOptions(parameters, home));
      sendJson(response, 200, pageBody(page));
      return;
    }
    const handle = streamManyLogs(selection, readOptions(parameters, home) as ManyStreamOptions);
    try {
      await handle.open();
      const closing = () =>
        `,"cursor":${JSON.stringify(handle.cursor)},"sandboxes":${JSON.stringify(handle.sandboxes)}`;
      await sendEntriesBody(response, handle.batches(), closing);
    } finally {
      await handle.close();
    }
  }

  async function serveStream(
    request: IncomingMessage,
    response: ServerResponse,
    query: URLSearchParams,
  ): Promise<void> {
    const parameters = readParameters(query, STREAM_PARAMETERS);
    parameters.delete('token');
    const selection = readSelection(parameters);
    const lastEventId = request.headers['last-event-id'];
    // A reconnect: where the client got to overrides `after`. `since`/`tail` stay, for the sandboxes it had nothing of yet.
    if (typeof lastEventId === 'string' && lastEventId.trim() !== '') parameters.set('after', [lastEventId.trim()]);
    const read = readOptions(parameters, home) as ManyStreamOptions;
    return serveEventStream(
      context,
      request,
      response,
      (signal) => streamManyLogs(selection, { ...read, follow: true, signal }),
      async (handle, sse) => {
        for await (const event of handle.events()) {
          const sent =
            event.type === 'entries'
              ? await sse.sendEntries(event.entries as readonly EventEntry[])
              : await sse.sendEvent(event.type, { sandbox: event.sandbox });
          if (!sent) break;
        }
      },
    );
  }

  async function serveHistogram(response: ServerResponse, query: URLSearchParams): Promise<void> {
    const parameters = readParameters(query, HISTOGRAM_PARAMETERS);
    const selection = readSelection(parameters);
    const { tail: _tail, afterCursor: _after, ...read } = readOptions(parameters, home);
    const buckets = integerParameter(parameters, 'buckets');
    const histogram = await readHistogram(selection, { ...read, ...(buckets === undefined ? {} : { buckets }) });
    sendJson(response, 200, JSON.stringify(histogram));
  }

  return {
    /** Serves a multi-sandbox route (method and token already checked). */
    serve(request: IncomingMessage, response: ServerResponse, route: ManyRoute, query: URLSearchParams): Promise<void> {
      if (route.kind === 'many-logs') return serveLogs(response, query);
      if (route.kind === 'many-stream') return serveStream(request, response, query);
      return serveHistogram(response, query);
    },
    /** Serves one sandbox's page of history (`/api/sandboxes/:name/logs?before=…`). */
    async serveHistory(response: ServerResponse, name: string, query: URLSearchParams): Promise<void> {
      const parameters = readParameters(query, [...HISTORY_PARAMETERS, 'tail', 'after']);
      const page = await readHistory({ name, home }, historyOptions(parameters, home));
      sendJson(response, 200, pageBody(page as HistoryPage<LogEntry & { toJsonLine(): string }>));
    },
  };
}
