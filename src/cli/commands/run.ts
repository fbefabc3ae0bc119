/**
 * `sandlog run`: run a command as a sandbox's next exec session, show its
 * output live (as `docker run` does when attached) and record it in the
 * sandbox's logs. The work is {@link captureProcess}'s; this file maps flags
 * to its options and owns the terminal: raw mode under `--tty` (restored
 * however the run ends), the window size, signals, and `--detach`.
 *
 * `--detach` starts a copy of this command in the background (its own
 * session, no terminal) that does the capture, waits until it reports that
 * the command started — or why it could not — over its stdout, prints
 * the command's pid and leaves.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { captureProcess, CommandStartError, type CaptureOptions, type CapturedProcess } from '../../capture/capture.js';
import { packagePath } from '../../package-paths.js';
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_ROTATED_FILES } from '../../files/writer.js';
import { locateTarget, type LogTarget } from '../../files/layout.js';
import {
  booleanFlag,
  integerFlag,
  listFlag,
  stringFlag,
  UsageError,
  type CommandContext,
  type CommandSpec,
  type ParsedArgs,
  HOME_OPTION,
} from '../args.js';
import { EXIT_FAILURE, EXIT_OK, exitCodeFor, messageFor } from '../exit.js';

// Set in the background copy started by --detach. It reports on its stdout, a pipe to the foreground:
// the command gets pipes of its own as fds 0-2, so that pipe does not leak into it, as another fd would.
const DETACHED_ENV = 'SANDLOG_DETACHED';
const STATUS_FD = 1;
const CLI_PATH = packagePath('dist', 'cli.cjs');

export const runCommand: CommandSpec = {
  name: 'run',
  summary: "Run a command, show its output and record it in a sandbox's logs.",
  usage: 'run [options] <name> -- <command> [args…]\n       sandlog run [options] --log-dir DIR -- <command> [args…]',
  options: [
    {
      name: 'tty',
      short: 't',
      type: 'boolean',
      description: 'Run under a pseudo-terminal (output recorded as "output"; needs node-pty)',
    },
    { name: 'quiet', short: 'q', type: 'boolean', description: 'Record only: do not pass the output through' },
    { name: 'detach', short: 'd', type: 'boolean', description: 'Run in the background, record only, print the pid' },
    { name: 'cwd', type: 'string', value: 'DIR', description: 'Working directory of the command' },
    {
      name: 'env',
      short: 'e',
      type: 'string',
      multiple: true,
      value: 'K=V',
      description: 'Set an environment variable (repeatable)',
    },
    {
      name: 'max-bytes',
      type: 'string',
      value: 'N',
      description: `Rotate exec.log at N bytes (default ${DEFAULT_MAX_FILE_BYTES})`,
    },
    {
      name: 'max-files',
      type: 'string',
      value: 'N',
      description: `Rotated files to keep (default ${DEFAULT_MAX_ROTATED_FILES})`,
    },
    HOME_OPTION,
    {
      name: 'log-dir',
      type: 'string',
      value: 'DIR',
      description: 'Write to this log directory directly (no name needed)',
    },
  ],
  details: [
    'Examples:',
    '  sandlog run web-1 -- node server.js',
    '  echo hello | sandlog run box -- cat',
    '  sandlog run box --tty -- bash',
    '  sandlog run worker -d --max-bytes 1048576 -- ./worker.sh',
    '',
    'Signals sent to sandlog (SIGINT, SIGTERM, SIGHUP) are passed to the command.',
    "Exit status: the command's own; 128+N when signal N killed it; 127 command not",
    'found; 126 command not executable or --cwd unusable; 1 sandlog error (another',
    'writer holds the sandbox, --tty without node-pty); 2 usage error.',
  ].join('\n'),
  run: runRun,
};

/** What the command line asks for, checked. */
interface RunRequest {
  readonly target: LogTarget;
  /** The target as flags, to hand on to a detached copy. */
  readonly targetFlags: readonly string[];
  readonly command: string;
  readonly args: readonly string[];
  readonly tty: boolean;
  readonly quiet: boolean;
  readonly detach: boolean;
  readonly cwd: string | undefined;
  readonly env: readonly string[];
  readonly maxBytes: number | undefined;
  readonly maxFiles: number | undefined;
  readonly home: string | undefined;
}

function parseRequest(args: ParsedArgs): RunRequest {
  const logDir = stringFlag(args, 'log-dir');
  const home = stringFlag(args, 'home');
  const words = [...args.positionals];
  let target: LogTarget;
  let targetFlags: string[];
  if (logDir !== undefined) {
    if (home !== undefined) throw new UsageError('--log-dir and --home cannot be used together');
    target = { logDir };
    targetFlags = ['--log-dir', resolve(logDir)];
  } else {
    const name = words.shift();
    if (name === undefined)
      throw new UsageError('Expected a sandbox name (or --log-dir DIR), then -- and the command to run');
    // Validates the name now: a bad one is a usage error, before anything runs.
    locateTarget({ name, ...(home === undefined ? {} : { home }) }, home);
    target = home === undefined ? { name } : { name, home };
    targetFlags = [name, ...(home === undefined ? [] : ['--home', resolve(home)])];
  }
  if (args.rest.length > 0 && words.length > 0) {
    throw new UsageError(`Unexpected argument ${JSON.stringify(words[0])} before --`);
  }
  const commandLine = args.rest.length > 0 ? args.rest : words;
  const [command, ...commandArgs] = commandLine;
  if (command === undefined || command === '') throw new UsageError('Expected a command to run after --');
  const env = listFlag(args, 'env');
  for (const assignment of env) {
    if (!/^[^=]+=/.test(assignment))
      throw new UsageError(`Expected --env to be K=V, got ${JSON.stringify(assignment)}`);
  }
  const tty = booleanFlag(args, 'tty');
  const detach = booleanFlag(args, 'detach');
  if (tty && detach)
    throw new UsageError('--tty and --detach cannot be used together (a detached run has no terminal)');
  const cwd = stringFlag(args, 'cwd');
  return {
    target,
    targetFlags,
    command,
    args: commandArgs,
    tty,
    quiet: booleanFlag(args, 'quiet'),
    detach,
    cwd: cwd === undefined ? undefined : resolve(cwd),
    env,
    maxBytes: integerFlag(args, 'max-bytes', 1),
    maxFiles: integerFlag(args, 'max-files', 0),
    home,
  };
}

function childEnvironment(request: RunRequest, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  delete env[DETACHED_ENV];
  for (const assignment of request.env) {
    const equals = assignment.indexOf('=');
    env[assignment.slice(0, equals)] = assignment.slice(equals + 1);
  }
  return env;
}

type TerminalInput = CommandContext['stdin'];

/** Puts a terminal stdin in raw mode (keys go to the pty as typed); returns how to undo it, once. */
function enterRawMode(stdin: TerminalInput): () => void {
  if (stdin.isTTY !== true || typeof stdin.setRawMode !== 'function') return () => undefined;
  stdin.setRawMode(true);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    process.removeListener('exit', restore);
    try {
      stdin.setRawMode?.(false);
    } catch {
      // the terminal is gone
    }
  };
  // Whatever ends this process, the user's terminal must not stay raw.
  process.once('exit', restore);
  return restore;
}

/**
 * While output is passed through, a reader that goes away (`sandlog run x -- cmd | head`) must not end
 * sandlog as it ends other commands: the command keeps running and being recorded, as a container does
 * when its attached client leaves; only the pass-through stops (capture's sinks handle their errors).
 * Returns how to put the process-wide handlers back.
 */
function keepRunningOnClosedOutput(streams: readonly NodeJS.WritableStream[]): () => void {
  const saved = streams.map((stream) => {
    const listeners = stream.listeners('error') as ((...args: unknown[]) => void)[];
    stream.removeAllListeners('error');
    return { stream, listeners };
  });
  return () => {
    for (const { stream, listeners } of saved) for (const listener of listeners) stream.on('error', listener);
  };
}

function stopReading(stdin: TerminalInput): void {
  stdin.pause();
  (stdin as { destroy?: () => void }).destroy?.();
}

async function runRun(args: ParsedArgs, context: CommandContext): Promise<number> {
  const request = parseRequest(args);
  if (request.detach) return startDetached(request, context);
  const detachedCopy = context.env[DETACHED_ENV] === '1';

  const stdout = context.stdout as NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  const options: CaptureOptions = {
    ...(request.home === undefined ? {} : { home: request.home }),
    ...(request.maxBytes === undefined ? {} : { maxBytes: request.maxBytes }),
    ...(request.maxFiles === undefined ? {} : { maxFiles: request.maxFiles }),
    ...(request.cwd === undefined ? {} : { cwd: request.cwd }),
    env: childEnvironment(request, context.env),
    tty: request.tty,
    stdin: detachedCopy ? 'ignore' : context.stdin,
    onWarning: (message) => context.stderr.write(`sandlog: ${message}\n`),
  };
  let restoreOutputHandlers = (): void => undefined;
  if (!request.quiet && !detachedCopy) {
    options.stdout = context.stdout;
    options.stderr = context.stderr;
    restoreOutputHandlers = keepRunningOnClosedOutput([context.stdout, context.stderr]);
  }
  if (request.tty && stdout.isTTY === true && stdout.columns !== undefined && stdout.rows !== undefined) {
    options.columns = stdout.columns;
    options.rows = stdout.rows;
  }

  // Signals that arrive while the command is starting are passed on as soon as it has.
  let capture: CapturedProcess | undefined;
  const early: NodeJS.Signals[] = [];
  context.claimSignals((signal) => {
    if (capture === undefined) early.push(signal);
    else capture.kill(signal);
  });

  const restoreTerminal = request.tty ? enterRawMode(context.stdin) : () => undefined;
  const onResize = (): void => {
    if (stdout.columns !== undefined && stdout.rows !== undefined) capture?.resize(stdout.columns, stdout.rows);
  };
  try {
    try {
      capture = await captureProcess(request.target, request.command, request.args, options);
    } catch (error) {
      if (detachedCopy) reportToForeground({ error: messageFor(error, context.env), exitCode: startExitCode(error) });
      if (error instanceof CommandStartError) {
        context.stderr.write(`sandlog: ${error.message}\n`);
        return error.exitCode;
      }
      throw error;
    }
    if (detachedCopy) reportToForeground({ pid: capture.pid, sessionId: capture.sessionId });
    for (const signal of early) capture.kill(signal);
    if (request.tty) stdout.on('resize', onResize);
    const exit = await capture.exit;
    return exit.exitCode;
  } finally {
    restoreOutputHandlers();
    stdout.removeListener('resize', onResize);
    restoreTerminal();
    if (!detachedCopy) stopReading(context.stdin);
  }
}

function startExitCode(error: unknown): number {
  return error instanceof CommandStartError ? error.exitCode : exitCodeFor(error);
}

type DetachedStatus = { pid: number; sessionId: number } | { error: string; exitCode: number };

// Written once, synchronously; nothing else is ever written to this stdout.
function reportToForeground(status: DetachedStatus): void {
  try {
    writeSync(STATUS_FD, `${JSON.stringify(status)}\n`);
  } catch {
    // the foreground gave up waiting; the capture goes on regardless
  }
}

/** Starts the capture in a background copy of sandlog; prints the command's pid once it runs. */
async function startDetached(request: RunRequest, context: CommandContext): Promise<number> {
  const flags = [...request.targetFlags];
  if (request.cwd !== undefined) flags.push('--cwd', request.cwd);
  for (const assignment of request.env) flags.push('--env', assignment);
  if (request.maxBytes !== undefined) flags.push('--max-bytes', String(request.maxBytes));
  if (request.maxFiles !== undefined) flags.push('--max-files', String(request.maxFiles));
  const copy = spawn(process.execPath, [CLI_PATH, 'run', '--quiet', ...flags, '--', request.command, ...request.args], {
    env: { ...context.env, [DETACHED_ENV]: '1' },
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  });
  const statusPipe = copy.stdout!;
  const status = await new Promise<DetachedStatus | string>((resolveStatus) => {
    let text = '';
    const settle = (): void => {
      try {
        resolveStatus(JSON.parse(text) as DetachedStatus);
      } catch {
        resolveStatus(text.trim());
      }
    };
    statusPipe.setEncoding('utf8');
    statusPipe.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) settle();
    });
    statusPipe.on('end', settle);
    copy.once('error', (error) => resolveStatus(`cannot start the background capture: ${error.message}`));
  });
  statusPipe.destroy();
  copy.unref();
  if (typeof status === 'string') {
    context.stderr.write(
      `sandlog: ${status === '' ? 'the background capture ended before starting the command' : status}\n`,
    );
    return EXIT_FAILURE;
  }
  if ('error' in status) {
    context.stderr.write(`sandlog: ${status.error}\n`);
    return status.exitCode;
  }
  context.stdout.write(`${status.pid}\n`);
  return EXIT_OK;
}
