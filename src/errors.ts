/**
 * The error types sandlog raises. Every error carries a stable `code` so that
 * callers (the CLI's exit codes, the server's HTTP statuses) can map them in one
 * place without matching on message text. Messages are one line and name the
 * offending value.
 */

/** A message folded onto one line, as the CLI prints it and the server sends it. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Base class of every error sandlog raises on purpose. */
export class SandlogError extends Error {
  /** Stable, machine-readable identifier of the failure. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The sandbox (or explicit log directory) does not exist. */
export class SandboxNotFoundError extends SandlogError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SANDBOX_NOT_FOUND', message, options);
  }
}

/** A sandbox name that could not safely become a path. */
export class InvalidSandboxNameError extends SandlogError {
  constructor(message: string) {
    super('INVALID_SANDBOX_NAME', message);
  }
}

/**
 * A cursor that cannot be used: not a cursor string at all, or one whose file
 * generation has left the rotation chain. Raised before the first entry.
 */
export class InvalidCursorError extends SandlogError {
  constructor(message: string) {
    super('INVALID_CURSOR', message);
  }
}

/**
 * The file a reader was working through rotated out of retention before the
 * reader could reach the file after it: continuing would silently skip records.
 */
export class MissedRotationError extends SandlogError {
  /** Byte offset the reader had reached in the lost file. */
  readonly offset: number;
  /** Generation (inode) of the file the reader had reached. */
  readonly generation: bigint;

  /**
   * `since`, when given, says how the loss was found out instead of "while
   * the reader was there" (e.g. on resuming from a checkpoint).
   */
  constructor(fileName: string, generation: bigint, offset: number, since?: string) {
    super(
      'MISSED_ROTATION',
      since === undefined
        ? `missed rotation: ${fileName} rotated out of retention while the reader was at offset ${offset} ` +
            `of generation ${generation}; records after that point were overwritten`
        : `missed rotation: ${fileName} generation ${generation} rotated out of retention ${since}; ` +
            `records after offset ${offset} of it were overwritten`,
    );
    this.offset = offset;
    this.generation = generation;
  }
}

/**
 * A history read (`before` a cursor) whose cursor names a file that has left
 * retention: that file and everything older are gone.
 */
export class HistoryGoneError extends SandlogError {
  constructor(message: string) {
    super('HISTORY_GONE', message);
  }
}

/** Options that are invalid on their own or conflict with each other. */
export class OptionsError extends SandlogError {
  constructor(message: string) {
    super('INVALID_OPTIONS', message);
  }
}

/** A log file that exists but cannot be read as one (a directory, a FIFO, no permission, a link). */
export class LogFileError extends SandlogError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LOG_FILE_UNREADABLE', message, options);
  }
}

/** Another live process already writes this sandbox's logs. */
export class WriterLockedError extends SandlogError {
  /** Process id holding the lock. */
  readonly pid: number;

  constructor(logDir: string, pid: number) {
    super('WRITER_LOCKED', `sandbox logs in ${logDir} are already being written by process ${pid}`);
    this.pid = pid;
  }
}

/** An object used out of its lifecycle: a stream iterated twice, a writer used after close(). */
export class InvalidStateError extends SandlogError {
  constructor(message: string) {
    super('INVALID_STATE', message);
  }
}

/** A log stream iterated a second time (by `for await`, `batches()` or `events()`): programmer misuse. */
export class StreamIteratedTwiceError extends InvalidStateError {
  constructor() {
    super('a log stream can be iterated only once');
  }
}

/** A writer used after its close(): programmer misuse. */
export class WriterClosedError extends InvalidStateError {
  constructor(writer: string) {
    super(`${writer} is closed`);
  }
}

/**
 * A read of a log file that was closed meanwhile (a follower closed while its
 * read was queued). Its code is the system's `EBADF`, what the read itself
 * would have failed with, so that it is handled as that.
 */
export class FileClosedError extends SandlogError {
  constructor() {
    super('EBADF', 'EBADF: file closed');
  }
}

/** The web viewer's static files are not where the server looks for them (a broken install). */
export class ViewerMissingError extends SandlogError {
  constructor(directories: readonly string[]) {
    super('VIEWER_MISSING', `the web viewer's files are missing (looked in ${directories.join(' and ')})`);
  }
}

/** Describes a value for an error message: `-1` (number), `"x"` (string). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value)} (string)`;
  if (typeof value === 'bigint') return `${value}n (bigint)`;
  if (value === null) return 'null';
  if (value instanceof Date) return `${Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()} (Date)`;
  if (typeof value === 'object') return `${Object.prototype.toString.call(value)}`;
  return `${String(value)} (${typeof value})`;
}
