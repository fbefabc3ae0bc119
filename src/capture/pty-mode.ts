/**
 * Pty mode: the command runs under a pseudo-terminal (node-pty), its output
 * recorded as `output` (stdout and stderr merged as a terminal shows them).
 */
import { signalName, type ProcessExit } from './markers.js';
import type { ResolvedCaptureOptions } from './options.js';
import { PassThrough } from './pass-through.js';
import { loadPty, type PtyProcess } from './pty.js';
import { announceExit, announceStart, signalGroup, type CapturedProcess } from './session.js';
import type { SessionLog } from './session-log.js';
import { CommandStartError, resolveExecutable } from './start-failure.js';

export function startPty(command: string, args: readonly string[], options: ResolvedCaptureOptions): PtyProcess {
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
    throw new CommandStartError(
      `cannot start ${JSON.stringify(command)} under a pseudo-terminal: ${(error as Error).message}`,
      {
        exitCode: 126,
        stage: 'pty',
        errorCode: (error as NodeJS.ErrnoException).code,
        cause: error,
      },
    );
  }
}

export function runPty(
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
