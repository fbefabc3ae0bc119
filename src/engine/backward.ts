/**
 * Reading a file's lines from its end backwards, block by block: what makes
 * `--tail 100` and `--since` near the end cost a few kilobytes of reading
 * instead of the whole chain.
 */
import type { OpenLogFile } from '../files/log-file.js';
import { ALL_SOURCES } from '../format/source.js';
import { createRecordFields, parseRecord, ParseOutcome } from '../format/record.js';
import { sourceMask } from '../format/source.js';
import { parseTextLine } from '../format/text-line.js';

/** First block read from the end; it doubles while a single line does not fit. */
export const BACKWARD_BLOCK_BYTES = 64 * 1024;

/** One line met backwards: `buffer[start, end)` without its `\n`, which ends at file offset `endOffset`. */
export interface BackwardLine {
  readonly buffer: Buffer;
  readonly start: number;
  readonly end: number;
  /** File offset of the line's first byte. */
  readonly startOffset: number;
  /** File offset just after the line's `\n`. */
  readonly endOffset: number;
}

/** Yields the non-empty lines of `file[0, end)` last first; `end` must be a line boundary. */
export async function* linesBackward(file: OpenLogFile, end: number): AsyncGenerator<BackwardLine> {
  let regionEnd = end;
  let blockBytes = BACKWARD_BLOCK_BYTES;
  while (regionEnd > 0) {
    const blockStart = Math.max(0, regionEnd - blockBytes);
    const buffer = Buffer.allocUnsafe(regionEnd - blockStart);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await file.handle.read(buffer, filled, buffer.length - filled, blockStart + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled < buffer.length) return; // the file shrank under us: nothing sensible to read backwards
    // buffer holds [blockStart, regionEnd), whose last byte is a `\n`: walk the lines back from there.
    let lineEnd = buffer.length - 1; // index of the `\n` that ends the current line
    let progressed = false;
    for (;;) {
      const previousNewline = lineEnd > 0 ? buffer.lastIndexOf(0x0a, lineEnd - 1) : -1;
      if (previousNewline < 0 && blockStart > 0) break; // this line may begin before the block
      const lineStart = previousNewline + 1;
      if (lineEnd > lineStart) {
        yield {
          buffer,
          start: lineStart,
          end: lineEnd,
          startOffset: blockStart + lineStart,
          endOffset: blockStart + lineEnd + 1,
        };
      }
      if (previousNewline < 0) return; // reached the start of the file
      progressed = true;
      lineEnd = previousNewline;
    }
    if (progressed) {
      regionEnd = blockStart + lineEnd + 1;
      blockBytes = BACKWARD_BLOCK_BYTES;
    } else {
      blockBytes *= 2; // one line longer than the block: read more of it
    }
  }
}

const ANY_SOURCE = sourceMask(ALL_SOURCES);
const scratch = createRecordFields();

/** Time of the last entry (of any source) in `file[0, end)`, or undefined when it has none. */
export async function lastEntryTime(
  file: OpenLogFile,
  end: number,
  format: 'jsonl' | 'text',
): Promise<number | undefined> {
  const modified = format === 'text' ? (await file.handle.stat()).mtimeMs : 0;
  for await (const line of linesBackward(file, end)) {
    if (format === 'text') return parseTextLine(line.buffer.toString('utf8', line.start, line.end), modified).time;
    if (parseRecord(line.buffer, line.start, line.end, ANY_SOURCE, -Infinity, scratch) === ParseOutcome.Ok)
      return scratch.time;
  }
  return undefined;
}

/** Bytes read per probe of {@link firstRecordNotBefore}. */
const PROBE_BYTES = 16 * 1024;

/**
 * A line boundary in `file[start, end)` before which every record is older
 * than `since`, found by bisection in a few small reads: where a forward read
 * for `since` can begin instead of at `start`. Relies, like `--since`'s whole
 * file skipping, on times not going backwards within one exec.log file. Lines
 * that are not records are passed over by the probes (the forward read from
 * the returned offset still meets and counts those after it). `start` and
 * `end` must be line boundaries.
 */
export async function firstRecordNotBefore(
  file: OpenLogFile,
  start: number,
  end: number,
  since: number,
): Promise<number> {
  let low = start; // every record starting before `low` is older than `since`
  let high = end; // the first record at or after `since` starts at or before `high`
  const buffer = Buffer.allocUnsafe(PROBE_BYTES);
  while (high - low > PROBE_BYTES) {
    const from = low + Math.floor((high - low) / 2) - 1;
    const { bytesRead } = await file.handle.read(buffer, 0, Math.min(PROBE_BYTES, high - from), from);
    // The first line starting after `from` (byte `from` itself may end the line before).
    let lineStart = buffer.indexOf(0x0a, 0);
    if (lineStart < 0 || lineStart >= bytesRead) break;
    lineStart += 1;
    let found = false;
    for (;;) {
      const newline = buffer.indexOf(0x0a, lineStart);
      if (newline < 0 || newline >= bytesRead) break;
      if (parseRecord(buffer, lineStart, newline, ANY_SOURCE, -Infinity, scratch) === ParseOutcome.Ok) {
        if (scratch.time < since) low = from + newline + 1;
        else high = from + lineStart;
        found = true;
        break;
      }
      lineStart = newline + 1;
    }
    if (!found) break; // no whole record in the probe: let the forward read do the rest
  }
  return low;
}
