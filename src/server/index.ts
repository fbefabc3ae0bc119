/**
 * The HTTP side of sandlog: the read-only log API with resumable event
 * streams, and the web viewer. See app.ts for the routes and limits.ts for
 * the limits.
 */
export { createApp, type App, type AppOptions } from './app.js';
export { startServer, DEFAULT_HOST, DEFAULT_PORT, type SandlogServer, type ServerOptions } from './server.js';
export { HttpError, toHttpError } from './errors.js';
export { HEARTBEAT_INTERVAL_MS } from './sse.js';
export {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_STREAMS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_STALL_TIMEOUT_MS,
  STREAM_RETRY_AFTER_SECONDS,
  type AppLimitOptions,
  type HttpLimitOptions,
} from './limits.js';
