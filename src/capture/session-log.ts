/**
 * The recording side of one capture session: exec.log (through the writer),
 * runtime.log diagnostics, and the writer lock, released last. A write that
 * fails (a full disk, a rotation that cannot rename) stops the recording of
 * the session — after one failure the writer's state cannot be trusted — and
 * is reported once, through the warning callback and runtime.log, together
 * with how many bytes went unrecorded; the command itself is never disturbed.
 */
import { ExecLogWriter, type TextLogWriter, type ExecLogWriterOptions } from '../files/writer.js';
import type { WriterLock } from './lock.js';
import { nextSessionId } from './session-id.js';

/** The sources a session's output is recorded under. */
export type OutputSource = 'stdout' | 'stderr' | 'output';

// An ExecLogWriter whose flushes (also the ones it schedules itself) report failures instead of throwing them.
class CaptureLogWriter extends ExecLogWriter {
  onFlushError: (error: unknown) => void = () => undefined;

  override flush(): void {
    try {
      super.flush();
    } catch (error) {
      this.onFlushError(error);
    }
  }
}

/** The recording side of one session: the log files, the lock, and what goes wrong with them. */
export class SessionLog {
  readonly sessionId: number;
  private readonly writer: CaptureLogWriter;
  private readonly runtime: TextLogWriter;
  private readonly lock: WriterLock;
  private readonly onWarning: (message: string) => void;
  private failed = false;
  private closed = false;
  private lostBytes = 0;

  constructor(
    logDir: string,
    lock: WriterLock,
    runtime: TextLogWriter,
    options: { writer: ExecLogWriterOptions; onWarning: (message: string) => void },
  ) {
    this.lock = lock;
    this.runtime = runtime;
    this.onWarning = options.onWarning;
    this.sessionId = nextSessionId(logDir);
    this.writer = new CaptureLogWriter(logDir, {
      ...options.writer,
      onRotate: ({ rotation }) => this.diagnose(`exec.log rotated (rotation ${rotation} of session ${this.sessionId})`),
    });
    this.writer.onFlushError = (error) => this.fail(error, 0);
  }

  /** Appends a line to runtime.log; a failure there has nowhere better to go than the warning. */
  diagnose(message: string): void {
    try {
      this.runtime.append(`sandlog: ${message}`);
    } catch (error) {
      this.onWarning(`cannot write runtime.log: ${(error as Error).message}`);
    }
  }

  record(source: OutputSource, chunk: Buffer): void {
    if (this.closed) return;
    if (this.failed) {
      this.lostBytes += chunk.length;
      return;
    }
    try {
      this.writer.write(source, chunk, this.sessionId);
    } catch (error) {
      this.fail(error, chunk.length);
    }
  }

  endStream(source: OutputSource): void {
    if (this.failed || this.closed) return;
    try {
      this.writer.endStream(source, this.sessionId);
    } catch (error) {
      this.fail(error, 0);
    }
  }

  system(message: string): void {
    this.diagnose(message);
    if (this.failed) return;
    try {
      this.writer.system(message);
      this.writer.flush();
    } catch (error) {
      this.fail(error, 0);
    }
  }

  // After one failed write the writer's state (its size, even its descriptor after a failed rotation) cannot be trusted.
  private fail(error: unknown, bytes: number): void {
    this.lostBytes += bytes;
    if (this.failed) return;
    this.failed = true;
    const message = `cannot write exec.log, recording of session ${this.sessionId} stopped: ${(error as Error).message}`;
    this.diagnose(message);
    this.onWarning(message);
  }

  /** Flushes and closes everything, releasing the lock last. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.failed) {
      // Not closed: after a failed rotation its descriptor number may already belong to another file.
      this.diagnose(`session ${this.sessionId}: ${this.lostBytes} bytes of output were not recorded`);
    } else {
      try {
        this.writer.close();
      } catch (error) {
        this.fail(error, 0);
      }
    }
    try {
      this.runtime.close();
    } catch {
      // nothing more to report it to
    }
    this.lock.release();
  }
}
