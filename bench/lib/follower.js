// One follower for the follow benchmarks, in its own process so that every
// follower is measured the same way: it follows FILE with the named tool,
// takes the write time out of each record (`ns=`), and on its end prints one
// JSON line: { delays (ms), seqs, error }.
// Usage: node follower.js KIND FILE COUNT [--slow-until FLAGFILE] [--quiet-ms N]
//   KIND: sandlog | plain-watch | gnu-tail | msb | npm-tail | logdna
//   --msb-binding PATH: microsandbox's Node binding (KIND msb; FILE must be <home>/sandboxes/<name>/logs/exec.log).
//   --poll-ms: @logdna/tail-file's poll interval (its default, 1000, unless given).
//   --slow-until: take the first batch, then read nothing until FLAGFILE exists (a stalled consumer).
//   Ends after COUNT records, or after --quiet-ms without a record once FLAGFILE (or --done FLAGFILE) exists.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { importSandlog } from './common.js';

const require = createRequire(import.meta.url);
const [kind, file, countText, ...rest] = process.argv.slice(2);
const count = Number(countText);
const option = (name) => {
  const at = rest.indexOf(name);
  return at < 0 ? undefined : rest[at + 1];
};
const slowUntil = option('--slow-until');
const doneFlag = option('--done') ?? slowUntil;
const quietMs = Number(option('--quiet-ms') ?? 1500);
const sources = option('--sources') ?? 'stdout';
const pollMs = Number(option('--poll-ms') ?? 1000);

const delays = [];
const seqs = [];
let lastRecordAt = Date.now();
let error;
let finished = false;
const SEQ = /seq=(\d+) ns=(\d+)/g;

function take(text, at) {
  SEQ.lastIndex = 0;
  for (let match = SEQ.exec(text); match !== null; match = SEQ.exec(text)) {
    seqs.push(Number(match[1]));
    delays.push(Number(at - BigInt(match[2])) / 1e6);
  }
  lastRecordAt = Date.now();
  if (seqs.length >= count) finish();
}

let stop = () => undefined;
function finish() {
  if (finished) return;
  finished = true;
  stop();
  process.stdout.write(`${JSON.stringify({ kind, delays, seqs, error })}\n`);
  setTimeout(() => process.exit(0), 50).unref();
}

// Ends the run once the producer is done and nothing arrived for a while.
setInterval(() => {
  if (doneFlag !== undefined && existsSync(doneFlag) && Date.now() - lastRecordAt > quietMs) finish();
}, 50);

async function waitForFlag(flag) {
  while (!existsSync(flag)) await new Promise((resolve) => setTimeout(resolve, 20));
}

if (kind === 'sandlog') {
  const { streamLogs } = await importSandlog();
  const controller = new AbortController();
  stop = () => controller.abort();
  const stream = streamLogs(
    { logDir: dirname(file) },
    { follow: true, signal: controller.signal, sources, pollIntervalMs: 2000 },
  );
  process.stderr.write('ready\n');
  let first = true;
  try {
    for await (const batch of stream.batches()) {
      const at = process.hrtime.bigint();
      for (const entry of batch) take(entry.text(), at);
      if (first && slowUntil !== undefined) {
        first = false;
        await waitForFlag(slowUntil);
      }
      if (finished) break;
    }
  } catch (caught) {
    error = { name: caught.name, code: caught.code, message: caught.message };
    finish();
  }
} else if (kind === 'msb') {
  // microsandbox's own follower: its binding's logStream({ follow: true }), polled with recv().
  const logDir = dirname(file);
  const home = dirname(dirname(dirname(logDir)));
  process.env.MSB_HOME = home;
  const { openMsbSandbox } = await import('./msb.js');
  const handle = await openMsbSandbox(option('--msb-binding'), home, basename(dirname(logDir)));
  const stream = await handle.logStream({ sources: sources.split(','), follow: true });
  let stopped = false;
  stop = () => {
    stopped = true;
  };
  process.stderr.write('ready\n');
  (async () => {
    while (!stopped) {
      const entry = await stream.recv();
      if (entry === null) break;
      take(entry.data.toString('utf8'), process.hrtime.bigint());
    }
  })().catch((caught) => {
    error = { name: caught.name, code: caught.code, message: caught.message };
    finish();
  });
} else if (kind === 'plain-watch') {
  // The floor for Node: fs.watch on the file, a synchronous read of what was appended, no parsing.
  const { openSync, readSync, watch } = await import('node:fs');
  const fd = openSync(file, 'r');
  const buffer = Buffer.alloc(1 << 20);
  let offset = 0;
  let pending = '';
  const drain = () => {
    const at = process.hrtime.bigint();
    for (;;) {
      const bytesRead = readSync(fd, buffer, 0, buffer.length, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      pending += buffer.toString('utf8', 0, bytesRead);
    }
    const cut = pending.lastIndexOf('\n');
    if (cut < 0) return;
    take(pending.slice(0, cut), at);
    pending = pending.slice(cut + 1);
  };
  const watcher = watch(file, drain);
  stop = () => watcher.close();
  drain();
  process.stderr.write('ready\n');
} else if (kind === 'gnu-tail') {
  const child = spawn('tail', ['-n', '+1', '-F', file], { stdio: ['ignore', 'pipe', 'ignore'] });
  stop = () => child.kill();
  let pending = '';
  const onData = (chunk) => {
    const at = process.hrtime.bigint();
    pending += chunk.toString('utf8');
    const cut = pending.lastIndexOf('\n');
    if (cut < 0) return;
    take(pending.slice(0, cut), at);
    pending = pending.slice(cut + 1);
  };
  if (slowUntil !== undefined) {
    // Read a little, then leave the pipe full: tail blocks writing, as behind a slow consumer.
    child.stdout.once('data', (chunk) => {
      onData(chunk);
      child.stdout.pause();
      waitForFlag(slowUntil).then(() => {
        child.stdout.on('data', onData);
        child.stdout.resume();
      });
    });
  } else {
    child.stdout.on('data', onData);
  }
  process.stderr.write('ready\n');
} else if (kind === 'npm-tail') {
  const { Tail } = require('tail');
  const tail = new Tail(file, { fromBeginning: true, follow: true });
  stop = () => tail.unwatch();
  tail.on('line', (line) => take(line, process.hrtime.bigint()));
  tail.on('error', (caught) => {
    error = { name: 'Error', message: String(caught?.message ?? caught) };
  });
  process.stderr.write('ready\n');
} else if (kind === 'logdna') {
  const TailFile = require('@logdna/tail-file');
  const tail = new TailFile(file, { startPos: 0, encoding: 'utf8', pollFileIntervalMs: pollMs });
  stop = () => tail.quit().catch(() => undefined);
  let pending = '';
  tail.on('data', (chunk) => {
    const at = process.hrtime.bigint();
    pending += chunk;
    const cut = pending.lastIndexOf('\n');
    if (cut < 0) return;
    take(pending.slice(0, cut), at);
    pending = pending.slice(cut + 1);
  });
  tail.on('tail_error', (caught) => {
    error = { name: 'Error', message: String(caught?.message ?? caught) };
  });
  await tail.start();
  process.stderr.write('ready\n');
} else {
  throw new Error(`unknown follower ${kind}`);
}
