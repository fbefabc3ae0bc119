/**
 * An entry of a multi-sandbox read: a sandbox's entry plus the sandbox's name
 * and the multi-cursor after it. Its `--json` line is the single-sandbox line
 * with `cursor` holding the multi-cursor and a `sandbox` field added.
 */
import type { Entry, LogEntry } from '../format/entry.js';
import { encodeMultiCursor, type MultiCursor } from '../format/multi-cursor.js';
import type { LogSource } from '../format/source.js';

/** A {@link LogEntry} of one of several sandboxes; `cursor` resumes every sandbox of the read. */
export interface SandboxLogEntry extends LogEntry {
  /** The sandbox it came from. */
  readonly sandbox: string;
  /** The sandbox's own cursor after this entry (resumes that sandbox alone). */
  readonly sandboxCursor: string;
}

const CURSOR_KEY = ',"cursor":"';

export class SandboxEntry implements SandboxLogEntry {
  readonly sandbox: string;
  /** The sandbox's entry. */
  readonly entry: Entry;
  // The per-sandbox cursors after this entry: an object shared by no later entry, encoded on first use.
  private readonly cursors: MultiCursor;
  private cursorValue: string | undefined;

  constructor(sandbox: string, entry: Entry, cursors: MultiCursor) {
    this.sandbox = sandbox;
    this.entry = entry;
    this.cursors = cursors;
  }

  get time(): number {
    return this.entry.time;
  }

  get timestamp(): Date {
    return this.entry.timestamp;
  }

  get source(): LogSource {
    return this.entry.source;
  }

  get sessionId(): number | bigint | null {
    return this.entry.sessionId;
  }

  get data(): Uint8Array {
    return this.entry.data;
  }

  text(): string {
    return this.entry.text();
  }

  get sandboxCursor(): string {
    return this.entry.cursor;
  }

  get cursor(): string {
    this.cursorValue ??= encodeMultiCursor(this.cursors);
    return this.cursorValue;
  }

  /** The `--json` line (no newline): `t`, `s`, `d`, `id`, `e`, `cursor` (the multi-cursor), `sandbox`. */
  toJsonLine(): string {
    const line = this.entry.toJsonLine();
    // `cursor` is the last key of an entry's line, and its value is base64 (no quote can precede it).
    const at = line.lastIndexOf(CURSOR_KEY);
    return `${line.slice(0, at)}${CURSOR_KEY}${this.cursor}","sandbox":${JSON.stringify(this.sandbox)}}`;
  }

  writeJsonLine(target: Buffer, at: number): number {
    const line = `${this.toJsonLine()}\n`;
    if (Buffer.byteLength(line, 'utf8') > target.length - at) return -1;
    return at + target.write(line, at, 'utf8');
  }

  toJSON(): Record<string, unknown> {
    const value = JSON.parse(this.toJsonLine()) as Record<string, unknown>;
    if (typeof this.sessionId === 'bigint') value['id'] = this.sessionId.toString();
    return value;
  }
}
