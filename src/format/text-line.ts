/**
 * Parsing one line of a plain-text log (runtime.log, kernel.log): ANSI
 * sequences removed, a leading RFC 3339 token taken as the timestamp when
 * there is one, the file's modification time otherwise. Every such line is a
 * `system` entry without a session id, delivered with a trailing newline.
 */
import { stripAnsi } from './ansi.js';
import { parseTimestamp } from './time.js';

/** One parsed text-log line. */
export interface TextLine {
  time: number;
  /** The timestamp as written, or undefined when the line had none. */
  timeText: string | undefined;
  /** The body, with its trailing `\n`. */
  body: string;
}

const MIN_TIMESTAMP_LENGTH = 20;

/** Parses one line (without its `\n`); `fallbackTime` is used when the line carries no timestamp. */
export function parseTextLine(line: string, fallbackTime: number): TextLine {
  // A CRLF line end is still a line end.
  const stripped = stripAnsi(line.endsWith('\r') ? line.slice(0, -1) : line);
  // The first whitespace-separated token: leading blanks skipped, and a line may be the token alone.
  const tokenStart = stripped.search(/\S/);
  if (tokenStart >= 0) {
    const length = stripped.slice(tokenStart).search(/\s/);
    const tokenEnd = length < 0 ? stripped.length : tokenStart + length;
    if (tokenEnd - tokenStart >= MIN_TIMESTAMP_LENGTH) {
      const token = stripped.slice(tokenStart, tokenEnd);
      if (token.endsWith('Z') || token.endsWith('z')) {
        const time = parseTimestamp(token);
        if (time !== undefined) return { time, timeText: token, body: `${stripped.slice(tokenEnd).trimStart()}\n` };
      }
    }
  }
  return { time: fallbackTime, timeText: undefined, body: `${stripped}\n` };
}

/** Formats a text-log line as sandlog writes them: RFC 3339 UTC time, a space, the message. */
export function formatTextLine(time: Date, message: string): string {
  return `${time.toISOString()} ${message}\n`;
}
