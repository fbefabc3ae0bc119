/**
 * Writing responses: JSON bodies and error bodies with the security headers,
 * and writing a long body piece by piece without outrunning the client.
 */
import type { ServerResponse } from 'node:http';
import { HttpError } from './errors.js';
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
export function sendJson(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
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
