/**
 * Parsing one line of a plain-text log (runtime.log, kernel.log): ANSI
 * sequences removed, a leading RFC 3339 token taken as the timestamp when
 * there is one, the file's modification time otherwise. Every such line is a
 * `system` entry without a session id, delivered with a trailing newline.
 */
import { stripAnsi } from './ansi.js';
import { parseTimestamp, parseTimestampBytes } from './time.js';

/** One parsed text-log line. */
export interface TextLine {
  time: number;
  /** The timestamp as written, or undefined when the line had none. */
  timeText: string | undefined;
  /** The body, with its trailing `\n`. */
  body: string;
}

const MIN_TIMESTAMP_LENGTH = 20;

/**
 * Parses one line (without its `\n`); `fallbackTime` is used when the line
 * carries no timestamp. As microsandbox reads it (msb 0.6.18): the token is
 * what precedes the first whitespace (a line starting with a blank, or
 * without any, has none); a token of 20 or more characters ending in `Z` is
 * taken off the body, and gives the time when it parses as RFC 3339 (else
 * the file's mtime). A CR before the `\n` stays in the body.
 */
export function parseTextLine(line: string, fallbackTime: number): TextLine {
  const stripped = stripAnsi(line);
  const blank = stripped.search(/\s/);
  if (blank >= MIN_TIMESTAMP_LENGTH && stripped.charCodeAt(blank - 1) === 0x5a /* Z */) {
    const token = stripped.slice(0, blank);
    const body = `${stripped.slice(blank).trimStart()}\n`;
    const time = parseTimestamp(token);
    return time === undefined ? { time: fallbackTime, timeText: undefined, body } : { time, timeText: token, body };
  }
  return { time: fallbackTime, timeText: undefined, body: `${stripped}\n` };
}

/** Formats a text-log line as sandlog writes them: RFC 3339 UTC time, a space, the message. */
export function formatTextLine(time: Date, message: string): string {
  return `${time.toISOString()} ${message}\n`;
}

// Where the first token of `bytes[start, end)` ends, when it is plain printable ASCII ended by a
// space or a tab (what timestamped lines look like; removing ANSI sequences cannot change such a
// token): the index of that blank; `end` when the whole line is such a token; -1 otherwise.
function plainTokenEnd(bytes: Uint8Array, start: number, end: number): number {
  let at = start;
  while (at < end) {
    const c = bytes[at]!;
    if (c <= 0x20 || c >= 0x7f) break;
    at += 1;
  }
  if (at === end) return end;
  const c = bytes[at];
  return c === 0x20 || c === 0x09 ? at : -1;
}

// Whether `bytes[start, end - 1]` is a timestamp token by its shape (20 characters or more, `Z` last).
function isTimeToken(bytes: Uint8Array, start: number, end: number): boolean {
  return end - start >= MIN_TIMESTAMP_LENGTH && bytes[end - 1] === 0x5a; /* Z */
}

/**
 * The time {@link parseTextLine} gives the line `bytes[start, end)`, read
 * from the bytes without making strings, when its first token is plain
 * printable ASCII ended by a blank. Undefined when only {@link parseTextLine}
 * can tell.
 */
export function textLineTime(bytes: Uint8Array, start: number, end: number, fallbackTime: number): number | undefined {
  const tokenEnd = plainTokenEnd(bytes, start, end);
  if (tokenEnd < 0) return undefined;
  if (tokenEnd === end || !isTimeToken(bytes, start, tokenEnd)) return fallbackTime;
  return parseTimestampBytes(bytes, start, tokenEnd) ?? fallbackTime;
}

/** What the byte path reads of a text-log line: its time, its time text as written, where its body starts. */
export interface TextLineHead {
  time: number;
  timeText: string | undefined;
  /** Index of the body's first byte; the body runs to the line's end (its `\n` is added). */
  bodyStart: number;
}

/**
 * {@link parseTextLine} of the line `bytes[start, end)` (UTF-8) up to its
 * body, without decoding and stripping the whole line, when its first token
 * is plain ASCII (see {@link textLineTime}) and the rest holds no byte that
 * starts an ANSI sequence (ESC, or 0xC2: the C1 controls are C2 80 … C2 9F):
 * the body is then the rest of the line exactly. Undefined when only
 * {@link parseTextLine} can tell.
 */
export function readTextLineHead(
  bytes: Buffer,
  start: number,
  end: number,
  fallbackTime: number,
): TextLineHead | undefined {
  const tokenEnd = plainTokenEnd(bytes, start, end);
  if (tokenEnd < 0) return undefined;
  for (let at = tokenEnd; at < end; at++) {
    const c = bytes[at]!;
    if (c === 0x1b || c === 0xc2) return undefined;
  }
  if (tokenEnd === end || !isTimeToken(bytes, start, tokenEnd))
    return { time: fallbackTime, timeText: undefined, bodyStart: start };
  // The body starts after the blanks that follow the token; a non-ASCII character there might be a
  // blank too (U+00A0, U+2003…): the string parser decides.
  let bodyStart = tokenEnd;
  while (bodyStart < end && (bytes[bodyStart] === 0x20 || (bytes[bodyStart]! >= 0x09 && bytes[bodyStart]! <= 0x0d)))
    bodyStart += 1;
  if (bodyStart < end && bytes[bodyStart]! >= 0x80) return undefined;
  const time = parseTimestampBytes(bytes, start, tokenEnd);
  return time === undefined
    ? { time: fallbackTime, timeText: undefined, bodyStart }
    : { time, timeText: bytes.toString('latin1', start, tokenEnd), bodyStart };
}

/** {@link parseTextLine} by way of {@link readTextLineHead}; undefined when only the string parser can tell. */
export function parseTextLineBytes(
  bytes: Buffer,
  start: number,
  end: number,
  fallbackTime: number,
): TextLine | undefined {
  const head = readTextLineHead(bytes, start, end, fallbackTime);
  if (head === undefined) return undefined;
  return { time: head.time, timeText: head.timeText, body: `${bytes.toString('utf8', head.bodyStart, end)}\n` };
}
