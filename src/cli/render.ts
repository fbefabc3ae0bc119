/**
 * Turning entries into terminal text or JSON Lines. Sandbox output is
 * untrusted: in text mode every body goes through the terminal sanitizer, so
 * only printable text, newlines, tabs and (with colour on) SGR colour
 * sequences reach the terminal. JSON mode escapes everything by construction.
 */
import { leavesColorSet, sanitizeForTerminal } from '../format/ansi.js';
import type { LogEntry } from '../format/entry.js';
import { Entry } from '../format/entry.js';

/** How entries are shown. */
export interface RenderOptions {
  readonly json: boolean;
  readonly color: boolean;
  readonly timestamps: boolean;
  readonly showId: boolean;
  readonly colorSessions: boolean;
}

const RESET = '\u001b[0m';
const DIM = '\u001b[2m';

/** Eight colours that stay readable on dark and light backgrounds, skipping red/yellow (errors, warnings). */
const SESSION_PALETTE = [36, 35, 32, 34, 96, 95, 92, 94];

function sessionColor(id: number | bigint): string {
  const slot = typeof id === 'bigint' ? Number(id % BigInt(SESSION_PALETTE.length)) : id % SESSION_PALETTE.length;
  return `\u001b[${SESSION_PALETTE[slot]}m`;
}

function idPrefix(sessionId: number | bigint | null, colored: boolean): string {
  if (sessionId === null) return '[id:sys] ';
  const label = `[id:${String(sessionId).padStart(3)}]`;
  return colored ? `${sessionColor(sessionId)}${label}${RESET} ` : `${label} `;
}

/** Renders one entry as text (terminal-safe). */
export function renderText(entry: LogEntry, options: RenderOptions): string {
  let body = sanitizeForTerminal(entry.text(), options.color);
  if (options.color && leavesColorSet(body)) {
    body = body.endsWith('\n') ? `${body.slice(0, -1)}${RESET}\n` : `${body}${RESET}`;
  }
  const sessionColored = options.colorSessions && options.color && entry.sessionId !== null;
  if (sessionColored) {
    const color = sessionColor(entry.sessionId!);
    body = body
      .split('\n')
      .map((line) => (line === '' ? line : `${color}${line}${RESET}`))
      .join('\n');
  }
  const wantId = options.showId || options.colorSessions;
  if (!options.timestamps && !wantId) return body;

  // Prefixed modes: one prefix per line, and every entry on lines of its own.
  const id = wantId ? idPrefix(entry.sessionId, sessionColored) : '';
  const time = entry instanceof Entry ? entry.timeText : entry.timestamp.toISOString();
  const first = options.timestamps ? `${options.color ? `${DIM}${time}${RESET}` : time}\t${id}` : id;
  const continuation = options.timestamps ? `${' '.repeat(time.length)}\t${id}` : id;
  // As msb logs prints them: an empty body prints nothing, and an empty line after the first has no prefix.
  if (body === '') return '';
  const lines = (body.endsWith('\n') ? body.slice(0, -1) : body).split('\n');
  return `${lines.map((line, i) => (i === 0 ? first + line : line === '' ? '' : continuation + line)).join('\n')}\n`;
}

/** Renders one entry as a JSON line (with `\n`). */
export function renderJson(entry: LogEntry): string {
  return `${entry.toJsonLine()}\n`;
}

/**
 * Renders a batch: text as a string; JSON Lines as bytes, each line copied
 * straight from the read buffers into one output buffer (no string per entry).
 * Bytes are lent: hand them to {@link releaseRendered} once they are written.
 */
export function renderBatch(entries: readonly LogEntry[], options: RenderOptions): string | Buffer {
  if (options.json) return renderJsonBatch(entries);
  if (!options.color && !options.showId && !options.colorSessions) return renderPlainTextBatch(entries, options);
  let out = '';
  for (const entry of entries) out += renderText(entry, options);
  return out;
}

// Time prefixes of `--timestamps` as bytes, rewritten in place for each entry: the views stay the
// same while the time's length does (it nearly always does), so nothing is allocated per entry.
const prefixStore = Buffer.allocUnsafe(256);
let prefixFirst = prefixStore.subarray(0, 0);
let prefixContinuation = Buffer.alloc(0);
let prefixLength = -1;

// The entry's time text (ASCII, at most 32 bytes) then a tab.
function setPrefixes(entry: Entry): void {
  const written = entry.writeTimeText(prefixStore, 0);
  prefixStore[written] = 0x09;
  if (written + 1 !== prefixFirst.length) prefixFirst = prefixStore.subarray(0, written + 1);
  if (written !== prefixLength) {
    prefixLength = written;
    prefixContinuation = Buffer.from(`${' '.repeat(written)}\t`, 'latin1');
  }
}

/**
 * Text without colour or ids: each body copied from the read buffer into the
 * output buffer (no string per entry) when it is plain text, which
 * {@link renderText} would leave as it is; any other entry through
 * {@link renderText}. The same bytes either way.
 */
function renderPlainTextBatch(entries: readonly LogEntry[], options: RenderOptions): Buffer {
  let at = 0;
  for (const entry of entries) {
    let end = -1;
    if (entry instanceof Entry) {
      if (options.timestamps) {
        setPrefixes(entry);
        end = entry.writePlainText(scratch, at, prefixFirst, prefixContinuation);
      } else {
        end = entry.writePlainText(scratch, at);
      }
    }
    if (end < 0) {
      const text = renderText(entry, options);
      while (Buffer.byteLength(text, 'utf8') > scratch.length - at) grow(at);
      end = at + scratch.write(text, at, 'utf8');
    }
    at = end;
    // Keep room for the next entry's fast path; a larger one falls back or grows the buffer.
    if (scratch.length - at < 64 * 1024) grow(at);
  }
  return lend(at);
}

function grow(used: number): void {
  const larger = Buffer.allocUnsafe(scratch.length * 2);
  scratch.copy(larger, 0, 0, used);
  scratch = larger;
}

// Lines are assembled in a reused buffer (grown when a batch needs more) and handed to the writer as a
// view of it, without a copy. A buffer is lent until its write is done (releaseRendered); meanwhile the
// next batch is assembled in another one. Held at most: the free ones below, and what writes hold.
const SCRATCH_BYTES = 1024 * 1024;
const FREE_KEPT = 2;
let scratch: Buffer = Buffer.allocUnsafe(SCRATCH_BYTES);
const free: Buffer[] = [];
const lent = new WeakMap<ArrayBufferLike, Buffer>();

// Hands out the first `used` bytes of the scratch buffer and takes another one for the next batch.
function lend(used: number): Buffer {
  const out = scratch.subarray(0, used);
  lent.set(scratch.buffer, scratch);
  scratch = free.pop() ?? Buffer.allocUnsafe(SCRATCH_BYTES);
  return out;
}

/**
 * Gives back the buffer of a batch {@link renderBatch} rendered as bytes, once the stream is done with
 * it (its write callback ran): the next batches may reuse it. A string, or a batch given back already,
 * is ignored; one never given back is left to the garbage collector.
 */
export function releaseRendered(rendered: string | Uint8Array): void {
  if (typeof rendered === 'string') return;
  const whole = lent.get(rendered.buffer);
  if (whole === undefined) return;
  lent.delete(rendered.buffer);
  if (free.length < FREE_KEPT && whole.length === SCRATCH_BYTES) free.push(whole);
}

function renderJsonBatch(entries: readonly LogEntry[]): Buffer {
  let at = 0;
  for (const entry of entries) {
    let end = entry.writeJsonLine(scratch, at);
    while (end < 0) {
      const larger = Buffer.allocUnsafe(scratch.length * 2);
      scratch.copy(larger, 0, 0, at);
      scratch = larger;
      end = entry.writeJsonLine(scratch, at);
    }
    at = end;
  }
  return lend(at);
}
