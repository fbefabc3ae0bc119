/**
 * `npm start`: a demo a newcomer understands in seconds. A built-in program
 * writes chatty output into a demo home inside the project folder
 * (.sandlog-demo/, ignored by git), rotating every few seconds, and the real
 * CLI follows it with timestamps and session colours until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sandboxLogDir } from '../files/layout.js';
import { startDemoProducer } from './producer.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const home = join(root, '.sandlog-demo');
const stop = startDemoProducer(sandboxLogDir(home, 'demo'));

process.stderr.write(
  `sandlog demo: a sandbox named "demo" is writing to ${home}\n` +
    `following it with: sandlog logs demo --home ${home} -f --timestamps --color-sessions --source all --tail 20\n` +
    'Press Ctrl-C to stop.\n\n',
);

const follower = spawn(
  process.execPath,
  [join(root, 'dist', 'cli.js'), 'logs', 'demo', '--home', home, '-f', '--timestamps', '--color-sessions', '--source', 'all', '--tail', '20', '--color', 'always'],
  { stdio: 'inherit' },
);

const shutdown = (): void => {
  follower.kill('SIGINT');
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
follower.on('exit', (code) => {
  stop();
  process.exitCode = code ?? 0;
});
