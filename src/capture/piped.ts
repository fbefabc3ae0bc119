/**
 * Pipe mode: the command runs in a session and process group of its own with
 * stdout and stderr on pipes, each recorded as its own source and passed
 * through as it arrives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { ProcessExit } from './markers.js';
import type { ResolvedCaptureOptions } from './options.js';
import { PassThrough } from './pass-through.js';
import { announceExit, announceStart, signalGroup, type CapturedProcess } from './session.js';
import type { SessionLog } from './session-log.js';
import { spawnFailure } from './start-failure.js';

export function startPiped(
  command: string,
  args: readonly string[],
  options: ResolvedCaptureOptions,
): Promise<ChildProcess> {
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

export function runPiped(
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
