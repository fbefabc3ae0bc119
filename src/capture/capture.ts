/**
 * Running a process into a sandbox's logs: {@link captureProcess} starts a
 * command as the sandbox's next exec session and records everything it
 * writes in exec.log, as `sandlog run` does.
 *
 * Contracts:
 * - Exactness. Every byte the child writes is recorded once, in order per
 *   stream, one record per read: a final line without `\n`, non-UTF-8 bytes
 *   (base64 records) and output written just before exit included — the exit
 *   is only settled once both pipes (or the pty) have ended, so the exit
 *   marker is the session's last record. A character split across two reads
 *   stays whole (the writer carries it; a stream's end writes out what is left).
 * - Latency. Records go to the file within the event-loop turn that read them.
 * - Sessions. One writer per sandbox (a lock file, see lock.ts); the session
 *   id is one more than the highest retained id (session-id.ts).
 * - Lifecycle. A `system` start marker naming the command and pid, and an
 *   exit marker with the code or the signal (markers.ts); runtime.log gets the
 *   same, plus rotations and write errors.
 * - Start failures reject with {@link CommandStartError} (exit status 127 or
 *   126) after writing boot-error.json and a runtime.log line; a successful
 *   start removes an old boot-error.json.
 * - Processes. In pipe mode the child runs in a session and process group of
 *   its own, as in a container: a terminal's Ctrl-C reaches it only through
 *   {@link CapturedProcess.kill} (which signals the whole group), so each
 *   signal arrives once. Under a pty the child leads the pty's session.
 * - Write errors (a full disk) stop the recording of that session, are
 *   reported through `onWarning` and runtime.log, and never stop the child or
 *   the pass-through.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { OptionsError, describeValue } from '../errors.js';
import { locateTarget, type LogTarget } from '../files/layout.js';
import { TextLogWriter, type ExecLogWriterOptions } from '../files/writer.js';
import { removeBootError, writeBootError } from './boot-error.js';
import { acquireWriterLock } from './lock.js';
import { exitMarker, exitStatus, signalName, startMarker, type ProcessExit } from './markers.js';
import { loadPty, type PtyProcess } from './pty.js';
import { PassThrough } from './pass-through.js';
import { SessionLog, type OutputSource } from './session-log.js';
import { checkWorkingDirectory, CommandStartError, resolveExecutable, spawnFailure } from './start-failure.js';

export { CommandStartError, EXIT_COMMAND_NOT_FOUND, EXIT_COMMAND_NOT_RUNNABLE } from './start-failure.js';
export { PtyUnavailableError, type PtyProcess } from './pty.js';
export { WRITER_LOCK_FILE } from './lock.js';
export type { ProcessExit } from './markers.js';

/** Options of {@link captureProcess}. */
export interface CaptureOptions {
  /**
   * Home holding `sandboxes/` when the target is a sandbox name.
   * @default $MSB_HOME, else ~/.microsandbox
   */
  home?: string;
  /**
   * Rotate exec.log before it would grow past this many bytes.
   * @default 10485760 (10 MiB)
   */
  maxBytes?: number;
  /**
   * Rotated files kept (`exec.log.1` … `exec.log.N`).
   * @default 4
   */
  maxFiles?: number;
  /**
   * Working directory of the command.
   * @default process.cwd()
   */
  cwd?: string;
  /**
   * The command's whole environment.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Run under a pseudo-terminal (node-pty): output is recorded as `output`,
   * stdout and stderr merged as a terminal shows them.
   * @default false
   */
  tty?: boolean;
  /**
   * Terminal width and height under `tty` (change them later with
   * {@link CapturedProcess.resize}).
   * @default 80 and 24
   */
  columns?: number;
  rows?: number;
  /**
   * The command's standard input: `'ignore'` (end of file at once), `'pipe'`
   * (write to `child.stdin` yourself; pipe mode only), or a stream forwarded
   * to it (ended with it; under a pty, its end is sent as Ctrl-D).
   * @default 'ignore'
   */
  stdin?: 'ignore' | 'pipe' | NodeJS.ReadableStream;
  /** Where to pass the command's stdout (under a pty: all its output) through to, as it arrives. */
  stdout?: NodeJS.WritableStream;
  /** Where to pass the command's stderr through to, as it arrives (pipe mode). */
  stderr?: NodeJS.WritableStream;
  /** Told about problems that do not stop the capture (a log write that failed). */
  onWarning?: (message: string) => void;
}

interface ResolvedCaptureOptions {
  readonly home: string | undefined;
  readonly writer: ExecLogWriterOptions;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly tty: boolean;
  readonly columns: number;
  readonly rows: number;
  readonly stdin: 'ignore' | 'pipe' | NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream | undefined;
  readonly stderr: NodeJS.WritableStream | undefined;
  readonly onWarning: (message: string) => void;
}

function terminalDimension(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > 65535) {
    throw new OptionsError(`Expected the \`${name}\` option to be an integer from 1 to 65535, got ${describeValue(value)}`);
  }
  return value;
}

function resolveCaptureOptions(options: CaptureOptions): ResolvedCaptureOptions {
  const tty = options.tty === true;
  const stdin = options.stdin ?? 'ignore';
  if (tty && stdin === 'pipe') throw new OptionsError("Expected the `stdin` option to be 'ignore' or a stream under `tty`, got \"pipe\" (string)");
  return Object.freeze({
    home: options.home,
    writer: Object.freeze({
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
      ...(options.maxFiles === undefined ? {} : { maxFiles: options.maxFiles }),
    }),
    cwd: resolve(options.cwd ?? process.cwd()),
    env: options.env ?? process.env,
    tty,
    columns: terminalDimension('columns', options.columns, 80),
    rows: terminalDimension('rows', options.rows, 24),
    stdin,
    stdout: options.stdout,
    stderr: options.stderr,
    onWarning: options.onWarning ?? (() => undefined),
  });
}

interface CapturedProcessBase {
  /** The exec session id the output is recorded under. */
  readonly sessionId: number;
  readonly pid: number;
  /** The sandbox's log directory. */
  readonly logDir: string;
  /** Settles (never rejects) once the process has exited, its output is recorded and the log is closed. */
  readonly exit: Promise<ProcessExit>;
  /**
   * Sends a signal to the process's group (default SIGTERM). After the
   * process itself has exited, it also stops waiting for descendants that
   * still hold its output open.
   */
  kill(signal?: NodeJS.Signals): void;
  /** Resizes the pseudo-terminal (no effect in pipe mode). */
  resize(columns: number, rows: number): void;
}

/** A running capture: the child, its session id, and the promise of its exit. */
export type CapturedProcess = CapturedProcessBase &
  ({ readonly mode: 'pipe'; readonly child: ChildProcess } | { readonly mode: 'tty'; readonly child: PtyProcess });

function startPiped(command: string, args: readonly string[], options: ResolvedCaptureOptions): Promise<ChildProcess> {
  return new Promise((resolveChild, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env,
        stdio: [options.stdin === 'ignore' ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (error) {
      reject(spawnFailure(command, error));
      return;
    }
    const onError = (error: Error): void => reject(spawnFailure(command, error));
    child.once('error', onError);
    child.once('spawn', () => {
      child.removeListener('error', onError);
      resolveChild(child);
    });
  });
}

function startPty(command: string, args: readonly string[], options: ResolvedCaptureOptions): PtyProcess {
  const pty = loadPty();
  const file = resolveExecutable(command, options.env, options.cwd);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env)) if (value !== undefined) env[key] = value;
  try {
    return pty.spawn(file, [...args], {
      name: env['TERM'] ?? 'xterm-256color',
      cols: options.columns,
      rows: options.rows,
      cwd: options.cwd,
      env,
      encoding: null,
    });
  } catch (error) {
    throw new CommandStartError(`cannot start ${JSON.stringify(command)} under a pseudo-terminal: ${(error as Error).message}`, {
      exitCode: 126,
      stage: 'pty',
      errorCode: (error as NodeJS.ErrnoException).code,
      cause: error,
    });
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals, fallback: () => void): void {
  try {
    process.kill(-pid, signal);
  } catch {
    fallback();
  }
}

/**
 * Runs `command` with `args` as the next exec session of `target` (a sandbox
 * name, `{ name, home }`, or `{ logDir }`; the directory is created when
 * missing), recording its output in the sandbox's exec.log.
 *
 * Resolves once the command has started. Rejects with `WriterLockedError`
 * when another live process writes this sandbox's logs,
 * {@link CommandStartError} when the command cannot be started (after writing
 * boot-error.json), `PtyUnavailableError` when `tty` is asked for and node-pty
 * cannot be loaded, `InvalidSandboxNameError` / `OptionsError` for bad input.
 */
export async function captureProcess(
  target: LogTarget,
  command: string,
  args: readonly string[] = [],
  options: CaptureOptions = {},
): Promise<CapturedProcess> {
  const resolved = resolveCaptureOptions(options);
  if (typeof command !== 'string' || command === '') throw new OptionsError(`Expected a command to run, got ${describeValue(command)}`);
  const { logDir } = locateTarget(target, resolved.home);
  mkdirSync(logDir, { recursive: true });
  const lock = acquireWriterLock(logDir);
  let runtime: TextLogWriter | undefined;
  let log: SessionLog | undefined;
  try {
    runtime = new TextLogWriter(logDir);
    log = new SessionLog(logDir, lock, runtime, resolved);
    try {
      checkWorkingDirectory(resolved.cwd);
      if (resolved.tty) return runPty(startPty(command, args, resolved), command, args, logDir, log, resolved);
      return runPiped(await startPiped(command, args, resolved), command, args, logDir, log, resolved);
    } catch (error) {
      if (error instanceof CommandStartError) {
        const line = `${error.message} (exit status ${error.exitCode})`;
        log.diagnose(line);
        try {
          writeBootError(logDir, { t: new Date().toISOString(), stage: error.stage, errno: error.errno, message: error.message });
        } catch (bootError) {
          log.diagnose(`cannot write boot-error.json: ${(bootError as Error).message}`);
        }
      }
      throw error;
    }
  } catch (error) {
    if (log !== undefined) log.close();
    else {
      runtime?.close();
      lock.release();
    }
    throw error;
  }
}

function announceStart(log: SessionLog, logDir: string, pid: number, command: string, args: readonly string[]): void {
  try {
    removeBootError(logDir);
  } catch (error) {
    log.diagnose(`cannot remove the stale boot-error.json: ${(error as Error).message}`);
  }
  log.system(startMarker(log.sessionId, pid, command, args));
}

function announceExit(log: SessionLog, pid: number, code: number | null, signal: NodeJS.Signals | null, sources: readonly OutputSource[]): ProcessExit {
  // Streams that were cut off (kill() after the exit) rather than ended still give back a carried partial character.
  for (const source of sources) log.endStream(source);
  const exit: ProcessExit = Object.freeze({ code: signal === null ? code : null, signal, exitCode: exitStatus(code, signal) });
  log.system(exitMarker(log.sessionId, pid, exit));
  log.close();
  return exit;
}

function runPiped(
  child: ChildProcess,
  command: string,
  args: readonly string[],
  logDir: string,
  log: SessionLog,
  options: ResolvedCaptureOptions,
): CapturedProcess {
  const pid = child.pid!;
  announceStart(log, logDir, pid, command, args);
  child.on('error', (error) => options.onWarning(`child process ${pid}: ${error.message}`));

  const input = typeof options.stdin === 'object' ? options.stdin : undefined;
  if (input !== undefined && child.stdin !== null) {
    // The child may exit without reading everything: that is its business, not an error.
    child.stdin.on('error', () => undefined);
    input.pipe(child.stdin);
  }

  const pump = (stream: Readable, source: 'stdout' | 'stderr', sink: PassThrough): void => {
    const pause = (): void => {
      stream.pause();
    };
    const resume = (): void => {
      stream.resume();
    };
    stream.on('data', (chunk: Buffer) => {
      log.record(source, chunk);
      sink.write(chunk, pause, resume);
    });
    stream.once('end', () => log.endStream(source));
  };
  pump(child.stdout!, 'stdout', new PassThrough(options.stdout));
  pump(child.stderr!, 'stderr', new PassThrough(options.stderr));

  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  // 'close' comes after the exit and after both pipes have ended: nothing the child wrote is still in flight.
  const exit = new Promise<ProcessExit>((resolveExit) => {
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (input !== undefined && child.stdin !== null) {
        input.unpipe(child.stdin);
        child.stdin.destroy();
      }
      resolveExit(announceExit(log, pid, code, signal, ['stdout', 'stderr']));
    });
  });

  return {
    mode: 'pipe',
    child,
    pid,
    sessionId: log.sessionId,
    logDir,
    exit,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      signalGroup(pid, signal, () => child.kill(signal));
      if (exited) {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }
    },
    resize() {
      // pipes have no size
    },
  };
}

function runPty(
  term: PtyProcess,
  command: string,
  args: readonly string[],
  logDir: string,
  log: SessionLog,
  options: ResolvedCaptureOptions,
): CapturedProcess {
  const pid = term.pid;
  announceStart(log, logDir, pid, command, args);
  const sink = new PassThrough(options.stdout);
  const pause = (): void => term.pause();
  const resume = (): void => term.resume();
  term.onData((chunk) => {
    log.record('output', chunk);
    sink.write(chunk, pause, resume);
  });

  const input = typeof options.stdin === 'object' ? options.stdin : undefined;
  const forward = (chunk: Buffer | string): void => term.write(chunk);
  // End of input is what Ctrl-D says at a terminal.
  const endOfInput = (): void => term.write('\u0004');
  if (input !== undefined) {
    input.on('data', forward);
    input.once('end', endOfInput);
  }

  // node-pty reports the exit only after the pty has been read to its end.
  const exit = new Promise<ProcessExit>((resolveExit) => {
    term.onExit(({ exitCode, signal }) => {
      if (input !== undefined) {
        input.removeListener('data', forward);
        input.removeListener('end', endOfInput);
        input.pause();
      }
      const name = signal === undefined || signal === 0 ? null : signalName(signal);
      resolveExit(announceExit(log, pid, exitCode, name, ['output']));
    });
  });

  return {
    mode: 'tty',
    child: term,
    pid,
    sessionId: log.sessionId,
    logDir,
    exit,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      signalGroup(pid, signal, () => term.kill(signal));
    },
    resize(columns: number, rows: number) {
      try {
        term.resize(columns, rows);
      } catch {
        // the pty is gone already
      }
    },
  };
}
