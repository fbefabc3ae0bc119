/**
 * Text output of several sandboxes: every line starts with the sandbox's
 * name, padded to the longest name shown and coloured per sandbox (a stable
 * colour derived from the name, so `web-1` looks the same in every run), as
 * `docker compose logs` and stern do. Bodies go through the same terminal
 * sanitizer as single-sandbox output (./render.ts); names are valid sandbox
 * names (no control characters) and are sanitized all the same.
 */
import { sanitizeForTerminal } from '../format/ansi.js';
import type { SandboxEntry } from '../engine/sandbox-entry.js';
import { renderText, type RenderOptions } from './render.js';

const RESET = '\u001b[0m';
/** Colours that stay readable on dark and light backgrounds, without red and yellow (errors and warnings). */
const SANDBOX_PALETTE = [36, 35, 32, 34, 96, 95, 92, 94];

/** The colour of a sandbox name: FNV-1a of its UTF-16 code units, so it never changes between runs. */
export function sandboxColor(name: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `\u001b[${SANDBOX_PALETTE[hash % SANDBOX_PALETTE.length]}m`;
}

/** Builds the line prefixes of a set of sandbox names, padded to the longest. */
export class SandboxPrefixes {
  private readonly color: boolean;
  private width = 0;
  private readonly cache = new Map<string, string>();

  constructor(names: readonly string[], color: boolean) {
    this.color = color;
    this.update(names);
  }

  /** Takes a new set of names (a sandbox picked up while following may be longer). */
  update(names: readonly string[]): void {
    const width = Math.max(this.width, ...names.map((name) => [...name].length));
    if (width !== this.width) this.cache.clear();
    this.width = width;
  }

  /** `name  | ` (coloured when colour is on). */
  of(name: string): string {
    let prefix = this.cache.get(name);
    if (prefix === undefined) {
      const safe = sanitizeForTerminal(name, false);
      const padded = safe + ' '.repeat(Math.max(0, this.width - [...safe].length));
      prefix = this.color ? `${sandboxColor(name)}${padded} |${RESET} ` : `${padded} | `;
      this.cache.set(name, prefix);
    }
    return prefix;
  }
}

/** Renders entries of several sandboxes as text: every line prefixed, every entry ending its line. */
export function renderManyText(
  entries: readonly SandboxEntry[],
  prefixes: SandboxPrefixes,
  options: RenderOptions,
): string {
  let out = '';
  for (const entry of entries) {
    const text = renderText(entry.entry, options);
    const prefix = prefixes.of(entry.sandbox);
    const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
    for (const line of lines) out += `${prefix}${line}\n`;
  }
  return out;
}

/** Renders entries of several sandboxes as JSON Lines (each with `sandbox`, and the multi-cursor as `cursor`). */
export function renderManyJson(entries: readonly SandboxEntry[]): string {
  let out = '';
  for (const entry of entries) out += `${entry.toJsonLine()}\n`;
  return out;
}
