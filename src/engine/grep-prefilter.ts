/**
 * The lines of a read block that a `--grep` pattern certainly does not
 * match, told apart without parsing them: a line that lacks one of the
 * pattern's required literals (grep-literal.ts) anywhere in its bytes cannot
 * have it in its body, unless the body can spell it some other way. The
 * reader skips such lines unread.
 *
 * Each literal is searched in the line by a JavaScript loop, a 32-bit word
 * at a time for its least common byte, and `\u` escapes the same way for
 * their backslash (in an exec.log line, the first literal and the escapes in
 * the same pass): a native `Buffer.indexOf` across the block, its next hit
 * kept, was tried and costs ~250 ns a call (one per hit: the bench data
 * holds a literal or an escape in most lines), more than the loops
 * (bench/performance-notes.md, fourth and fifth rounds). The rare needles,
 * `b64` and the text-log bytes, are still searched natively across the block.
 *
 * When a body could spell a literal without its bytes:
 * - exec.log: a `\u` escape of anything but a control character (filter.ts
 *   says why the others cannot), and a base64 body (`"e":"b64"`: the pattern
 *   sees it decoded). A line with either, or with the bytes `b64` anywhere,
 *   is parsed, whatever it is.
 * - text logs: the pattern is matched after ANSI sequences are removed
 *   (`TR<ESC>[1mACE` reads `TRACE`), so a line with an ESC byte or a byte
 *   0xC2 (the lead byte of U+0080–U+00BF, the C1 controls among them) is parsed.
 *
 * What a skipped line does not do: count as malformed. A line that cannot
 * match is not read, so `--grep` reports only the malformed lines that could
 * have matched (README, "Deliberate differences").
 */
import { hexUnit, isControlUnit } from '../format/record-values.js';
import { requiredLiterals } from './grep-literal.js';
import type { EntryFilter } from './filter.js';

const BACKSLASH = 0x5c;
const U = 0x75;
/** `e`'s only value: a line holding it may have a base64 body, which the pattern sees decoded. */
const B64 = Buffer.from('b64');
const ESC = Buffer.from([0x1b]);
/** The lead byte of U+0080–U+00BF in UTF-8, the C1 controls among them. */
const C1_LEAD = Buffer.from([0xc2]);
/** A hit past every line of the block. */
const NONE = Number.POSITIVE_INFINITY;

/** One needle searched forwards through a block: the next hit is kept until the lines pass it. */
class NextHit {
  private at = -1;

  constructor(private readonly needle: Buffer) {}

  reset(): void {
    this.at = -1;
  }

  /** The first hit at or after `from` (NONE when there is none): lines ask in order. */
  from(block: Buffer, from: number): number {
    if (this.at < from) {
      const found = block.indexOf(this.needle, from);
      this.at = found < 0 ? NONE : found;
    }
    return this.at;
  }
}

// Whether one of the four bytes of `word` is the byte `repeated` holds four times (exact: the
// zero-byte test of their xor).
function hasByte(word: number, repeated: number): boolean {
  const x = word ^ repeated;
  return ((x - 0x01010101) & ~x & 0x80808080) !== 0;
}

const BACKSLASHES = 0x5c5c5c5c;

/**
 * Bytes by how common they are in exec.log lines, most common first: a
 * literal is looked for by its least common byte (an anchor that rarely
 * occurs is rarely verified). Every record's head (`{"t":"…T…Z","s":…`) holds
 * digits, `T` and `Z`. Bytes not listed (other upper case, most punctuation,
 * UTF-8) count as rarest.
 */
const COMMON_BYTES = Buffer.from(' etaoinsrhldcumfpgwybvk0123456789=:."TZ,-_/{}xjqz', 'latin1');

/**
 * One literal, searched in a line a word at a time: the words that hold its
 * anchor byte are found with the zero-byte test, and the literal is compared
 * where the anchor is. Without the block as words (a block off a 4-byte
 * boundary, see {@link GrepPrefilter.startBlock}) it steps byte by byte.
 */
class AnchoredLiteral {
  private readonly literal: Buffer;
  /** Index in the literal of the byte searched for. */
  private readonly anchorAt: number;
  private readonly anchor: number;
  private readonly repeated: number;

  constructor(literal: Buffer) {
    this.literal = literal;
    let best = 0;
    let bestRank = -1;
    for (let i = 0; i < literal.length; i++) {
      const known = COMMON_BYTES.indexOf(literal[i]!);
      const rank = known < 0 ? COMMON_BYTES.length : known;
      if (rank > bestRank) {
        best = i;
        bestRank = rank;
      }
    }
    this.anchorAt = best;
    this.anchor = literal[best]!;
    this.repeated = Math.imul(this.anchor, 0x01010101);
  }

  /** Whether the literal lies within `block[start, end)`. */
  within(block: Buffer, words: Int32Array | undefined, start: number, end: number): boolean {
    const literal = this.literal;
    const length = literal.length;
    const anchor = this.anchor;
    // The anchor's possible places: the literal must fit in the line.
    let at = start + this.anchorAt;
    const last = end - length + this.anchorAt;
    while (at <= last) {
      if (words !== undefined && (at & 3) === 0) {
        let word = at >> 2;
        const whole = (last + 1) >> 2;
        while (word < whole && !hasByte(words[word]!, this.repeated)) word += 1;
        at = word << 2;
        if (at > last) return false;
      }
      if (block[at] === anchor) {
        const from = at - this.anchorAt;
        let i = 0;
        while (i < length && block[from + i] === literal[i]) i += 1;
        if (i === length) return true;
      }
      at += 1;
    }
    return false;
  }

  /**
   * For an exec.log line: whether the literal lies within `block[start, end)`
   * ({@link Scan.Found}), else whether the line holds a `\u` escape that may
   * spell text ({@link Scan.Spelling}, see {@link GrepPrefilter}) or not
   * ({@link Scan.Absent}). One pass for both questions, a word at a time for
   * the anchor byte or a backslash: a line that lacks the literal (most lines,
   * for a selective pattern) is read once, not once per question.
   */
  scan(block: Buffer, words: Int32Array | undefined, start: number, end: number): Scan {
    const literal = this.literal;
    const length = literal.length;
    const anchor = this.anchor;
    const repeated = this.repeated;
    const firstAnchor = start + this.anchorAt;
    const lastAnchor = end - length + this.anchorAt;
    // Bytes before this are the rest of an escape: a backslash there is escaped text, not an escape.
    let escapeEnd = start;
    let at = start;
    while (at < end) {
      if (words !== undefined && (at & 3) === 0) {
        let word = at >> 2;
        const whole = end >> 2;
        while (word < whole) {
          const w = words[word]!;
          const a = w ^ repeated;
          const b = w ^ BACKSLASHES;
          if ((((a - 0x01010101) & ~a) | ((b - 0x01010101) & ~b)) & 0x80808080) break;
          word += 1;
        }
        at = word << 2;
        if (at >= end) return Scan.Absent;
      }
      const c = block[at];
      if (c === anchor) {
        if (at >= firstAnchor && at <= lastAnchor) {
          const from = at - this.anchorAt;
          let i = 0;
          while (i < length && block[from + i] === literal[i]) i += 1;
          if (i === length) return Scan.Found;
        }
      } else if (c === BACKSLASH && at >= escapeEnd) {
        if (block[at + 1] === U) {
          const unit = hexUnit(block, at + 2);
          // Not four hex digits (not an escape the parser accepts), or one that may spell text: the parser decides.
          if (unit < 0 || !isControlUnit(unit)) return Scan.Spelling;
          escapeEnd = at + 6;
        } else {
          escapeEnd = at + 2; // an escaped character: `\\u` is a backslash, then a `u`
        }
      }
      at += 1;
    }
    return Scan.Absent;
  }
}

/** What {@link AnchoredLiteral.scan} found in a line. */
const enum Scan {
  Found,
  Absent,
  Spelling,
}

export class GrepPrefilter {
  /** The required literals, each searched in a line by its least common byte (no call into C++ per line). */
  private readonly literals: AnchoredLiteral[];
  /** Bytes that make a line's body read otherwise than its bytes: `b64` (exec.log; `\u` escapes are looked at one by one), ESC and 0xC2 (text). */
  private readonly hazards: NextHit[];
  private readonly jsonl: boolean;
  /** The block's bytes (a view ending at the block's end: the buffer past it holds an older read). */
  private block: Buffer = Buffer.alloc(0);
  /** The block as 32-bit words, when it starts on a 4-byte boundary (read buffers do): the scans read 4 bytes at a time. */
  private words: Int32Array | undefined;

  private constructor(literals: Buffer[], jsonl: boolean) {
    this.literals = literals.map((literal) => new AnchoredLiteral(literal));
    this.jsonl = jsonl;
    this.hazards = jsonl ? [new NextHit(B64)] : [new NextHit(ESC), new NextHit(C1_LEAD)];
  }

  /**
   * The prefilter for a reader with `filter`, or undefined when it would skip
   * nothing: no pattern, a pattern without a required literal, or an `until`
   * that ends the source (a skipped line could be the one that ends it).
   */
  static for(filter: EntryFilter, format: 'jsonl' | 'text'): GrepPrefilter | undefined {
    if (filter.grep === undefined) return undefined;
    if (filter.untilEndsSource && filter.until !== Number.POSITIVE_INFINITY) return undefined;
    const literals = requiredLiterals(filter.grep);
    return literals.length === 0 ? undefined : new GrepPrefilter(literals, format === 'jsonl');
  }

  /** Starts a block: `buffer[0, end)` holds it, and lines are then asked about in order. */
  startBlock(buffer: Buffer, end: number): void {
    this.block = end === buffer.length ? buffer : buffer.subarray(0, end);
    this.words = (buffer.byteOffset & 3) === 0 ? new Int32Array(buffer.buffer, buffer.byteOffset, end >> 2) : undefined;
    for (const hit of this.hazards) hit.reset();
  }

  /** Whether the line `[start, end)` of the block (no `\n`) certainly does not match. */
  skips(start: number, end: number): boolean {
    const block = this.block;
    const words = this.words;
    const literals = this.literals;
    // exec.log: the first literal and the `\u` escapes in one pass (most lines lack the literal).
    let lacks: boolean;
    let spellingKnown = false;
    if (this.jsonl) {
      const found = literals[0]!.scan(block, words, start, end);
      if (found === Scan.Spelling) return false;
      lacks = found === Scan.Absent;
      spellingKnown = lacks; // the scan read the whole line: it has no escape that spells text
    } else {
      lacks = !literals[0]!.within(block, words, start, end);
    }
    for (let i = 1; i < literals.length && !lacks; i++) lacks = !literals[i]!.within(block, words, start, end);
    if (!lacks) return false;
    for (const hazard of this.hazards) if (hazard.from(block, start) < end) return false;
    return !this.jsonl || spellingKnown || !this.hasSpellingEscape(start, end);
  }

  // Whether the line holds a `\u` escape of something other than a control character. Backslashes are
  // looked for a word at a time where the block allows it (most lines hold a few escapes, and a native
  // search per backslash costs more than a loop); each one found is then looked at.
  private hasSpellingEscape(start: number, end: number): boolean {
    const block = this.block;
    const words = this.words;
    let at = start;
    while (at < end) {
      if (words !== undefined && (at & 3) === 0) {
        let word = at >> 2;
        const whole = end >> 2;
        while (word < whole && !hasByte(words[word]!, BACKSLASHES)) word += 1;
        at = word << 2;
        if (at >= end) return false;
      }
      if (block[at] !== BACKSLASH) {
        at += 1;
        continue;
      }
      if (block[at + 1] !== U) {
        at += 2; // an escaped character: `\\u` is a backslash, then a `u`
        continue;
      }
      const unit = hexUnit(block, at + 2);
      // Not four hex digits (not an escape the parser accepts), or one that may spell text: the parser decides.
      if (unit < 0 || !isControlUnit(unit)) return true;
      at += 6;
    }
    return false;
  }
}
