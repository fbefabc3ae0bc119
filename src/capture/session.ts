/**
 * What every capture mode shares: the running process as callers see it
 * ({@link CapturedProcess}), the start and exit of its session in the log,
 * and signalling its process group.
 */
import type { ChildProcess } from 'node:child_process';
import { removeBootError } from './boot-error.js';
import { exitMarker, exitStatus, startMarker, type ProcessExit } from './markers.js';
import type { PtyProcess } from './pty.js';
import type { OutputSource, SessionLog } from './session-log.js';

export interface CapturedProcessBase {
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

export function signalGroup(pid: number, signal: NodeJS.Signals, fallback: () => void): void {
  try {
    process.kill(-pid, signal);
  } catch {
    fallback();
  }
}

export function announceStart(
  log: SessionLog,
  logDir: string,
  pid: number,
  command: string,
  args: readonly string[],
): void {
  try {
    removeBootError(logDir);
  } catch (error) {
    log.diagnose(`cannot remove the stale boot-error.json: ${(error as Error).message}`);
  }
  log.system(startMarker(log.sessionId, pid, command, args));
}

export function announceExit(
  log: SessionLog,
  pid: number,
  code: number | null,
  signal: NodeJS.Signals | null,
  sources: readonly OutputSource[],
): ProcessExit {
  // Streams that were cut off (kill() after the exit) rather than ended still give back a carried partial character.
  for (const source of sources) log.endStream(source);
  const exit: ProcessExit = Object.freeze({
    code: signal === null ? code : null,
    signal,
    exitCode: exitStatus(code, signal),
  });
  log.system(exitMarker(log.sessionId, pid, exit));
  log.close();
  return exit;
}
