/**
 * What keeps the server from being used against its host: the bearer-token
 * check, the rule that a non-loopback address needs a token, the Host check
 * that stops DNS rebinding on loopback, and the response headers that stop
 * the page being framed, sniffed or leaking its URL.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** Headers on every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // The stream URL may carry ?token=: never send it anywhere as a referrer.
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
});

/**
 * The viewer page's policy: its own script and style only, requests only to
 * this server. Colours set through `element.style` are CSSOM, which
 * `style-src 'self'` allows, so no inline style or script is needed.
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Whether a host (name or address, as given to `--host`) is this machine only. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || /^::ffff:127\./i.test(bare);
  return false;
}

/**
 * Whether a request's Host header names a loopback host. A server on loopback
 * answers only such requests: a web page whose DNS name was rebound to
 * 127.0.0.1 sends its own name as Host and is refused.
 */
export function hostHeaderIsLoopback(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  const match = /^(\[[^\]]*\]|[^:]*)(?::\d{1,5})?$/.exec(hostHeader);
  return match !== null && isLoopbackHost(match[1]!.toLowerCase());
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compares tokens in time independent of where they differ (and of their lengths). */
export class TokenCheck {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  matches(candidate: string | undefined): boolean {
    return candidate !== undefined && timingSafeEqual(digest(candidate), this.expected);
  }

  /** The token of `Authorization: Bearer <token>`, if the request has one. */
  static bearer(request: IncomingMessage): string | undefined {
    const header = request.headers.authorization;
    if (header === undefined) return undefined;
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    return match === null ? undefined : match[1];
  }
}
