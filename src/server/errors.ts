/**
 * HTTP errors: one error type that knows its status, and the one place where
 * everything else that can go wrong becomes a status. A response body is
 * always `{ "error": CODE, "message": "one line" }`; the codes are the
 * library's stable `SandlogError` codes plus a few of the server's own.
 * Unexpected errors become a bare 500 — their message and stack go to the
 * server's log, never to the client.
 */
import { SandlogError, oneLine } from '../errors.js';

/** An error with an HTTP status, a stable code and a message fit for the client. */
export class HttpError extends SandlogError {
  readonly status: number;
  /** Extra response headers (`Allow` on a 405, `WWW-Authenticate` on a 401). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.headers = Object.freeze({ ...options.headers });
  }

  /** The JSON body sent to the client. */
  toJSON(): { error: string; message: string } {
    return { error: this.code, message: this.message };
  }
}

/** 400 for a request the server will not act on (bad path, bad or unknown parameter). */
export function badRequest(message: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', message);
}

/** 404 for a path that names nothing. */
export function notFound(): HttpError {
  return new HttpError(404, 'NOT_FOUND', 'no such route');
}

/** 405 naming the methods the route accepts. */
export function methodNotAllowed(allowed: readonly string[]): HttpError {
  return new HttpError(405, 'METHOD_NOT_ALLOWED', `Expected ${allowed.join(' or ')}`, {
    headers: { allow: allowed.join(', ') },
  });
}

/** 401 for a missing or wrong token. */
export function unauthorized(): HttpError {
  return new HttpError(401, 'UNAUTHORIZED', 'missing or wrong token: send "Authorization: Bearer <token>"', {
    headers: { 'www-authenticate': 'Bearer realm="sandlog"' },
  });
}

/** 503 for an event stream beyond the server's maximum; `Retry-After` says when to try again. */
export function tooManyStreams(max: number, retryAfterSeconds: number): HttpError {
  return new HttpError(
    503,
    'TOO_MANY_STREAMS',
    `the server already serves its maximum of ${max} event streams; retry in ${retryAfterSeconds} s`,
    {
      headers: { 'retry-after': String(retryAfterSeconds) },
    },
  );
}

/**
 * Maps what node:http reports before a request reaches the app (its
 * `clientError` event) to the answer: headers or request too slow (408),
 * headers too large (431), anything else malformed (400).
 */
export function clientErrorToHttpError(error: Error & { code?: string }): HttpError {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new HttpError(408, 'REQUEST_TIMEOUT', 'the request did not arrive in time', { cause: error });
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return new HttpError(431, 'HEADERS_TOO_LARGE', 'the request headers are too large', { cause: error });
  }
  return new HttpError(400, 'BAD_REQUEST', 'malformed HTTP request', { cause: error });
}

// Library error codes → HTTP statuses. A code missing here is a server fault (500).
const STATUS_BY_CODE: Readonly<Record<string, number>> = Object.freeze({
  INVALID_SANDBOX_NAME: 400,
  INVALID_OPTIONS: 400,
  INVALID_CURSOR: 400,
  SANDBOX_NOT_FOUND: 404,
  // The entries asked for were overwritten by rotation: they are gone, not malformed.
  MISSED_ROTATION: 410,
  HISTORY_GONE: 410,
});

/** Maps any error to the {@link HttpError} sent to the client. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof SandlogError) {
    const status = STATUS_BY_CODE[error.code];
    if (status !== undefined) return new HttpError(status, error.code, oneLine(error.message), { cause: error });
  }
  return new HttpError(500, 'INTERNAL', 'internal server error (logged on the server)', { cause: error });
}
