/**
 * Escape sequences and control characters in untrusted text.
 *
 * One scanner serves two jobs: removing ANSI sequences from runtime.log lines
 * before their timestamp is looked for (as microsandbox does), and making
 * sandbox output safe for a terminal, where only SGR colour sequences
 * (`ESC [ … m`) may pass, and only when colour is on. Everything else that a
 * terminal would act on is removed: CSI, OSC (titles, clipboard), DCS, SOS,
 * PM, APC and two-byte escapes, their 8-bit C1 forms, C0 controls other than
 * newline and tab, DEL, and C1 controls (U+0080–U+009F).
 */

const ESC = 0x1b;
const BEL = 0x07;

/** What the scanner keeps. */
interface ScanPolicy {
  /** Keep SGR sequences (colour). */
  keepSgr: boolean;
  /** Remove lone control characters (not part of a sequence) other than `\n` and `\t`. */
  removeControls: boolean;
}

// Index just past a string sequence (OSC, DCS, SOS, PM, APC) whose body starts at `at`:
// after BEL (OSC only, by convention any), ESC \ or 8-bit ST; or the end of the text when unterminated.
function endOfStringSequence(text: string, at: number): number {
  for (let i = at; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BEL || c === 0x9c) return i + 1;
    if (c === ESC) return text.charCodeAt(i + 1) === 0x5c ? i + 2 : i;
  }
  return text.length;
}

// Index just past a CSI sequence whose parameters start at `at`, and whether it is a well-formed SGR.
function endOfControlSequence(text: string, at: number): { end: number; sgr: boolean } {
  let i = at;
  let sgrParameters = true;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x3f) {
      // Parameter bytes; SGR takes digits, `;` and `:` only.
      if (!((c >= 0x30 && c <= 0x39) || c === 0x3b || c === 0x3a)) sgrParameters = false;
      i += 1;
    } else if (c >= 0x20 && c <= 0x2f) {
      sgrParameters = false;
      i += 1;
    } else if (c >= 0x40 && c <= 0x7e) {
      return { end: i + 1, sgr: sgrParameters && c === 0x6d };
    } else {
      // Not a valid sequence: it ends here, and the stray byte is judged on its own.
      return { end: i, sgr: false };
    }
  }
  return { end: text.length, sgr: false };
}

function scan(text: string, policy: ScanPolicy): string {
  let out = '';
  let copiedTo = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    const isControl = c < 0x20 || (c >= 0x7f && c <= 0x9f);
    if (!isControl) {
      i += 1;
      continue;
    }
    if (c === 0x0a || c === 0x09) {
      i += 1;
      continue;
    }
    let end = i + 1;
    let keep = false;
    if (c === ESC || c === 0x9b || c === 0x9d || c === 0x90 || c === 0x98 || c === 0x9e || c === 0x9f) {
      const introducer = c === ESC ? text.charCodeAt(i + 1) : c;
      const bodyStart = c === ESC ? i + 2 : i + 1;
      // ESC before an 8-bit introducer is a lone ESC: the introducer is judged on its own next.
      if (c === ESC && (Number.isNaN(introducer) || introducer >= 0x80)) {
        end = i + 1;
      } else if (introducer === 0x5b || introducer === 0x9b) {
        const sequence = endOfControlSequence(text, bodyStart);
        end = sequence.end;
        // Only the 7-bit form passes: an 8-bit CSI (U+009B) is itself a C1 control a terminal may act on.
        keep = policy.keepSgr && sequence.sgr && c === ESC;
      } else if (
        introducer === 0x5d ||
        introducer === 0x50 ||
        introducer === 0x58 ||
        introducer === 0x5e ||
        introducer === 0x5f ||
        introducer === 0x9d ||
        introducer === 0x90 ||
        introducer === 0x98 ||
        introducer === 0x9e ||
        introducer === 0x9f
      ) {
        end = endOfStringSequence(text, bodyStart);
      } else if (c === ESC) {
        // ESC followed by intermediates then a final byte (charset selection, keypad modes, resets…).
        let j = i + 1;
        while (j < text.length && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j += 1;
        const final = text.charCodeAt(j);
        end = final >= 0x30 && final <= 0x7e ? j + 1 : j;
      }
    } else if (!policy.removeControls) {
      i += 1;
      continue;
    }
    if (!keep) {
      out += text.slice(copiedTo, i);
      copiedTo = end;
    }
    i = end;
  }
  return copiedTo === 0 ? text : out + text.slice(copiedTo);
}

/** Removes ANSI escape sequences, leaving other characters as they are (runtime.log lines). */
export function stripAnsi(text: string): string {
  return scan(text, { keepSgr: false, removeControls: false });
}

/**
 * Makes untrusted text safe to write to a terminal: only `\n`, `\t`, printable
 * characters and, when `keepColor` is set, SGR colour sequences remain.
 */
export function sanitizeForTerminal(text: string, keepColor: boolean): string {
  return scan(text, { keepSgr: keepColor, removeControls: true });
}

const SGR = /\u001b\[([0-9;:]*)m/g;

/** True when the last SGR sequence in already-sanitized text leaves a colour set (so the line needs a reset). */
export function leavesColorSet(sanitized: string): boolean {
  if (!sanitized.includes('\u001b[')) return false;
  let parameters: string | undefined;
  for (const match of sanitized.matchAll(SGR)) parameters = match[1];
  if (parameters === undefined) return false;
  // `ESC[m`, `ESC[0m` and anything ending in a 0 parameter reset every attribute.
  return !/(^|;)0*$/.test(parameters);
}
