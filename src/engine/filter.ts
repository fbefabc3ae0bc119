/**
 * What a reader keeps: the requested sources, the time window and an optional
 * body pattern, resolved once from the caller's options; and the parsing of
 * one line into an entry under that filter, for both file formats.
 */
import { Entry } from '../format/entry.js';
import { BodyKind, createRecordFields, parseRecord, ParseOutcome, type RecordFields } from '../format/record.js';
import { parseTextLine, textLineTime } from '../format/text-line.js';
import { literalSearch, requiredLiterals } from './grep-literal.js';

/** A resolved filter. Times are epoch ms; absent bounds are ±Infinity. */
export interface EntryFilter {
  readonly sourceMask: number;
  /** Inclusive lower bound. */
  readonly since: number;
  /** Exclusive upper bound. */
  readonly until: number;
  /**
   * Whether the first entry at or after `until` ends its source (a follower
   * must stop somewhere), or is only left out (a snapshot keeps later entries
   * that are older again, as microsandbox's sorted snapshot does).
   */
  readonly untilEndsSource: boolean;
  readonly grep: RegExp | undefined;
}

/** How a line fared. */
export const enum LineOutcome {
  Kept,
  Filtered,
  Malformed,
  /** At or past `until`: the source ends here. */
  Until,
}

const fields = createRecordFields();

function matches(filter: EntryFilter, entry: Entry): boolean {
  if (filter.grep === undefined) return true;
  filter.grep.lastIndex = 0;
  return filter.grep.test(entry.text());
}

// The searches for the literals the last pattern seen needs (one pattern per stream: one slot does).
let literalPattern: RegExp | undefined;
let searchLiterals: ((bytes: Uint8Array, start: number, end: number) => number)[] = [];

/**
 * Whether the body of the record in `fields` certainly does not match `grep`:
 * one of the pattern's required literals is not in the body's bytes, and no
 * `\u` escape could spell part of it there. Decides on the raw bytes, before any decoding.
 */
function certainlyNoMatch(grep: RegExp, fields: RecordFields, buffer: Buffer): boolean {
  if (grep !== literalPattern) {
    literalPattern = grep;
    searchLiterals = requiredLiterals(grep).map(literalSearch);
  }
  if (searchLiterals.length === 0) return false;
  if (fields.bodyKind !== BodyKind.Raw && fields.bodyKind !== BodyKind.Escaped) return false;
  const { bodyStart, bodyEnd } = fields;
  let missing = false;
  for (const search of searchLiterals) {
    if (search(buffer, bodyStart, bodyEnd) < 0) {
      missing = true;
      break;
    }
  }
  // Escapes other than `\u` only make characters a literal never holds (see grep-literal.ts), and a
  // `\u` escape of a control character (colour: `\u001b`) does not either. Any other `\u` might
  // spell part of the literal: the pattern decides.
  return missing && (fields.bodyKind === BodyKind.Raw || !fields.spellingEscapes);
}

// A line of only spaces, tabs and a CR (a blank line of a CRLF file) is blank, not malformed.
// Checked only for lines that failed to parse, so records pay nothing for it.
function isBlank(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buffer[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/**
 * Parses the exec.log line `buffer[start, end)` (no `\n`) that ends at
 * `offset` of generation `generation`. The entry, when kept, is left in `result.entry`.
 */
export function parseJsonLine(
  buffer: Buffer,
  start: number,
  end: number,
  generation: bigint,
  offset: number,
  reader: number,
  filter: EntryFilter,
  result: { entry: Entry | undefined },
): LineOutcome {
  const outcome = parseRecord(buffer, start, end, filter.sourceMask, filter.since, fields);
  if (outcome === ParseOutcome.Malformed)
    return isBlank(buffer, start, end) ? LineOutcome.Filtered : LineOutcome.Malformed;
  if (outcome === ParseOutcome.Filtered) return LineOutcome.Filtered;
  if (fields.time >= filter.until) return filter.untilEndsSource ? LineOutcome.Until : LineOutcome.Filtered;
  if (filter.grep !== undefined && certainlyNoMatch(filter.grep, fields, buffer)) return LineOutcome.Filtered;
  const entry = Entry.fromRecord(fields, buffer, generation, offset, reader, start, end);
  if (!matches(filter, entry)) return LineOutcome.Filtered;
  result.entry = entry;
  return LineOutcome.Kept;
}

/** The time of the text-log line `buffer[start, end)`: its timestamp, or `fallbackTime` (the file's mtime). */
export function textFileLineTime(buffer: Buffer, start: number, end: number, fallbackTime: number): number {
  return (
    textLineTime(buffer, start, end, fallbackTime) ??
    parseTextLine(buffer.toString('utf8', start, end), fallbackTime).time
  );
}

/** Parses one text-log line; lines without a timestamp take `fallbackTime` (the file's mtime). */
export function parseTextFileLine(
  buffer: Buffer,
  start: number,
  end: number,
  generation: bigint,
  offset: number,
  reader: number,
  filter: EntryFilter,
  fallbackTime: number,
  result: { entry: Entry | undefined },
): LineOutcome {
  const time = textFileLineTime(buffer, start, end, fallbackTime);
  if (time < filter.since) return LineOutcome.Filtered;
  if (time >= filter.until) return filter.untilEndsSource ? LineOutcome.Until : LineOutcome.Filtered;
  const entry = Entry.fromTextLine(time, generation, offset, reader, buffer, start, end);
  if (!matches(filter, entry)) return LineOutcome.Filtered;
  result.entry = entry;
  return LineOutcome.Kept;
}
