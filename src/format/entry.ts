/**
 * The log entry: one record or text line, as the engine hands it out. Its body
 * stays in the read buffer until someone asks for it, its cursor is encoded on
 * first use: a snapshot read of millions of entries pays only for what its
 * consumer touches.
 */
import { isUtf8 } from 'node:buffer';
import { CursorEncoder, cursorLength, encodeCursor, MAX_CURSOR_POSITIONS, type FilePosition } from './cursor.js';
import {
  bodyJsonString,
  encodeEntryJson,
  entryJsonBound,
  writeEntryJsonEnd,
  writeEntryJsonHead,
  writeTextEntryJsonHead,
} from './json-line.js';
import { BodyKind, type RecordFields } from './record.js';
import { decodeBase64Body, decodeEscapedBody } from './record-values.js';
import { writePlainBody, writePlainTextLine } from './plain-body.js';
import { parseTextLine, parseTextLineBytes, readTextLineHead, type TextLineHead } from './text-line.js';
import type { LogSource } from './source.js';
import { formatTimestamp, isNormalTimestamp, normalizeTimestamp } from './time.js';

/** One entry of a sandbox's log. */
export interface LogEntry {
  /** When the output was captured (millisecond precision). */
  readonly timestamp: Date;
  /** Which stream it came from. */
  readonly source: LogSource;
  /**
   * Exec session id, or null for system entries. Ids are u64 on disk: a
   * number when the id is at most 2^53 - 1 (every id a writer hands out in
   * practice), a bigint above, so that it is never rounded.
   */
  readonly sessionId: number | bigint | null;
  /** The captured bytes, exactly. */
  readonly data: Uint8Array;
  /** The captured bytes as text (invalid UTF-8 replaced by U+FFFD). */
  text(): string;
  /** Resumes a stream strictly after this entry (microsandbox-compatible). */
  readonly cursor: string;
  /** The entry as the line `sandlog logs --json` prints (no newline): `t`, `s`, `d`, `id`, `e`, `cursor`. */
  toJsonLine(): string;
  /**
   * Writes that line, with its `\n`, into `target` at `at` without building a
   * string when it can; returns the end, or -1 when it might not fit.
   */
  writeJsonLine(target: Buffer, at: number): number;
  /** The `--json` fields as a plain object (an id above 2^53 − 1 as its decimal string). */
  toJSON(): Record<string, unknown>;
}

const EMPTY = new Uint8Array(0);

// The entry whose text-log line head was read last, and that head (Entry.textLineHead).
let lastHeadEntry: Entry | undefined;
let lastHead: TextLineHead | undefined;

// A text-log entry's printed time: its own time text normalised, or its time (the file's mtime) formatted.
function textTimeText(time: number, timeText: string | undefined): string {
  return normalizeTimestamp(time, timeText ?? formatTimestamp(time));
}

// The fields every text-log entry shares but its time (set before each use).
const textFields: RecordFields = {
  time: 0,
  timeStart: 0,
  timeEnd: 0,
  timeText: undefined,
  source: 'system',
  sessionId: null,
  bodyKind: BodyKind.TextLine,
  bodyStart: 0,
  bodyEnd: 0,
  decoded: undefined,
  needsReencoding: false,
  spellingEscapes: false,
};

// One encoder for every entry's cursor: its scratch state is reused from one cursor to the next.
const cursorEncoder = new CursorEncoder();

/** The engine's entry: a {@link LogEntry} plus what the engine needs to order it and place it. */
export class Entry implements LogEntry {
  /** Epoch milliseconds, with a sub-millisecond fraction when the source had one. */
  readonly time: number;
  readonly source: LogSource;
  readonly sessionId: number | bigint | null;
  /** Generation of the file the entry was read from. */
  readonly generation: bigint;
  /** File offset just after the entry's line. */
  readonly offset: number;
  /** Index of the file reader that produced it (the position's slot in the cursor). */
  readonly reader: number;

  // The cursor, kept cheap for the stream that hands out millions of entries: the positions of
  // the other readers (an array shared by consecutive entries) and, when it is not this entry's
  // own position, this reader's slot. Expanded into an array only when someone asks.
  // `cursorOwn` null: `cursorBase` is the whole cursor, as set through `positions`.
  private cursorBase: readonly FilePosition[] | undefined;
  private cursorOwn: FilePosition | null | undefined;

  private buffer: Buffer;
  private readonly bodyKind: BodyKind;
  private bodyStart: number;
  private bodyEnd: number;
  private readonly needsReencoding: boolean;
  private timeTextValue: string | undefined;
  private timeStart: number;
  private timeEnd: number;
  private decoded: Uint8Array | undefined;
  // A text-log line's body as text (its bytes are made only if someone asks for them).
  private bodyText: string | undefined;
  private cursorValue: string | undefined;
  // Where the entry's line (without its `\n`) lies in `lineBuffer`: the exact bytes on disk.
  private lineBuffer: Buffer;
  private lineStart: number;
  private lineEnd: number;

  private constructor(
    fields: RecordFields,
    buffer: Buffer,
    generation: bigint,
    offset: number,
    reader: number,
    lineBuffer: Buffer,
    lineStart: number,
    lineEnd: number,
  ) {
    this.bodyText = undefined;
    this.lineBuffer = lineBuffer;
    this.lineStart = lineStart;
    this.lineEnd = lineEnd;
    this.time = fields.time;
    this.source = fields.source;
    this.sessionId = fields.sessionId;
    this.generation = generation;
    this.offset = offset;
    this.reader = reader;
    this.cursorBase = undefined;
    this.cursorOwn = undefined;
    this.buffer = buffer;
    this.bodyKind = fields.bodyKind;
    this.bodyStart = fields.bodyStart;
    this.bodyEnd = fields.bodyEnd;
    this.needsReencoding = fields.needsReencoding;
    this.timeTextValue = fields.timeText === undefined ? undefined : normalizeTimestamp(fields.time, fields.timeText);
    this.timeStart = fields.timeStart;
    this.timeEnd = fields.timeEnd;
    this.decoded = fields.decoded;
  }

  /**
   * An entry from a parsed exec.log record whose line is `buffer[lineStart,
   * lineEnd)` and ends at `offset` of generation `generation` (the position is
   * given as its two numbers: the reader makes no object for a line it drops).
   */
  static fromRecord(
    fields: RecordFields,
    buffer: Buffer,
    generation: bigint,
    offset: number,
    reader: number,
    lineStart = 0,
    lineEnd = 0,
  ): Entry {
    return new Entry(fields, buffer, generation, offset, reader, buffer, lineStart, lineEnd);
  }

  /**
   * A `system` entry from the text-log line `buffer[lineStart, lineEnd)`
   * (without its `\n`), whose time is `time` (its own, or the file's
   * modification time when it has none). Body and time text are parsed from
   * the line again when first asked for.
   */
  static fromTextLine(
    time: number,
    generation: bigint,
    offset: number,
    reader: number,
    buffer: Buffer,
    lineStart: number,
    lineEnd: number,
  ): Entry {
    textFields.time = time;
    return new Entry(textFields, EMPTY as Buffer, generation, offset, reader, buffer, lineStart, lineEnd);
  }

  /** Bytes of the entry's line (without its `\n`). */
  get lineBytes(): number {
    return this.lineEnd - this.lineStart;
  }

  /**
   * Copies the entry's line into `target` at `at` and makes the entry use
   * that copy from now on (its body and time lie in its line); returns the
   * end. For a reader whose read buffer is about to be read into again.
   */
  moveLineTo(target: Buffer, at: number): number {
    const { lineBuffer, lineStart, lineEnd } = this;
    const delta = at - lineStart;
    if (lastHeadEntry === this) lastHeadEntry = undefined; // its body start was in the old place
    lineBuffer.copy(target, at, lineStart, lineEnd);
    if (this.buffer === lineBuffer) {
      this.buffer = target;
      this.bodyStart += delta;
      this.bodyEnd += delta;
      this.timeStart += delta;
      this.timeEnd += delta;
    }
    this.lineBuffer = target;
    this.lineStart = at;
    this.lineEnd = lineEnd + delta;
    return this.lineEnd;
  }

  /**
   * The entry's line exactly as it is on disk, without its `\n` (a view of
   * the read buffer: copy it to keep it). What a digest of the record is
   * taken over (src/format/record-digest.ts).
   */
  get recordLine(): Uint8Array {
    return this.lineBuffer.subarray(this.lineStart, this.lineEnd);
  }

  /** Where this entry's line ends in its file. */
  get position(): FilePosition {
    return { generation: this.generation, offset: this.offset };
  }

  /** Positions of every reader right after this entry: its cursor ([] until the stream hands it out). */
  get positions(): readonly FilePosition[] {
    const base = this.cursorBase;
    if (base === undefined) return [];
    if (this.cursorOwn === null) return base;
    const positions = base.slice();
    positions[this.reader] = this.cursorOwn ?? this.position;
    return positions;
  }

  set positions(value: readonly FilePosition[]) {
    this.cursorBase = value;
    this.cursorOwn = null;
    this.cursorValue = undefined;
  }

  /**
   * Sets the cursor as the stream sees it: `others` holds every reader's
   * position (this reader's slot is replaced), `own` this reader's position
   * when it is not the end of this entry's line (lines skipped after it).
   * `others` is not copied: the caller must not change it afterwards.
   */
  setCursor(others: readonly FilePosition[], own: FilePosition | undefined): void {
    this.cursorBase = others;
    this.cursorOwn = own;
    this.cursorValue = undefined;
  }

  get timestamp(): Date {
    return new Date(Math.floor(this.time));
  }

  /**
   * The timestamp as microsandbox prints it (UTC, milliseconds, `Z`): the
   * bytes as written when they have that form already, else reformatted.
   */
  get timeText(): string {
    if (this.timeTextValue === undefined) {
      if (this.bodyKind === BodyKind.TextLine) {
        this.parseTextLine();
        return this.timeTextValue!;
      }
      const { buffer, timeStart, timeEnd } = this;
      this.timeTextValue = isNormalTimestamp(buffer, timeStart, timeEnd)
        ? buffer.toString('latin1', timeStart, timeEnd)
        : normalizeTimestamp(this.time, buffer.toString('latin1', timeStart, timeEnd));
    }
    return this.timeTextValue;
  }

  /**
   * Writes {@link timeText} (ASCII) into `target` at `at`, copied from the
   * read buffer when the record holds it in that form already; returns the
   * end. The caller leaves room for 32 bytes.
   */
  writeTimeText(target: Uint8Array, at: number): number {
    const { buffer, timeStart, timeEnd } = this;
    if (this.timeTextValue === undefined) {
      if (this.bodyKind === BodyKind.TextLine) {
        this.textLineHead(); // sets the time text when the byte path reads the line
      } else if (isNormalTimestamp(buffer, timeStart, timeEnd)) {
        for (let i = timeStart; i < timeEnd; i++) target[at++] = buffer[i]!;
        return at;
      }
    }
    const text = this.timeText;
    for (let i = 0; i < text.length; i++) target[at++] = text.charCodeAt(i);
    return at;
  }

  get data(): Uint8Array {
    if (this.decoded === undefined) {
      if (this.bodyKind === BodyKind.TextLine) {
        this.decoded = Buffer.from(this.text(), 'utf8');
        return this.decoded;
      }
      switch (this.bodyKind) {
        case BodyKind.Raw:
          this.decoded = this.buffer.subarray(this.bodyStart, this.bodyEnd);
          break;
        case BodyKind.Escaped:
          this.decoded = decodeEscapedBody(this.buffer, this.bodyStart, this.bodyEnd);
          break;
        default:
          this.decoded = decodeBase64Body(this.buffer.toString('latin1', this.bodyStart, this.bodyEnd));
      }
    }
    return this.decoded;
  }

  text(): string {
    if (this.bodyKind === BodyKind.Raw) return this.buffer.toString('utf8', this.bodyStart, this.bodyEnd);
    // The parser checked the body is a valid JSON string of valid UTF-8: V8's JSON.parse decodes
    // it, quotes included, in half the time of decoding to bytes and then to a string.
    if (this.bodyKind === BodyKind.Escaped && this.decoded === undefined)
      return JSON.parse(this.buffer.toString('utf8', this.bodyStart - 1, this.bodyEnd + 1)) as string;
    if (this.bodyKind === BodyKind.TextLine) {
      if (this.bodyText === undefined) this.parseTextLine();
      return this.bodyText!;
    }
    const data = this.data;
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  }

  // A text-log entry's body and time text, from its line (the time the reader gave it stays).
  private parseTextLine(): void {
    const { lineBuffer, lineStart, lineEnd } = this;
    const line =
      parseTextLineBytes(lineBuffer, lineStart, lineEnd, this.time) ??
      parseTextLine(lineBuffer.toString('utf8', lineStart, lineEnd), this.time);
    this.bodyText = line.body;
    this.timeTextValue = textTimeText(this.time, line.timeText);
  }

  get cursor(): string {
    if (this.cursorValue === undefined) {
      const count = this.positionCount();
      if (count > MAX_CURSOR_POSITIONS) {
        this.cursorValue = encodeCursor(this.positions);
      } else {
        this.putCursor();
        this.cursorValue = cursorEncoder.toString();
      }
    }
    return this.cursorValue;
  }

  private positionCount(): number {
    const base = this.cursorBase;
    return base === undefined ? 0 : base.length;
  }

  // Puts this entry's positions into the cursor encoder. Needs ≤ 255 positions.
  private putCursor(): void {
    const count = this.positionCount();
    cursorEncoder.begin(count);
    const base = this.cursorBase;
    const own = this.cursorOwn;
    for (let slot = 0; slot < count; slot++) {
      if (slot === this.reader && own !== null) {
        if (own === undefined) cursorEncoder.put(slot, this.generation, this.offset);
        else cursorEncoder.put(slot, own.generation, own.offset);
      } else {
        const position = base![slot]!;
        cursorEncoder.put(slot, position.generation, position.offset);
      }
    }
  }

  /**
   * Writes the entry's `--json` line, with its `\n`, into `target` at `at`
   * (the same bytes as `toJsonLine()` + `\n` in UTF-8). Returns the end, or
   * -1 when the line might not fit in what is left of `target`.
   */
  writeJsonLine(target: Buffer, at: number): number {
    const count = this.positionCount();
    const plain =
      (this.bodyKind === BodyKind.Raw || this.bodyKind === BodyKind.Escaped) &&
      !this.needsReencoding &&
      this.timeTextValue === undefined;
    if (this.bodyKind === BodyKind.TextLine && count <= MAX_CURSOR_POSITIONS) {
      const end = this.writeTextLineJson(target, at, count);
      if (end !== undefined) return end;
    }
    if (!plain || count > MAX_CURSOR_POSITIONS || !isNormalTimestamp(this.buffer, this.timeStart, this.timeEnd)) {
      const line = `${this.toJsonLine()}\n`;
      if (Buffer.byteLength(line, 'utf8') > target.length - at) return -1;
      return at + target.write(line, at, 'utf8');
    }
    // The body between its quotes is already a valid JSON string (checked while parsing): copied as it is.
    const { buffer, timeStart, timeEnd, bodyStart, bodyEnd } = this;
    if (entryJsonBound(timeEnd - timeStart, bodyEnd - bodyStart, cursorLength(count)) > target.length - at) return -1;
    at = writeEntryJsonHead(target, at, buffer, timeStart, timeEnd, this.source, bodyStart, bodyEnd, this.sessionId);
    this.putCursor();
    return writeEntryJsonEnd(target, cursorEncoder.writeTo(target, at));
  }

  // A text-log entry's --json line from its line's bytes when the byte path can read it (text-line.ts):
  // the end, -1 when it might not fit, undefined when the string path must make it.
  private writeTextLineJson(target: Buffer, at: number, count: number): number | undefined {
    const { lineBuffer, lineEnd } = this;
    const head = this.textLineHead();
    if (head === undefined) return undefined;
    const time = this.timeTextValue!;
    if (entryJsonBound(time.length, 6 * (lineEnd - head.bodyStart) + 4, cursorLength(count)) > target.length - at)
      return -1;
    const end = writeTextEntryJsonHead(
      target,
      at,
      time,
      this.source,
      lineBuffer,
      head.bodyStart,
      lineEnd,
      this.sessionId,
    );
    if (end < 0) return undefined;
    this.putCursor();
    return writeEntryJsonEnd(target, cursorEncoder.writeTo(target, end));
  }

  /**
   * Writes the body as terminal text straight from the read buffer into
   * `target` at `at` (see {@link writePlainBody}, which also says what the
   * prefixes do); -1 when the body is not one that can be copied so, or might
   * not fit: the caller then renders {@link text} the general way.
   */
  writePlainText(target: Uint8Array, at: number, first?: Uint8Array, continuation?: Uint8Array): number {
    if (this.bodyKind === BodyKind.TextLine) {
      // One line: the continuation prefix is never needed.
      const head = this.textLineHead();
      return head === undefined
        ? -1
        : writePlainTextLine(this.lineBuffer, head.bodyStart, this.lineEnd, target, at, first);
    }
    if ((this.bodyKind !== BodyKind.Raw && this.bodyKind !== BodyKind.Escaped) || this.needsReencoding) return -1;
    return writePlainBody(this.buffer, this.bodyStart, this.bodyEnd, target, at, first, continuation);
  }

  // What the byte path reads of a text-log entry's line (text-line.ts), undefined when only the string
  // parser can read it; sets the time text. The last answer is kept: the renderer asks twice an entry.
  private textLineHead(): TextLineHead | undefined {
    if (lastHeadEntry !== this) {
      lastHeadEntry = this;
      lastHead = readTextLineHead(this.lineBuffer, this.lineStart, this.lineEnd, this.time);
    }
    if (lastHead !== undefined) this.timeTextValue ??= textTimeText(this.time, lastHead.timeText);
    return lastHead;
  }

  /** The entry as one `--json` line (no newline): `t`, `s`, `d`, `id`, `e`, `cursor`. */
  toJsonLine(): string {
    let bodyJson: string;
    let base64 = false;
    if ((this.bodyKind === BodyKind.Raw || this.bodyKind === BodyKind.Escaped) && !this.needsReencoding) {
      // Already a valid JSON string (validated while parsing): copy it, quotes included.
      bodyJson = this.buffer.toString('utf8', this.bodyStart - 1, this.bodyEnd + 1);
    } else if (this.bodyKind === BodyKind.TextLine) {
      // A text-log line: decoded text, so valid UTF-8 by construction.
      bodyJson = bodyJsonString(this.text());
    } else {
      const data = this.data;
      const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      if (isUtf8(bytes)) {
        bodyJson = bodyJsonString(bytes.toString('utf8'));
      } else {
        bodyJson = `"${bytes.toString('base64')}"`;
        base64 = true;
      }
    }
    return encodeEntryJson(this.timeText, this.source, bodyJson, base64, this.sessionId, this.cursor);
  }

  /**
   * A plain object for logging and JSON APIs: the `--json` fields, with an id
   * above 2^53 − 1 as its decimal string (a JSON number would be rounded by
   * whoever parses it; `toJsonLine()` prints it as a number, exactly).
   */
  toJSON(): Record<string, unknown> {
    const value = JSON.parse(this.toJsonLine()) as Record<string, unknown>;
    if (typeof this.sessionId === 'bigint') value['id'] = this.sessionId.toString();
    return value;
  }
}
