/**
 * Exit codes, decided in one place: 0 success; 1 runtime errors (not found,
 * invalid cursor, missed rotation, I/O); 2 usage errors (bad flag values,
 * unknown sources, invalid regular expressions, invalid sandbox names).
 * Expected errors print one line, never a stack trace.
 */
import { InvalidSandboxNameError, OptionsError, SandlogError, oneLine } from '../errors.js';
import { UsageError } from './args.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The exit code for an error. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof OptionsError || error instanceof InvalidSandboxNameError)
    return EXIT_USAGE;
  return EXIT_FAILURE;
}

/** The one line printed for an error (without the `sandlog: ` prefix). */
export function messageFor(error: unknown, env: NodeJS.ProcessEnv): string {
  if (error instanceof SandlogError) return oneLine(error.message);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && (error as Error).message !== undefined) return oneLine((error as Error).message);
  // Unexpected: still one line unless asked for the stack.
  if (env['SANDLOG_DEBUG'] !== undefined && error instanceof Error && error.stack !== undefined) return error.stack;
  return `unexpected error: ${oneLine(error instanceof Error ? error.message : String(error))}`;
}
