/**
 * The options of {@link captureProcess}: what a caller may set, and the
 * complete, frozen form the rest of capture works with.
 */
import { resolve } from 'node:path';
import { OptionsError, describeValue } from '../errors.js';
import type { ExecLogWriterOptions } from '../files/writer.js';

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

export interface ResolvedCaptureOptions {
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
    throw new OptionsError(
      `Expected the \`${name}\` option to be an integer from 1 to 65535, got ${describeValue(value)}`,
    );
  }
  return value;
}

export function resolveCaptureOptions(options: CaptureOptions): ResolvedCaptureOptions {
  const tty = options.tty === true;
  const stdin = options.stdin ?? 'ignore';
  if (tty && stdin === 'pipe')
    throw new OptionsError('Expected the `stdin` option to be \'ignore\' or a stream under `tty`, got "pipe" (string)');
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
