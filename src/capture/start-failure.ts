/**
 * Why a command could not be started, and the exit status that says so. As a
 * shell does: 127 when the command is not found, 126 when it is found but
 * cannot be run (not executable, a directory, an unknown binary format). A
 * working directory that does not exist (or is not a directory) is also 126:
 * the command may well exist, it just cannot be started there — and 127 stays
 * an unambiguous "no such command" for scripts.
 *
 * Node's own spawn reports a missing working directory as ENOENT, the same as
 * a missing command, and node-pty reports nothing at all until the child has
 * failed, so the working directory is checked (and, for a pty, the command
 * looked up on PATH) before anything is spawned.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { SandlogError } from '../errors.js';
import type { BootStage } from './boot-error.js';

/** Exit status when the command does not exist. */
export const EXIT_COMMAND_NOT_FOUND = 127;
/** Exit status when the command exists but cannot be started (or not in that directory). */
export const EXIT_COMMAND_NOT_RUNNABLE = 126;

/** The command could not be started; `exitCode` is 127 or 126 and boot-error.json says why. */
export class CommandStartError extends SandlogError {
  readonly exitCode: number;
  readonly stage: BootStage;
  /** The error code (`ENOENT`, `EACCES`…), when the system gave one. */
  readonly errorCode: string | undefined;
  /** The positive error number for that code, or null. */
  readonly errno: number | null;

  constructor(
    message: string,
    details: { exitCode: number; stage: BootStage; errorCode: string | undefined; cause?: unknown },
  ) {
    super('COMMAND_START_FAILED', message, details.cause === undefined ? undefined : { cause: details.cause });
    this.exitCode = details.exitCode;
    this.stage = details.stage;
    this.errorCode = details.errorCode;
    const number =
      details.errorCode === undefined ? undefined : (osConstants.errno as Record<string, number>)[details.errorCode];
    this.errno = number ?? null;
  }
}

function describeCode(code: string | undefined): string {
  switch (code) {
    case 'ENOENT':
      return 'command not found';
    case 'EACCES':
      return 'permission denied (not executable?)';
    case 'ENOEXEC':
      return 'not an executable format';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a path component is not a directory';
    default:
      return code ?? 'unknown error';
  }
}

/** Turns an error from `child_process.spawn` into a {@link CommandStartError}. */
export function spawnFailure(command: string, error: unknown): CommandStartError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = describeCode(code);
  const suffix = code === undefined || why === code ? '' : ` (${code})`;
  return new CommandStartError(`cannot start ${JSON.stringify(command)}: ${why}${suffix}`, {
    exitCode: code === 'ENOENT' ? EXIT_COMMAND_NOT_FOUND : EXIT_COMMAND_NOT_RUNNABLE,
    stage: 'spawn',
    errorCode: code,
    cause: error,
  });
}

/** Throws a {@link CommandStartError} (126) unless `cwd` is a directory we can enter. */
export function checkWorkingDirectory(cwd: string): void {
  let code: string | undefined;
  try {
    if (!statSync(cwd).isDirectory()) code = 'ENOTDIR';
    else accessSync(cwd, constants.X_OK);
  } catch (error) {
    code = (error as NodeJS.ErrnoException).code ?? 'EACCES';
  }
  if (code === undefined) return;
  const why =
    code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : `cannot be entered (${code})`;
  throw new CommandStartError(`cannot start in working directory ${cwd}: it ${why}`, {
    exitCode: EXIT_COMMAND_NOT_RUNNABLE,
    stage: 'cwd',
    errorCode: code,
  });
}

function runnable(path: string): string | undefined {
  try {
    const info = statSync(path);
    if (info.isDirectory()) return 'EISDIR';
    accessSync(path, constants.X_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EACCES';
  }
}

/**
 * The path `execvp` would run for `command` (looked up on `PATH` when it has
 * no `/`), or a {@link CommandStartError}: 127 when nothing is found, 126 when
 * only something not executable is.
 */
export function resolveExecutable(command: string, env: NodeJS.ProcessEnv, cwd: string): string {
  const fail = (code: string): never => {
    throw spawnFailure(command, Object.assign(new Error(code), { code }));
  };
  if (command === '') return fail('ENOENT');
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : resolve(cwd, command);
    const problem = runnable(path);
    return problem === undefined ? path : fail(problem);
  }
  let firstProblem: string | undefined;
  for (const directory of (env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const candidate = resolve(cwd, join(directory === '' ? '.' : directory, command));
    const problem = runnable(candidate);
    if (problem === undefined) return candidate;
    // As execvp: a file that exists but cannot be run is reported only if nothing better is found.
    if (problem !== 'ENOENT' && problem !== 'ENOTDIR' && firstProblem === undefined) firstProblem = problem;
  }
  return fail(firstProblem ?? 'ENOENT');
}
