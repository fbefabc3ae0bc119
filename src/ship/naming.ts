/**
 * How a host and a sandbox are named in NATS: subject tokens, KV keys,
 * message ids and headers. Pure functions, no I/O.
 *
 * Token encoding (reversible, one encoding for subject tokens and KV keys):
 * the name's UTF-8 bytes, with `A-Z a-z 0-9 - _` kept as they are and every
 * other byte written `=XX` (two upper-case hex digits). So `web-1` stays
 * `web-1`, `web.1` becomes `web=2E1`, `a b` becomes `a=20b` and `é` becomes
 * `=C3=A9`. The result never holds `.`, `*`, `>`, whitespace or NUL (which a
 * subject token cannot hold) and only characters a KV key allows
 * (`[-/_=.A-Za-z0-9]`); `=` itself is encoded, so decoding is unambiguous.
 */
import type { LogSource } from '../format/source.js';

/** Default stream name. */
export const DEFAULT_STREAM = 'SANDLOG';
/** Subject prefix of every shipped entry (`sandlog.<host>.<sandbox>.<source>`). */
export const SUBJECT_PREFIX = 'sandlog';
/** Header carrying the host name as it is. */
export const HOST_HEADER = 'Sandlog-Host';
/** Header carrying the sandbox name as it is. */
export const SANDBOX_HEADER = 'Sandlog-Sandbox';

const KEPT = /^[A-Za-z0-9_-]$/;

/** Encodes a name as one subject token / KV key part (see the file comment). */
export function encodeToken(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && KEPT.test(char) ? char : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Decodes {@link encodeToken}; undefined when `token` is not one of its outputs. */
export function decodeToken(token: string): string | undefined {
  if (!/^(?:[A-Za-z0-9_-]|=[0-9A-F]{2})+$/.test(token)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '=') {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(token.charCodeAt(i));
    }
  }
  const name = Buffer.from(bytes).toString('utf8');
  return encodeToken(name) === token ? name : undefined;
}

/** The subject of an entry. */
export function entrySubject(host: string, sandbox: string, source: LogSource): string {
  return `${SUBJECT_PREFIX}.${encodeToken(host)}.${encodeToken(sandbox)}.${source}`;
}

/** The subject filter of every entry of a host's sandbox (`*` for either part matches all). */
export function sandboxFilter(host: string | '*', sandbox: string | '*'): string {
  const part = (name: string): string => (name === '*' ? '*' : encodeToken(name));
  return `${SUBJECT_PREFIX}.${part(host)}.${part(sandbox)}.*`;
}

/** Host, sandbox and source of an entry subject; undefined for a subject that is not one. */
export function parseEntrySubject(subject: string): { host: string; sandbox: string; source: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== SUBJECT_PREFIX) return undefined;
  const host = decodeToken(parts[1]!);
  const sandbox = decodeToken(parts[2]!);
  if (host === undefined || sandbox === undefined) return undefined;
  return { host, sandbox, source: parts[3]! };
}

/** The checkpoint key of a host's sandbox in the KV bucket. */
export function checkpointKey(host: string, sandbox: string): string {
  return `${encodeToken(host)}.${encodeToken(sandbox)}`;
}

/** `Nats-Msg-Id` of an entry: `<host>/<sandbox>/<cursor>/<digest>`. */
export function entryMessageId(host: string, sandbox: string, cursor: string, digest: string): string {
  return `${host}/${sandbox}/${cursor}/${digest}`;
}
