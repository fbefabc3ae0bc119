/**
 * The record parser's state, kept from one record to the next so that the
 * common case costs less (see {@link RecordParser}).
 */
import { parseTimestampBytes } from './time.js';

const MINUTE_SUFFIX = Buffer.from(':00Z');

/**
 * The record parser's scratch state: a 32-bit view of the buffer being parsed
 * (for the word-at-a-time body scan), and the last `YYYY-MM-DDTHH:MM` seen
 * with its epoch milliseconds (consecutive records share their minute). Only
 * speed depends on it: any record parses the same whatever came before.
 */
export class RecordParser {
  private wordsBuffer: ArrayBufferLike | undefined;
  private words = new Int32Array(0);
  private readonly minute = new Uint8Array(16);
  private minuteMs = Number.NaN;
  private readonly minuteText = Buffer.alloc(20);

  /** `bytes`' buffer as 32-bit words (byte order does not matter to the scan). */
  wordsOf(bytes: Uint8Array): Int32Array {
    if (bytes.buffer !== this.wordsBuffer) {
      this.wordsBuffer = bytes.buffer;
      this.words = new Int32Array(bytes.buffer as ArrayBuffer, 0, bytes.buffer.byteLength >> 2);
    }
    return this.words;
  }

  /**
   * Epoch ms of `bytes[start, start + 24)` when it has the exact
   * `YYYY-MM-DDTHH:MM:SS.mmmZ` form (what writers emit), with the minute
   * looked up in the one-entry cache: undefined when it has not that form,
   * NaN when it has but names no real minute (the record is malformed). Every
   * byte is checked, so none is a quote.
   */
  exactTime(bytes: Uint8Array, start: number): number | undefined {
    if (bytes[start + 23] !== 0x5a || bytes[start + 19] !== 0x2e || bytes[start + 16] !== 0x3a) return undefined;
    const s1 = bytes[start + 17]! - 48;
    const s2 = bytes[start + 18]! - 48;
    const m1 = bytes[start + 20]! - 48;
    const m2 = bytes[start + 21]! - 48;
    const m3 = bytes[start + 22]! - 48;
    if (
      s1 >= 0 &&
      s1 <= 6 &&
      s2 >= 0 &&
      s2 <= 9 &&
      m1 >= 0 &&
      m1 <= 9 &&
      m2 >= 0 &&
      m2 <= 9 &&
      m3 >= 0 &&
      m3 <= 9 &&
      s1 * 10 + s2 <= 60
    ) {
      if (!this.sameMinute(bytes, start)) {
        // Parse the minute once through the general parser, which validates the date.
        const minute = this.parseMinute(bytes, start);
        if (minute === undefined) return Number.NaN;
        this.minute.set(bytes.subarray(start, start + 16));
        this.minuteMs = minute;
      }
      return this.minuteMs + (s1 * 10 + s2) * 1000 + m1 * 100 + m2 * 10 + m3;
    }
    return undefined;
  }

  /**
   * Epoch ms of a record's `t` bytes `[start, end)`: the exact form writers
   * emit through {@link exactTime}, anything else through the general RFC
   * 3339 parser; undefined when it is no time.
   */
  time(bytes: Uint8Array, start: number, end: number): number | undefined {
    if (end - start === 24) {
      const time = this.exactTime(bytes, start);
      if (time !== undefined) return Number.isNaN(time) ? undefined : time;
    }
    return parseTimestampBytes(bytes, start, end);
  }

  // Whether `bytes[start, start + 16)` is the cached minute; the minute digits, which change most, first.
  private sameMinute(bytes: Uint8Array, start: number): boolean {
    const c = this.minute;
    return (
      !Number.isNaN(this.minuteMs) &&
      c[15] === bytes[start + 15] &&
      c[14] === bytes[start + 14] &&
      c[12] === bytes[start + 12] &&
      c[11] === bytes[start + 11] &&
      c[9] === bytes[start + 9] &&
      c[8] === bytes[start + 8] &&
      c[6] === bytes[start + 6] &&
      c[5] === bytes[start + 5] &&
      c[3] === bytes[start + 3] &&
      c[2] === bytes[start + 2] &&
      c[1] === bytes[start + 1] &&
      c[0] === bytes[start] &&
      c[4] === bytes[start + 4] &&
      c[7] === bytes[start + 7] &&
      c[10] === bytes[start + 10] &&
      c[13] === bytes[start + 13]
    );
  }

  private parseMinute(bytes: Uint8Array, start: number): number | undefined {
    const text = this.minuteText;
    text.set(bytes.subarray(start, start + 16), 0);
    text.set(MINUTE_SUFFIX, 16);
    return parseTimestampBytes(text, 0, 20);
  }
}
