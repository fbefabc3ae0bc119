/**
 * The demo's chatty sandbox: sessions that print coloured progress to stdout,
 * warnings to stderr and lifecycle markers, into a real rotating exec.log
 * with a small rotation size so that rotation happens every few seconds.
 */
import { ExecLogWriter, TextLogWriter } from '../files/writer.js';

const GREEN = '\u001b[32m';
const YELLOW = '\u001b[33m';
const RESET = '\u001b[0m';

const TASKS = ['fetching dataset', 'compiling model', 'running tests', 'resizing images', 'indexing documents'];

/** Starts producing into `logDir`; returns a function that stops it. */
export function startDemoProducer(logDir: string, intervalMs = 120): () => void {
  const runtime = new TextLogWriter(logDir);
  const writer = new ExecLogWriter(logDir, {
    maxBytes: 16 * 1024,
    onRotate: ({ rotation }) => runtime.append(`INFO exec.log rotated (${rotation})`),
  });
  let session = 0;
  let step = 0;
  let task = '';

  const startSession = (): void => {
    session += 1;
    step = 0;
    task = TASKS[session % TASKS.length]!;
    writer.system(`session ${session} started: ${task}`);
    runtime.append(`INFO exec session ${session} started`);
  };
  startSession();

  const timer = setInterval(() => {
    step += 1;
    const percent = Math.min(100, step * 5);
    const filled = Math.floor(percent / 10);
    writer.write(
      'stdout',
      `${GREEN}${task}${RESET} ${'█'.repeat(filled)}${'░'.repeat(10 - filled)} ${percent}%\n`,
      session,
    );
    if (step % 7 === 0)
      writer.write(
        'stderr',
        `${YELLOW}warning:${RESET} ${task} is taking longer than expected (step ${step})\n`,
        session,
      );
    if (percent === 100) {
      writer.write('stdout', `done: ${task} ✓\n`, session);
      writer.system(`session ${session} exited with code 0`);
      startSession();
    }
  }, intervalMs);

  return () => {
    clearInterval(timer);
    writer.system(`session ${session} stopped by demo`);
    writer.close();
    runtime.close();
  };
}
