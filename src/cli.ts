#!/usr/bin/env node
/**
 * The `sandlog` executable: runs the CLI's process (src/cli/process.ts) from
 * its bundle when the build made one (bundle.ts says why), else from its
 * modules. `SANDLOG_NO_BUNDLE=1` runs the modules.
 */
import { loadBundle } from './cli/bundle.js';

const bundle = process.env['SANDLOG_NO_BUNDLE'] === '1' ? undefined : loadBundle();
const { runProcess } = bundle?.exports ?? (await import('./cli/process.js'));
await runProcess(process.argv.slice(2));
