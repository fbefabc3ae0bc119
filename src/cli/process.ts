/**
 * The `sandlog` process: wires it (argv, stdio, signals, exit code) to the
 * CLI in main.ts. `src/cli.ts`, the executable, runs it from the bundle or
 * from these modules (bundle.ts says which).
 */
import { main } from './main.js';
import { capYoungGeneration } from './young-generation.js';

export { main } from './main.js';

/** Runs the CLI as this process: `argv` without node and the script; sets `process.exitCode`. */
export async function runProcess(argv: readonly string[]): Promise<void> {
  capYoungGeneration();

  const controller = new AbortController();
  let claimedBy: ((signal: NodeJS.Signals) => void) | undefined;
  let signals = 0;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (claimedBy !== undefined) {
        claimedBy(signal);
        return;
      }
      signals += 1;
      // A second Ctrl-C means now.
      if (signals > 1) process.exit(130);
      controller.abort(signal);
    });
  }

  // A reader that went away (`sandlog logs x | head`) is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }

  const code = await main([...argv], {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
    claimSignals: (handler) => {
      claimedBy = handler;
    },
    stdin: process.stdin,
  });
  process.exitCode = code;
}
