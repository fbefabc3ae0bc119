#!/usr/bin/env node
/**
 * The `sandlog` executable: runs the CLI's process (src/cli/process.ts) from
 * its bundle when the build made one (cli/bundle.cts says why), else from its
 * modules. `SANDLOG_NO_BUNDLE=1` runs the modules. CommonJS, so that a run
 * from the bundle never starts Node's ES module loader.
 */
import { loadBundle } from './cli/bundle.cjs';

const bundle = process.env['SANDLOG_NO_BUNDLE'] === '1' ? undefined : loadBundle();
const loaded: Promise<Pick<typeof import('./cli/process.js', { with: { 'resolution-mode': 'import' }}), 'runProcess'>> =
  bundle === undefined ? import('./cli/process.js') : Promise.resolve(bundle.exports);
void loaded.then(({ runProcess }) => runProcess(process.argv.slice(2)));
