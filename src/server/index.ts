/**
 * The HTTP side of sandlog: the read-only log API with resumable event
 * streams, and the web viewer. See app.ts for the routes.
 */
export { createApp, type App, type AppOptions } from './app.js';
export { startServer, DEFAULT_HOST, DEFAULT_PORT, type SandlogServer, type ServerOptions } from './server.js';
export { HttpError, toHttpError } from './errors.js';
export { HEARTBEAT_INTERVAL_MS } from './sse.js';
