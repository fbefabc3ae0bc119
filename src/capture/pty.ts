/**
 * Loading node-pty, the optional pseudo-terminal library, on demand: only a
 * `--tty` capture needs it, so a missing or broken native build makes `--tty`
 * fail with one clear message and leaves pipe mode untouched.
 */
import { createRequire } from 'node:module';
import { SandlogError } from '../errors.js';

/** The part of node-pty's terminal that capture uses. */
export interface PtyProcess {
  readonly pid: number;
  onData(listener: (data: Buffer) => void): { dispose(): void };
  onExit(listener: (event: { exitCode: number; signal?: number }) => void): { dispose(): void };
  write(data: string | Buffer): void;
  resize(columns: number, rows: number): void;
  pause(): void;
  resume(): void;
  kill(signal?: string): void;
}

interface PtyModule {
  spawn(
    file: string,
    args: string[],
    options: { name: string; cols: number; rows: number; cwd: string; env: Record<string, string>; encoding: null },
  ): PtyProcess;
}

/** `--tty` was asked for but node-pty cannot be loaded here. */
export class PtyUnavailableError extends SandlogError {
  constructor(reason: string, cause: unknown) {
    super(
      'PTY_UNAVAILABLE',
      `--tty needs the optional dependency node-pty, which cannot be loaded here (${reason}); run without --tty to capture through pipes`,
      { cause },
    );
  }
}

let loaded: PtyModule | undefined;

/** node-pty, loaded on first use; throws {@link PtyUnavailableError} when it cannot be. */
export function loadPty(): PtyModule {
  if (loaded !== undefined) return loaded;
  try {
    const require = createRequire(import.meta.url);
    loaded = require('node-pty') as PtyModule;
    return loaded;
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0] ?? String(error);
    throw new PtyUnavailableError(reason, error);
  }
}
