/**
 * Time parsing: RFC 3339 timestamps as records carry them, and the `--since` /
 * `--until` arguments people type (RFC 3339 or a relative `30s`, `5m`, `2h`,
 * `1d`).
 *
 * Times are held as milliseconds since the epoch in a plain number whose
 * fraction keeps sub-millisecond digits (runtime.log writes microseconds), so
 * that ordering between files does not collapse to millisecond ties. A double
 * has room for microseconds until the year 2255.
 */
import { OptionsError } from '../errors.js';

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

// Days from 1970-01-01 to the given civil date (proleptic Gregorian), without Date's two-digit-year quirk.
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthIndex = month > 2 ? month - 3 : month + 9;
  const dayOfYear = Math.floor((153 * monthIndex + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function digit(code: number): number {
  const value = code - 48;
  return value >= 0 && value <= 9 ? value : -1_000_000;
}

/**
 * Parses an RFC 3339 timestamp held in `text[start, end)` as character codes read by `at`.
 * Shared by the string and the byte parsers so that both accept exactly the same inputs.
 */
function parseCodes(at: (index: number) => number, start: number, end: number): number | undefined {
  const length = end - start;
  if (length < 20) return undefined;
  const year = digit(at(start)) * 1000 + digit(at(start + 1)) * 100 + digit(at(start + 2)) * 10 + digit(at(start + 3));
  const month = digit(at(start + 5)) * 10 + digit(at(start + 6));
  const day = digit(at(start + 8)) * 10 + digit(at(start + 9));
  const hour = digit(at(start + 11)) * 10 + digit(at(start + 12));
  const minute = digit(at(start + 14)) * 10 + digit(at(start + 15));
  const second = digit(at(start + 17)) * 10 + digit(at(start + 18));
  const separator = at(start + 10);
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60 ||
    at(start + 4) !== 45 ||
    at(start + 7) !== 45 ||
    at(start + 13) !== 58 ||
    at(start + 16) !== 58 ||
    (separator !== 84 && separator !== 116 && separator !== 32)
  ) {
    return undefined;
  }
  const monthDays = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day > monthDays) return undefined;

  let index = start + 19;
  let fraction = 0;
  if (at(index) === 46) {
    index += 1;
    let scale = 100;
    const fractionStart = index;
    while (index < end) {
      const value = digit(at(index));
      if (value < 0) break;
      fraction += value * scale;
      scale /= 10;
      index += 1;
    }
    if (index === fractionStart) return undefined;
  }
  let offsetMinutes = 0;
  const zone = at(index);
  if (zone === 90 || zone === 122) {
    index += 1;
  } else if (zone === 43 || zone === 45) {
    if (end - index !== 6 || at(index + 3) !== 58) return undefined;
    const offsetHours = digit(at(index + 1)) * 10 + digit(at(index + 2));
    const offsetMins = digit(at(index + 4)) * 10 + digit(at(index + 5));
    if (offsetHours < 0 || offsetHours > 23 || offsetMins < 0 || offsetMins > 59) return undefined;
    offsetMinutes = (offsetHours * 60 + offsetMins) * (zone === 45 ? -1 : 1);
    index += 6;
  } else {
    return undefined;
  }
  if (index !== end) return undefined;
  return (
    daysFromCivil(year, month, day) * MS_PER_DAY +
    ((hour * 60 + minute) * 60 + second) * 1000 +
    fraction -
    offsetMinutes * MS_PER_MINUTE
  );
}

/**
 * Parses an RFC 3339 timestamp (`2026-04-30T20:32:59.688Z`, any number of
 * fraction digits, `Z` or a `±HH:MM` offset) into epoch milliseconds with a
 * sub-millisecond fraction. Returns undefined for anything else.
 */
export function parseTimestamp(text: string): number | undefined {
  return parseCodes((index) => text.charCodeAt(index), 0, text.length);
}

/** {@link parseTimestamp} over the bytes `bytes[start, end)`, without making a string. */
export function parseTimestampBytes(bytes: Uint8Array, start: number, end: number): number | undefined {
  return utcWithFraction(bytes, start, end) ?? parseCodes((index) => (index < end ? bytes[index]! : -1), start, end);
}

// The last `YYYY-MM-DDTHH:MM` that utcWithFraction met, and its epoch ms (consecutive lines share it).
const lastMinute = new Uint8Array(16);
let lastMinuteMs = Number.NaN;
const minuteText = new Uint8Array(20);
const MINUTE_SUFFIX = [0x3a, 0x30, 0x30, 0x5a]; // `:00Z`

/**
 * `bytes[start, end)` in the form runtime.log writes (`YYYY-MM-DDTHH:MM:SS.ffffffZ`:
 * upper-case `T` and `Z`, a fraction of any length, no leap second), its
 * minute looked up in a one-entry cache: the same number {@link parseCodes}
 * gives, by the same arithmetic. Undefined for any other form (the general
 * parser then decides, invalid dates included).
 */
function utcWithFraction(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (
    end - start < 22 ||
    bytes[end - 1] !== 0x5a ||
    bytes[start + 10] !== 0x54 ||
    bytes[start + 16] !== 0x3a ||
    bytes[start + 19] !== 0x2e
  )
    return undefined;
  const s1 = bytes[start + 17]! - 48;
  const s2 = bytes[start + 18]! - 48;
  if (!(s1 >= 0 && s1 <= 5 && s2 >= 0 && s2 <= 9)) return undefined;
  // As parseCodes adds it up: hundreds of ms first, each next digit a tenth of the one before.
  let fraction = 0;
  let scale = 100;
  for (let i = start + 20; i < end - 1; i++) {
    const value = bytes[i]! - 48;
    if (value < 0 || value > 9) return undefined;
    fraction += value * scale;
    scale /= 10;
  }
  let same = !Number.isNaN(lastMinuteMs);
  for (let i = 0; same && i < 16; i++) same = lastMinute[i] === bytes[start + i];
  if (!same) {
    for (let i = 0; i < 16; i++) minuteText[i] = bytes[start + i]!;
    minuteText.set(MINUTE_SUFFIX, 16);
    const minute = parseCodes((index) => minuteText[index]!, 0, 20);
    if (minute === undefined) return undefined;
    lastMinute.set(minuteText.subarray(0, 16));
    lastMinuteMs = minute;
  }
  return lastMinuteMs + (s1 * 10 + s2) * 1000 + fraction;
}

const RELATIVE_UNITS_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a `--since`/`--until` argument: an RFC 3339 timestamp, or a relative
 * duration (`30s`, `5m`, `2h`, `1d`) counted back from `now`.
 */
export function parseTimeArgument(text: string, now: number = Date.now()): Date {
  const absolute = parseTimestamp(text);
  if (absolute !== undefined) return new Date(absolute);
  const relative = /^(\d{1,12})([smhd])$/.exec(text);
  if (relative !== null) return new Date(now - Number(relative[1]) * RELATIVE_UNITS_MS[relative[2]!]!);
  throw new OptionsError(
    `Expected an RFC 3339 time (2026-04-30T20:32:59Z) or a relative duration (30s, 5m, 2h, 1d), got ${JSON.stringify(text)}`,
  );
}

/** Formats epoch milliseconds as RFC 3339 UTC with milliseconds and `Z`, as exec.log records carry them. */
export function formatTimestamp(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}

/**
 * Whether `bytes[start, end)` is already the form microsandbox prints
 * (`YYYY-MM-DDTHH:MM:SS.mmmZ`, upper-case `T` and `Z`, no leap second), so it
 * can be copied as it is. Only the separators are checked: callers pass a
 * time that parsed.
 */
export function isNormalTimestamp(bytes: Uint8Array, start: number, end: number): boolean {
  return (
    end - start === 24 &&
    bytes[start + 10] === 0x54 &&
    bytes[start + 19] === 0x2e &&
    bytes[start + 23] === 0x5a &&
    !(bytes[start + 17] === 0x36 && bytes[start + 18] === 0x30)
  );
}

// Whether `text[20, end)` (a fraction's digits after its first) are all digits.
function fractionDigitsTo(text: string, end: number): boolean {
  for (let i = 20; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * The timestamp `text` (which parsed as `time`) as microsandbox prints it:
 * UTC, exactly three fraction digits (more are cut, not rounded), `Z`. A
 * leap second stays second 60, as chrono keeps it.
 */
export function normalizeTimestamp(time: number, text: string): string {
  const leap = text.charCodeAt(17) === 0x36 && text.charCodeAt(18) === 0x30;
  if (
    !leap &&
    text.charCodeAt(10) === 0x54 &&
    text.charCodeAt(19) === 0x2e &&
    text.charCodeAt(text.length - 1) === 0x5a
  ) {
    // UTC with a fraction: the printed form when the fraction has three digits, else its first 23
    // characters (more digits are cut; runtime.log writes microseconds) — what formatting `time` gives.
    if (text.length === 24) return text;
    if (text.length > 24 && fractionDigitsTo(text, text.length - 1)) return `${text.slice(0, 23)}Z`;
  }
  if (leap) {
    const before = formatTimestamp(time - 1000);
    return `${before.slice(0, 17)}60${before.slice(19)}`;
  }
  return formatTimestamp(time);
}
