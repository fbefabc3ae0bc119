/**
 * The literal texts every match of a `--grep` pattern must contain, found by
 * reading the pattern: `NO-SUCH-TEXT` needs `NO-SUCH-TEXT`, `TRACE.*elapsed`
 * needs `elapsed` and `TRACE` (the runs of a top-level sequence, longest
 * first). The engine looks for them in the raw bytes of a record's body, and
 * skips the record without decoding its body or running the pattern when one
 * is not there.
 *
 * Soundness over reach: only characters that stand for themselves in a
 * top-level sequence of the pattern count (no alternation, groups, classes,
 * escapes other than escaped punctuation, or optional quantifiers), and none
 * that a JSON string body could spell differently: `"`, `\`, `/` (written
 * `\/` by some encoders), controls, DEL and C1 (written escaped), U+FFFD
 * (what invalid UTF-8 decodes to) and lone surrogates. Case-insensitive and
 * `v`-mode patterns get no literal. A body with a `\u` escape is always
 * tested by the pattern itself (filter.ts), since it can spell any character.
 */

/** Punctuation that a backslash turns into itself. */
const ESCAPABLE = new Set('^$\\.*+?()[]{}|-,:=!<>#&~%@`\'";_ /'.split(''));

function usable(char: string): boolean {
  const code = char.codePointAt(0)!;
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return false;
  if (code >= 0xd800 && code <= 0xdfff) return false; // a lone surrogate
  return char !== '"' && char !== '\\' && char !== '/' && code !== 0xfffd;
}

/** Most literals searched per body: each is a pass over the body's bytes. */
const MAX_LITERALS = 3;
/** Shorter runs than this are left out after the longest: they would rule out little and cost a pass each. */
const MIN_EXTRA_LITERAL_BYTES = 3;

/**
 * The UTF-8 bytes of the longest literal every match of `pattern` contains,
 * or undefined when reading the pattern gives none.
 */
export function requiredLiteral(pattern: RegExp): Buffer | undefined {
  return requiredLiterals(pattern)[0];
}

/**
 * The UTF-8 bytes of literals every match of `pattern` contains, longest
 * first: the longest, then up to two more of at least three bytes. Empty when
 * reading the pattern gives none.
 */
export function requiredLiterals(pattern: RegExp): Buffer[] {
  const runs = literalRuns(pattern);
  if (runs === undefined) return [];
  const literals = runs
    .filter((run) => run !== '')
    .map((run) => Buffer.from(run, 'utf8'))
    .sort((a, b) => b.length - a.length);
  return literals.filter((literal, i) => i === 0 || (i < MAX_LITERALS && literal.length >= MIN_EXTRA_LITERAL_BYTES));
}

// The runs of plain characters of the pattern's top-level sequence, or undefined when it has an alternation or flags that rule literals out.
function literalRuns(pattern: RegExp): string[] | undefined {
  if (/[iv]/.test(pattern.flags)) return undefined;
  const source = pattern.source;
  const chars = Array.from(source); // code points: a non-BMP character is one atom with the u flag
  const runs: string[] = [];
  let run: string[] = [];
  const endRun = (): void => {
    runs.push(run.join(''));
    run = [];
  };
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    switch (c) {
      case '|':
        return undefined; // top-level alternation: no single literal is required
      case '(':
      case '[': {
        endRun();
        i = skipBracketed(chars, i);
        if (i < 0) return undefined;
        break;
      }
      case '*':
      case '?':
      case '{':
        // The atom before may be absent: it leaves the run.
        run.pop();
        endRun();
        if (c === '{') {
          while (i < chars.length && chars[i] !== '}') i += 1;
        }
        break;
      case '+':
        endRun(); // the atom before is there at least once; what follows may not be adjacent to it
        break;
      case '.':
      case '^':
      case '$':
      case ')':
      case ']':
      case '}':
        endRun();
        break;
      case '\\': {
        const next = chars[i + 1];
        if (next === undefined) return undefined;
        i += 1;
        if (ESCAPABLE.has(next) && usable(next)) {
          run.push(next);
        } else {
          // A class, an assertion, a code unit, a property or a backreference: skip its arguments too.
          endRun();
          while (i + 1 < chars.length && /[\w{}<>]/.test(chars[i + 1]!)) i += 1;
        }
        break;
      }
      default:
        if (usable(c)) run.push(c);
        else endRun();
    }
  }
  endRun();
  return runs;
}

/**
 * A search for `literal` in `bytes[start, end)` (Boyer–Moore–Horspool): no
 * allocation and no call into the runtime per body, which for bodies of a few
 * hundred bytes costs more than the search itself. Returns the index or -1.
 */
export function literalSearch(literal: Uint8Array): (bytes: Uint8Array, start: number, end: number) => number {
  const length = literal.length;
  const last = length - 1;
  const shift = new Int32Array(256).fill(length);
  for (let i = 0; i < last; i++) shift[literal[i]!] = last - i;
  const tail = literal[last]!;
  return (bytes, start, end) => {
    let at = start + last;
    while (at < end) {
      const c = bytes[at]!;
      if (c === tail) {
        let i = last - 1;
        let j = at - 1;
        while (i >= 0 && bytes[j] === literal[i]) {
          i -= 1;
          j -= 1;
        }
        if (i < 0) return j + 1;
      }
      at += shift[c]!;
    }
    return -1;
  };
}

// Index of the `)` or `]` closing the group or class that opens at `open`; -1 when the pattern ends first.
function skipBracketed(chars: readonly string[], open: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\') {
      i += 1;
    } else if (inClass) {
      if (c === ']') {
        inClass = false;
        if (depth === 0) return i;
      }
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(') {
      depth += 1;
    } else if (c === ')') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}
