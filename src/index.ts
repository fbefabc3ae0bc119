/**
 * sandlog: capture, keep and follow the output of sandboxed programs, in the
 * on-disk format of microsandbox.
 *
 * Contracts (the details are in docs/FORMAT.md and the modules named):
 *
 * - Files. A sandbox's logs live in `<home>/sandboxes/<name>/logs/`:
 *   `exec.log` (JSON Lines, rotated by rename to `exec.log.1` … `.4`),
 *   `runtime.log` and `kernel.log` (text). Sources stdout, stderr and output
 *   come from exec.log; system from all three. With no sources named, a read
 *   gives stdout + stderr + output.
 * - Order. A snapshot is sorted by timestamp as microsandbox sorts it (a
 *   stable sort in its read order; engine/snapshot-order.ts), with the same
 *   entries, values and cursors as `msb logs` and microsandbox's binding.
 *   exec.log is streamed (held back only for its first 8,192 entries, and
 *   wholly only when out of time order). A follower merges new appends by
 *   timestamp; within one file, entries come out in file order, each once.
 * - Cursors. Every entry's `cursor` resumes a stream strictly after it;
 *   cursor strings are byte-compatible with microsandbox's, and each slot is
 *   an entry's own position, never past records a filter dropped. A
 *   snapshot's cursor sits after everything it read, so
 *   `streamLogs({ afterCursor, follow: true })` continues with no gap and no
 *   duplicate.
 * - Checkpoints. `handle.checkpoint()` adds to a cursor the digest of the
 *   record line each position ends after; `afterCheckpoint` resumes from it
 *   and fails with `MissedRotationError` (never a resume in the wrong place)
 *   when a file it names has left retention, even when a newer file has
 *   taken that file's inode number.
 * - Following. One generation holder per directory opens each new exec.log
 *   file once for every follower in the process and keeps it open while one
 *   needs it, so a follower finishes the old file of a rotation before the
 *   new one and may fall `holdGenerations` files beyond retention without
 *   loss; further behind it fails with `MissedRotationError` (never a silent
 *   gap). One `fs.watch` per directory serves every follower in the process,
 *   with a poll as fallback.
 * - Writing. `ExecLogWriter` appends whole records and rotates by rename;
 *   bodies are lossless (UTF-8 as text, other bytes as base64).
 * - Several sandboxes. `streamManyLogs` reads names, shell-style patterns
 *   or all sandboxes as one stream merged by time, every filter applied per
 *   sandbox, entries tagged with their sandbox; its cursors are multi-cursors
 *   (one cursor per sandbox, base64url JSON). `readHistory` and
 *   `readManyHistory` page backwards before a cursor; `readHistogram` counts
 *   entries per interval. See ./engine/multi-stream.ts.
 * - Errors. Everything raised on purpose is a `SandlogError` with a stable
 *   `code`.
 */
export {
  SandlogError,
  SandboxNotFoundError,
  InvalidSandboxNameError,
  InvalidCursorError,
  MissedRotationError,
  OptionsError,
  LogFileError,
  WriterLockedError,
  HistoryGoneError,
  InvalidStateError,
} from './errors.js';
export type { LogEntry } from './format/entry.js';
export type { LogSource } from './format/source.js';
export { ALL_SOURCES, DEFAULT_SOURCES } from './format/source.js';
export { encodeCursor, decodeCursor, type FilePosition } from './format/cursor.js';
export { encodeMultiCursor, decodeMultiCursor, type MultiCursor } from './format/multi-cursor.js';
export type { Checkpoint } from './format/checkpoint.js';
export { recordDigest } from './format/record-digest.js';
export { assertSandboxName } from './format/name.js';
export { sanitizeForTerminal } from './format/ansi.js';
export { EXEC_LOG, RUNTIME_LOG, KERNEL_LOG, defaultHome, sandboxLogDir, type LogTarget } from './files/layout.js';
export {
  ExecLogWriter,
  TextLogWriter,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_ROTATED_FILES,
  type ExecLogWriterOptions,
} from './files/writer.js';
export { streamLogs, readLogs, readLogsSnapshot, type LogStreamHandle, type LogSnapshot } from './engine/read.js';
export type { ReadOptions, StreamOptions, TimeInput } from './engine/options.js';
export type { LogWarning } from './engine/file-reader.js';
export { listSandboxes, type SandboxSummary } from './engine/inventory.js';
export {
  streamManyLogs,
  type ManyLogStreamHandle,
  type ManyStreamOptions,
  type ManyLogEvent,
} from './engine/multi-stream.js';
export type { SandboxLogEntry } from './engine/sandbox-entry.js';
export type { SandboxSelection } from './engine/selection.js';
export { readHistory, readManyHistory, type HistoryOptions, type HistoryPage } from './engine/history.js';
export { readHistogram, type Histogram, type HistogramBucket, type HistogramOptions } from './engine/histogram.js';
export {
  createApp,
  startServer,
  HttpError,
  type App,
  type AppOptions,
  type SandlogServer,
  type ServerOptions,
} from './server/index.js';
export {
  captureProcess,
  CommandStartError,
  PtyUnavailableError,
  type CaptureOptions,
  type CapturedProcess,
  type ProcessExit,
  type PtyProcess,
} from './capture/capture.js';
