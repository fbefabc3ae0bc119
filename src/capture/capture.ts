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
import { mkdirSync } from 'node:fs';
import { OptionsError, describeValue } from '../errors.js';
import { locateTarget, type LogTarget } from '../files/layout.js';
import { TextLogWriter } from '../files/writer.js';
import { writeBootError } from './boot-error.js';
import { acquireWriterLock } from './lock.js';
import { resolveCaptureOptions, type CaptureOptions } from './options.js';
import { runPiped, startPiped } from './piped.js';
import { runPty, startPty } from './pty-mode.js';
import type { CapturedProcess } from './session.js';
import { SessionLog } from './session-log.js';
import { checkWorkingDirectory, CommandStartError } from './start-failure.js';

export { CommandStartError, EXIT_COMMAND_NOT_FOUND, EXIT_COMMAND_NOT_RUNNABLE } from './start-failure.js';
export { PtyUnavailableError, type PtyProcess } from './pty.js';
export { WRITER_LOCK_FILE } from './lock.js';
export type { ProcessExit } from './markers.js';
export type { CaptureOptions } from './options.js';
export type { CapturedProcess } from './session.js';

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
  if (typeof command !== 'string' || command === '')
    throw new OptionsError(`Expected a command to run, got ${describeValue(command)}`);
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
          writeBootError(logDir, {
            t: new Date().toISOString(),
            stage: error.stage,
            errno: error.errno,
            message: error.message,
          });
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
