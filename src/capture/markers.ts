/**
 * The text of lifecycle markers (`system` records in exec.log, lines in
 * runtime.log) and how a process's end becomes an exit status. Kept apart so
 * tests and readers have one place that says what the markers look like:
 *
 *     exec session 3 started (pid 4242): make test
 *     exec session 3 exited with code 2 (pid 4242)
 *     exec session 3 killed by signal SIGKILL (pid 4242)
 */
import { constants } from 'node:os';

/** How a captured process ended. */
export interface ProcessExit {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or null. */
  readonly signal: NodeJS.Signals | null;
  /** The status a shell would report: the code, or 128 + the signal number. */
  readonly exitCode: number;
}

/** The shell-style status of an exit: `code`, or 128 + signal number. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal !== null) return 128 + (constants.signals[signal] ?? 0);
  return code ?? 0;
}

/** A signal's name from its number (node-pty reports numbers). */
export function signalName(number: number): NodeJS.Signals | null {
  for (const [name, value] of Object.entries(constants.signals)) {
    if (value === number) return name as NodeJS.Signals;
  }
  return null;
}

// Arguments a shell would read back unchanged need no quotes.
const PLAIN_ARGUMENT = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** A command line as a shell would read it back (single quotes where needed). */
export function formatCommandLine(command: string, args: readonly string[]): string {
  return [command, ...args]
    .map((word) => (PLAIN_ARGUMENT.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/** How every lifecycle marker begins; the session id follows. */
export const MARKER_PREFIX = 'exec session ';

export function startMarker(sessionId: number, pid: number, command: string, args: readonly string[]): string {
  return `${MARKER_PREFIX}${sessionId} started (pid ${pid}): ${formatCommandLine(command, args)}`;
}

export function exitMarker(sessionId: number, pid: number, exit: ProcessExit): string {
  const how = exit.signal !== null ? `killed by signal ${exit.signal}` : `exited with code ${exit.code ?? 0}`;
  return `${MARKER_PREFIX}${sessionId} ${how} (pid ${pid})`;
}
