/**
 * Writing responses: JSON bodies and error bodies with the security headers,
 * and writing a long body piece by piece without outrunning the client.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { HttpError } from './errors.js';
import { SECURITY_HEADERS } from './security.js';

/** Long bodies are written in pieces of about this many characters: few syscalls, bounded memory. */
export const WRITE_CHUNK_CHARS = 64 * 1024;

/** Headers of every JSON response. */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...SECURITY_HEADERS,
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
});

/** Sends a whole JSON body. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { ...JSON_HEADERS, ...headers, 'content-length': String(Buffer.byteLength(body)) });
  response.end(body);
}

/** Sends an error's `{ error, message }` body; a response already under way can only be cut off. */
export function sendError(response: ServerResponse, error: HttpError): void {
  if (response.headersSent) {
    // The client sees a truncated body or stream rather than a success.
    response.destroy();
    return;
  }
  sendJson(response, error.status, JSON.stringify(error.toJSON()), { ...error.headers });
}

/**
 * A whole HTTP/1.1 error response as text, for a connection that has no
 * `ServerResponse` (node:http rejected the request before parsing it): the
 * same headers and body as {@link sendError}, and `Connection: close`.
 */
export function rawErrorResponse(error: HttpError): string {
  const body = JSON.stringify(error.toJSON());
  const headers: Record<string, string> = {
    ...JSON_HEADERS,
    ...error.headers,
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n${head}\r\n${body}`;
}

/** Resolves once the socket has room again (true) or the client has gone (false). */
export function waitForDrain(response: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve(!response.destroyed);
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/** Writes `text`; resolves once the socket has room again (true) or the client has gone (false). */
export function writeChunk(response: ServerResponse, text: string): Promise<boolean> {
  if (response.destroyed) return Promise.resolve(false);
  return response.write(text) ? Promise.resolve(true) : waitForDrain(response);
}
