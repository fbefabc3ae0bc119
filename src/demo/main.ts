/**
 * `npm start`: a demo a newcomer understands in seconds. A built-in program
 * writes chatty output into a demo home inside the project folder
 * (.sandlog-demo/, ignored by git), rotating every few seconds, and
 * `sandlog serve` shows it live in the web viewer: the address printed is
 * that of the demo sandbox's view. `npm start -- --terminal` follows it in
 * the terminal instead. `PORT` and `SANDLOG_DEMO_HOME` change the port and
 * the home (the tests use both).
 */
import { spawn } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sandboxLogDir } from '../files/layout.js';
import { startDemoProducer } from './producer.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const home = process.env['SANDLOG_DEMO_HOME'] || join(root, '.sandlog-demo');
const cli = join(root, 'dist', 'cli.cjs');
const terminal = process.argv.includes('--terminal');
const stop = startDemoProducer(sandboxLogDir(home, 'demo'));

const args = terminal
  ? [
      'logs',
      'demo',
      '--home',
      home,
      '-f',
      '--timestamps',
      '--color-sessions',
      '--source',
      'all',
      '--tail',
      '20',
      '--color',
      'always',
    ]
  : ['serve', '--home', home, '--port', process.env['PORT'] ?? '7070'];
process.stderr.write(
  `sandlog demo: a sandbox named "demo" is writing to ${home} (rotating every few seconds)\n` +
    `running: sandlog ${args.join(' ')}\n` +
    (terminal
      ? ''
      : 'open the address below in a browser; `npm start -- --terminal` follows it in the terminal instead.\n') +
    'Press Ctrl-C to stop.\n\n',
);

const child = spawn(process.execPath, [cli, ...args], { stdio: terminal ? 'inherit' : ['inherit', 'pipe', 'inherit'] });
// `sandlog serve` prints the server's address; the demo prints its sandbox's view there instead.
let pending = '';
child.stdout?.setEncoding('utf8').on('data', (text: string) => {
  pending += text;
  for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
    const line = pending.slice(0, end);
    pending = pending.slice(end + 1);
    process.stdout.write(/^https?:\/\/\S+\/$/.test(line) ? `${line}?sandbox=demo\n` : `${line}\n`);
  }
});
const shutdown = (): void => {
  child.kill('SIGINT');
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
child.on('exit', (code) => {
  stop();
  process.exitCode = code ?? 0;
});
