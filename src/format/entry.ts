/**
 * The log entry: one record or text line, as the engine hands it out. Its body
 * stays in the read buffer until someone asks for it, its cursor is encoded on
 * first use: a snapshot read of millions of entries pays only for what its
 * consumer touches.
 */
import { isUtf8 } from 'node:buffer';
import { encodeCursor, type FilePosition } from './cursor.js';
import { BodyKind, decodeBase64Body, decodeEscapedBody, encodeEntryJson, type RecordFields } from './record.js';
import type { LogSource } from './source.js';
import { formatTimestamp } from './time.js';

/** One entry of a sandbox's log. */
export interface LogEntry {
  /** When the output was captured (millisecond precision). */
  readonly timestamp: Date;
  /** Which stream it came from. */
  readonly source: LogSource;
  /** Exec session id, or null for system entries. */
  readonly sessionId: number | null;
  /** The captured bytes, exactly. */
  readonly data: Uint8Array;
  /** The captured bytes as text (invalid UTF-8 replaced by U+FFFD). */
  text(): string;
  /** Resumes a stream strictly after this entry (microsandbox-compatible). */
  readonly cursor: string;
}

const EMPTY = new Uint8Array(0);

/** The engine's entry: a {@link LogEntry} plus what the engine needs to order it and place it. */
export class Entry implements LogEntry {
  /** Epoch milliseconds, with a sub-millisecond fraction when the source had one. */
  readonly time: number;
  readonly source: LogSource;
  readonly sessionId: number | null;
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

  private readonly buffer: Buffer;
  private readonly bodyKind: BodyKind;
  private readonly bodyStart: number;
  private readonly bodyEnd: number;
  private readonly lossyEscapes: boolean;
  private timeTextValue: string | undefined;
  private readonly timeStart: number;
  private readonly timeEnd: number;
  private decoded: Uint8Array | undefined;
  private cursorValue: string | undefined;

  private constructor(
    fields: RecordFields,
    buffer: Buffer,
    position: FilePosition,
    reader: number,
  ) {
    this.time = fields.time;
    this.source = fields.source;
    this.sessionId = fields.sessionId;
    this.generation = position.generation;
    this.offset = position.offset;
    this.reader = reader;
    this.cursorBase = undefined;
    this.cursorOwn = undefined;
    this.buffer = buffer;
    this.bodyKind = fields.bodyKind;
    this.bodyStart = fields.bodyStart;
    this.bodyEnd = fields.bodyEnd;
    this.lossyEscapes = fields.lossyEscapes;
    this.timeTextValue = fields.timeText;
    this.timeStart = fields.timeStart;
    this.timeEnd = fields.timeEnd;
    this.decoded = fields.decoded;
  }

  /** An entry from a parsed exec.log record whose bytes live in `buffer`. */
  static fromRecord(fields: RecordFields, buffer: Buffer, position: FilePosition, reader: number): Entry {
    return new Entry(fields, buffer, position, reader);
  }

  /** A `system` entry from a text-log line. */
  static fromText(time: number, timeText: string | undefined, body: string, position: FilePosition, reader: number): Entry {
    return new Entry(
      {
        time,
        timeStart: 0,
        timeEnd: 0,
        timeText: timeText ?? formatTimestamp(time),
        source: 'system',
        sessionId: null,
        bodyKind: BodyKind.Decoded,
        bodyStart: 0,
        bodyEnd: 0,
        decoded: Buffer.from(body, 'utf8'),
        lossyEscapes: false,
      },
      EMPTY as Buffer,
      position,
      reader,
    );
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

  /** The timestamp exactly as the log wrote it. */
  get timeText(): string {
    this.timeTextValue ??= this.buffer.toString('latin1', this.timeStart, this.timeEnd);
    return this.timeTextValue;
  }

  get data(): Uint8Array {
    if (this.decoded === undefined) {
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
    const data = this.data;
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  }

  get cursor(): string {
    this.cursorValue ??= encodeCursor(this.positions);
    return this.cursorValue;
  }

  /** The entry as one `--json` line (no newline): `t`, `s`, `d`, `id`, `e`, `cursor`. */
  toJsonLine(): string {
    let bodyJson: string;
    let base64 = false;
    if ((this.bodyKind === BodyKind.Raw || this.bodyKind === BodyKind.Escaped) && !this.lossyEscapes) {
      // Already a valid JSON string (validated while parsing): copy it, quotes included.
      bodyJson = this.buffer.toString('utf8', this.bodyStart - 1, this.bodyEnd + 1);
    } else {
      const data = this.data;
      const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      if (isUtf8(bytes)) {
        bodyJson = JSON.stringify(bytes.toString('utf8'));
      } else {
        bodyJson = `"${bytes.toString('base64')}"`;
        base64 = true;
      }
    }
    return encodeEntryJson(this.timeText, this.source, bodyJson, base64, this.sessionId, this.cursor);
  }

  /** A plain object for logging and JSON APIs. */
  toJSON(): Record<string, unknown> {
    return JSON.parse(this.toJsonLine()) as Record<string, unknown>;
  }
}
