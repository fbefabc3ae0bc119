/**
 * The `sandlog` process: wires it (argv, stdio, signals, exit code) to the
 * CLI in main.ts. `src/cli.ts`, the executable, runs it from the bundle or
 * from these modules (bundle.ts says which).
 */
import { main } from './main.js';
import { capYoungGeneration } from './young-generation.js';

export { main } from './main.js';

/** How long a command runs before the young generation is capped (see runProcess). */
const CAP_AFTER_MS = 30;

/** Runs the CLI as this process: `argv` without node and the script; sets `process.exitCode`. */
export async function runProcess(argv: readonly string[]): Promise<void> {
  // The cap matters only to a command that allocates for a while (a big read), and loading what it
  // needs (node:v8, node:perf_hooks) costs ~2 ms of every start: it is put in place once the command
  // has run for CAP_AFTER_MS, which a `--tail 100` does not, and before a big read grows the young
  // generation past the cap (young-generation.ts).
  setTimeout(capYoungGeneration, CAP_AFTER_MS).unref();

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
    // Made on first use: creating process.stdin costs ~1 ms, and only `run` reads it.
    get stdin() {
      return process.stdin;
    },
  });
  process.exitCode = code;
}
