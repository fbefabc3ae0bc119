/**
 * `startServer`: the app on a listening `node:http` server, with the rules
 * that depend on where it listens (a non-loopback address needs a token; the
 * Host check applies on loopback), the HTTP limits of ./limits.ts (header
 * and request deadlines, header size, keep-alive timeout) and a shutdown that
 * ends live streams before closing connections.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OptionsError, describeValue } from '../errors.js';
import { createApp, type App, type AppOptions } from './app.js';
import { httpServerSettings, installHttpLimits, resolveHttpLimits, type HttpLimitOptions } from './limits.js';
import { isLoopbackHost } from './security.js';

/** The address `sandlog serve` listens on unless told otherwise. */
export const DEFAULT_HOST = '127.0.0.1';
/** The port `sandlog serve` listens on unless told otherwise. */
export const DEFAULT_PORT = 7070;

/** Options of {@link startServer}; all optional. */
export interface ServerOptions extends AppOptions, HttpLimitOptions {
  /**
   * Address to listen on. Anything but a loopback address requires `token`.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * Port to listen on; 0 picks a free one.
   * @default 7070
   */
  port?: number;
}

/** A listening server. */
export interface SandlogServer {
  readonly app: App;
  readonly server: Server;
  /** The address it listens on. */
  readonly host: string;
  /** The port it listens on (the chosen one when 0 was asked for). */
  readonly port: number;
  /** The viewer's URL (`http://127.0.0.1:7070/`). */
  readonly url: string;
  /** Stops accepting, ends live streams, closes every connection. */
  close(): Promise<void>;
}

/** Checks the options that decide whether it is safe to listen at all. */
export function checkServerOptions(options: ServerOptions): { host: string; port: number } {
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  if (typeof host !== 'string' || host === '')
    throw new OptionsError(`Expected the \`host\` option to be a host name or address, got ${describeValue(host)}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new OptionsError(`Expected the \`port\` option to be an integer from 0 to 65535, got ${describeValue(port)}`);
  }
  if (options.token !== undefined && !/^[\x21-\x7e]+$/.test(options.token)) {
    throw new OptionsError(
      'Expected the `token` option to be printable ASCII without spaces (it travels in an HTTP header)',
    );
  }
  if (!isLoopbackHost(host) && options.token === undefined) {
    throw new OptionsError(
      `refusing to listen on ${host} without a token: anyone who can reach it could read every sandbox's logs ` +
        '(set --token or SANDLOG_TOKEN, or listen on 127.0.0.1)',
    );
  }
  return { host, port };
}

/** Starts the server; resolves once it listens. */
export async function startServer(options: ServerOptions = {}): Promise<SandlogServer> {
  const { host, port } = checkServerOptions(options);
  const limits = resolveHttpLimits(options);
  const app = createApp({ ...options, loopbackOnly: options.loopbackOnly ?? isLoopbackHost(host) });
  const server = createServer(httpServerSettings(limits), app.handle);
  installHttpLimits(server, limits);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    app,
    server,
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}/`,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await app.close();
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}
