/**
 * The log entry: one record or text line, as the engine hands it out. Its body
 * stays in the read buffer until someone asks for it, its cursor is encoded on
 * first use: a snapshot read of millions of entries pays only for what its
 * consumer touches.
 */
import { isUtf8 } from 'node:buffer';
import { encodeCursor, type FilePosition } from './cursor.js';
import { BodyKind, decodeBase64Body, decodeEscapedBody, encodeEntryJson, type RecordFields } from './record.js';
import { writePlainBody } from './plain-body.js';
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

// Cursors are encoded here without a Buffer and BigInt conversions per entry: the binary form
// (the same bytes as `encodeCursor`) goes into a scratch array, with each slot's generation
// bytes cached, and is base64-encoded by hand.
const BASE64_ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const MAX_CURSOR_POSITIONS = 255;
let cursorBinary = new Uint8Array(1 + 16 * 3);
let cursorText = Buffer.allocUnsafe(4 * Math.ceil(cursorBinary.length / 3));
const slotGenerations: (bigint | undefined)[] = [];
const slotGenerationBytes: Uint8Array[] = [];

function putGeneration(slot: number, generation: bigint, at: number): void {
  let bytes = slotGenerationBytes[slot];
  if (bytes === undefined || slotGenerations[slot] !== generation) {
    bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, generation, true);
    slotGenerations[slot] = generation;
    slotGenerationBytes[slot] = bytes;
  }
  cursorBinary.set(bytes, at);
}

function putOffset(offset: number, at: number): void {
  const low = offset % 0x1_0000_0000;
  const high = (offset - low) / 0x1_0000_0000;
  const b = cursorBinary;
  b[at] = low & 0xff;
  b[at + 1] = (low >>> 8) & 0xff;
  b[at + 2] = (low >>> 16) & 0xff;
  b[at + 3] = low >>> 24;
  b[at + 4] = high & 0xff;
  b[at + 5] = (high >>> 8) & 0xff;
  b[at + 6] = (high >>> 16) & 0xff;
  b[at + 7] = high >>> 24;
}

// Standard padded base64 of `source[0, length)` into `target` at `at`; returns the end.
function base64Into(source: Uint8Array, length: number, target: Uint8Array, at: number): number {
  const alphabet = BASE64_ALPHABET;
  let i = 0;
  for (; i + 3 <= length; i += 3) {
    const n = (source[i]! << 16) | (source[i + 1]! << 8) | source[i + 2]!;
    target[at++] = alphabet[n >>> 18]!;
    target[at++] = alphabet[(n >>> 12) & 63]!;
    target[at++] = alphabet[(n >>> 6) & 63]!;
    target[at++] = alphabet[n & 63]!;
  }
  const rest = length - i;
  if (rest > 0) {
    const n = (source[i]! << 16) | (rest === 2 ? source[i + 1]! << 8 : 0);
    target[at++] = alphabet[n >>> 18]!;
    target[at++] = alphabet[(n >>> 12) & 63]!;
    target[at++] = rest === 2 ? alphabet[(n >>> 6) & 63]! : 0x3d;
    target[at++] = 0x3d;
  }
  return at;
}

/** Bytes of a cursor string of `count` positions. */
function cursorChars(count: number): number {
  return 4 * Math.ceil((1 + 16 * count) / 3);
}

// Literal parts of a `--json` line.
const JSON_T = Buffer.from('{"t":"', 'latin1');
const JSON_S = Buffer.from('","s":"', 'latin1');
const JSON_D = Buffer.from('","d":', 'latin1');
const JSON_ID = Buffer.from(',"id":', 'latin1');
const JSON_NULL = Buffer.from('null', 'latin1');
const JSON_CURSOR = Buffer.from(',"e":null,"cursor":"', 'latin1');
const JSON_END = Buffer.from('"}\n', 'latin1');
const SOURCE_BYTES: Readonly<Record<LogSource, Buffer>> = {
  stdout: Buffer.from('stdout'),
  stderr: Buffer.from('stderr'),
  output: Buffer.from('output'),
  system: Buffer.from('system'),
};

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

  private readonly buffer: Buffer;
  private readonly bodyKind: BodyKind;
  private readonly bodyStart: number;
  private readonly bodyEnd: number;
  private readonly needsReencoding: boolean;
  private timeTextValue: string | undefined;
  private readonly timeStart: number;
  private readonly timeEnd: number;
  private decoded: Uint8Array | undefined;
  private cursorValue: string | undefined;
  // Where the entry's line (without its `\n`) lies in `lineBuffer`: the exact bytes on disk.
  private readonly lineBuffer: Buffer;
  private readonly lineStart: number;
  private readonly lineEnd: number;

  private constructor(
    fields: RecordFields,
    buffer: Buffer,
    position: FilePosition,
    reader: number,
    lineBuffer: Buffer,
    lineStart: number,
    lineEnd: number,
  ) {
    this.lineBuffer = lineBuffer;
    this.lineStart = lineStart;
    this.lineEnd = lineEnd;
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
    this.needsReencoding = fields.needsReencoding;
    this.timeTextValue = fields.timeText === undefined ? undefined : normalizeTimestamp(fields.time, fields.timeText);
    this.timeStart = fields.timeStart;
    this.timeEnd = fields.timeEnd;
    this.decoded = fields.decoded;
  }

  /** An entry from a parsed exec.log record whose line is `buffer[lineStart, lineEnd)`. */
  static fromRecord(
    fields: RecordFields,
    buffer: Buffer,
    position: FilePosition,
    reader: number,
    lineStart = 0,
    lineEnd = 0,
  ): Entry {
    return new Entry(fields, buffer, position, reader, buffer, lineStart, lineEnd);
  }

  /** A `system` entry from a text-log line, whose raw bytes are `line` (without the `\n`). */
  static fromText(
    time: number,
    timeText: string | undefined,
    body: string,
    position: FilePosition,
    reader: number,
    line: Buffer = EMPTY as Buffer,
  ): Entry {
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
        needsReencoding: false,
      },
      EMPTY as Buffer,
      position,
      reader,
      line,
      0,
      line.length,
    );
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
      const { buffer, timeStart, timeEnd } = this;
      this.timeTextValue = isNormalTimestamp(buffer, timeStart, timeEnd)
        ? buffer.toString('latin1', timeStart, timeEnd)
        : normalizeTimestamp(this.time, buffer.toString('latin1', timeStart, timeEnd));
    }
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
    if (this.cursorValue === undefined) {
      const count = this.positionCount();
      if (count > MAX_CURSOR_POSITIONS) {
        this.cursorValue = encodeCursor(this.positions);
      } else {
        const end = this.writeCursor(cursorText, 0);
        this.cursorValue = cursorText.toString('latin1', 0, end);
      }
    }
    return this.cursorValue;
  }

  private positionCount(): number {
    const base = this.cursorBase;
    return base === undefined ? 0 : base.length;
  }

  // Writes the cursor string (base64) into `target` at `at`; returns the end. Needs ≤ 255 positions.
  private writeCursor(target: Uint8Array, at: number): number {
    const count = this.positionCount();
    const binaryLength = 1 + 16 * count;
    if (cursorBinary.length < binaryLength) {
      cursorBinary = new Uint8Array(binaryLength);
      cursorText = Buffer.allocUnsafe(cursorChars(count));
    }
    cursorBinary[0] = count;
    const base = this.cursorBase;
    const own = this.cursorOwn;
    for (let slot = 0; slot < count; slot++) {
      let generation: bigint;
      let offset: number;
      if (slot === this.reader && own !== null) {
        generation = own === undefined ? this.generation : own.generation;
        offset = own === undefined ? this.offset : own.offset;
      } else {
        const position = base![slot]!;
        generation = position.generation;
        offset = position.offset;
      }
      putGeneration(slot, generation, 1 + 16 * slot);
      putOffset(offset, 1 + 16 * slot + 8);
    }
    return base64Into(cursorBinary, binaryLength, target, at);
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
    if (!plain || count > MAX_CURSOR_POSITIONS || !isNormalTimestamp(this.buffer, this.timeStart, this.timeEnd)) {
      const line = `${this.toJsonLine()}\n`;
      if (Buffer.byteLength(line, 'utf8') > target.length - at) return -1;
      return at + target.write(line, at, 'utf8');
    }
    // The body between its quotes is already a valid JSON string (checked while parsing): copied as it is.
    const bound = 96 + (this.timeEnd - this.timeStart) + (this.bodyEnd - this.bodyStart) + cursorChars(count);
    if (bound > target.length - at) return -1;
    at += JSON_T.copy(target, at);
    at += this.buffer.copy(target, at, this.timeStart, this.timeEnd);
    at += JSON_S.copy(target, at);
    at += SOURCE_BYTES[this.source].copy(target, at);
    at += JSON_D.copy(target, at);
    at += this.buffer.copy(target, at, this.bodyStart - 1, this.bodyEnd + 1);
    at += JSON_ID.copy(target, at);
    const id = this.sessionId;
    at = id === null ? at + JSON_NULL.copy(target, at) : writeDigits(id, target, at);
    at += JSON_CURSOR.copy(target, at);
    at = this.writeCursor(target, at);
    return at + JSON_END.copy(target, at);
  }

  /**
   * Writes the body as terminal text straight from the read buffer into
   * `target` at `at` (see {@link writePlainBody}, which also says what the
   * prefixes do); -1 when the body is not one that can be copied so, or might
   * not fit: the caller then renders {@link text} the general way.
   */
  writePlainText(target: Uint8Array, at: number, first?: Uint8Array, continuation?: Uint8Array): number {
    if ((this.bodyKind !== BodyKind.Raw && this.bodyKind !== BodyKind.Escaped) || this.needsReencoding) return -1;
    return writePlainBody(this.buffer, this.bodyStart, this.bodyEnd, target, at, first, continuation);
  }

  /** The entry as one `--json` line (no newline): `t`, `s`, `d`, `id`, `e`, `cursor`. */
  toJsonLine(): string {
    let bodyJson: string;
    let base64 = false;
    if ((this.bodyKind === BodyKind.Raw || this.bodyKind === BodyKind.Escaped) && !this.needsReencoding) {
      // Already a valid JSON string (validated while parsing): copy it, quotes included.
      bodyJson = this.buffer.toString('utf8', this.bodyStart - 1, this.bodyEnd + 1);
    } else {
      const data = this.data;
      const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      if (isUtf8(bytes)) {
        bodyJson = jsonString(bytes.toString('utf8'));
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

const TERMINAL_CONTROL = /[\u007f-\u009f]/;
const TERMINAL_CONTROLS = /[\u007f-\u009f]/g;

// JSON.stringify, with DEL and C1 controls escaped too: JSON allows them raw, but a terminal showing
// the output would act on them (U+009B is CSI).
function jsonString(text: string): string {
  const json = JSON.stringify(text);
  return TERMINAL_CONTROL.test(json)
    ? json.replace(TERMINAL_CONTROLS, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)
    : json;
}

// Decimal digits of a non-negative integer into `target` at `at`; returns the end.
function writeDigits(value: number | bigint, target: Uint8Array, at: number): number {
  if (typeof value === 'number' && value < 10) {
    target[at] = 0x30 + value;
    return at + 1;
  }
  const text = String(value);
  for (let i = 0; i < text.length; i++) target[at + i] = text.charCodeAt(i);
  return at + text.length;
}
