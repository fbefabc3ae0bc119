#!/usr/bin/env node
/**
 * The `sandlog` executable: wires the process (argv, stdio, signals, exit
 * code) to the CLI in src/cli/main.ts.
 */
import { main } from './cli/main.js';
import { capYoungGeneration } from './cli/young-generation.js';

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

const code = await main(process.argv.slice(2), {
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
