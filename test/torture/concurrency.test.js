// Concurrency (issue 6, part 3; issue 10): many streams following one sandbox
// while the producer rotates fast, and one process following 1,000 sandboxes.
// Every stream gets every record, in order, once; the process holds one
// directory watcher per directory however many streams follow it, and opens
// each new generation once; memory stays within a generous bound; everything
// is released at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ExecLogWriter, streamLogs } from '../../dist/index.js';
import { watchedDirectoryCount } from '../../dist/engine/watch.js';
import { generationOpenCount, heldDescriptorCount } from '../../dist/engine/generation-holder.js';
import { tempDir, tempSandbox, waitFor, withTimeout } from '../helpers.js';
import { scaled } from './support.js';
import { recordBody } from './fixtures/producer-records.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'producer.js');
const MiB = 1024 * 1024;

function runProducer(config) {
  const child = spawn(process.execPath, [FIXTURE, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const done = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`producer exited ${code}: ${stderr}`)),
    );
  });
  return { child, done };
}

/** Follows `logDir` and checks each record against recordBody(dir, n) as it arrives. */
function follow(logDir, dir, signal, holdGenerations) {
  const state = { next: 0, error: undefined, handle: undefined };
  state.handle = streamLogs(
    { logDir },
    { follow: true, signal, pollIntervalMs: 500, ...(holdGenerations === undefined ? {} : { holdGenerations }) },
  );
  state.finished = (async () => {
    for await (const batch of state.handle.batches()) {
      for (const entry of batch) {
        const body = Buffer.from(entry.data).toString('utf8');
        const expected = recordBody(dir, state.next);
        if (body !== expected)
          throw new Error(
            `directory ${dir}: record ${state.next} expected ${JSON.stringify(expected.slice(0, 20))}, got ${JSON.stringify(body.slice(0, 40))}`,
          );
        state.next += 1;
      }
    }
  })().catch((error) => {
    state.error = error;
  });
  return state;
}

async function settle(states, total, what) {
  await waitFor(() => states.every((state) => state.error !== undefined || state.next >= total), {
    timeoutMs: 120_000,
    intervalMs: 50,
    what,
  });
  for (const state of states) assert.equal(state.error, undefined, `${what}: ${state.error}`);
  for (const state of states) assert.equal(state.next, total, what);
}

test('many streams following one sandbox all get every record while the producer rotates fast', {
  timeout: 300_000,
}, async (t) => {
  // By construction, not by speed: the producer (in this process) rotates as fast as it can, but after each
  // rotation waits until the directory's generation holder has opened the new file, and never gets so far
  // ahead that a stream would be more than its hold past retention. Within that, no stream can miss a
  // rotation however loaded the machine; how fast streams keep up unpaced is bench/holder-fanout.js.
  const { logDir } = tempSandbox(t);
  const streams = scaled(40);
  const retention = 4;
  const hold = 4;
  const controller = new AbortController();
  // Every stream shares the one signal: that must not look like a listener leak to Node.
  const warnings = [];
  const onWarning = (warning) => warnings.push(warning);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const writer = new ExecLogWriter(logDir, { maxBytes: 8 * 1024, maxFiles: retention });
  t.after(() => writer.close());
  const before = watchedDirectoryCount();
  const states = Array.from({ length: streams }, () => follow(logDir, 0, controller.signal, hold));
  try {
    await Promise.all(states.map((state) => state.handle.open()));
    assert.equal(watchedDirectoryCount(), before + 1, 'one watcher however many streams follow the directory');
    const opensBefore = generationOpenCount();
    // firstOf[g]: the first record of generation g (0 is the live file when the streams started).
    const firstOf = [0];
    const generationOf = (n) => {
      let g = firstOf.length - 1;
      while (firstOf[g] > n) g -= 1;
      return g;
    };
    const total = scaled(300) * 10;
    for (let n = 0; n < total; n++) {
      const rotations = writer.rotations;
      writer.write(n % 2 === 0 ? 'stdout' : 'stderr', recordBody(0, n), 1);
      if (writer.rotations !== rotations) {
        const live = writer.rotations;
        firstOf.push(n);
        await waitFor(() => generationOpenCount() - opensBefore >= live, {
          timeoutMs: 120_000,
          what: `the holder to open generation ${live}`,
        });
        // After the next rotation the chain holds generations live + 1 - retention … live + 1: a stream in
        // generation g is then (live + 1 - retention) - g generations past retention. Keep that within the
        // hold, with one to spare.
        const slowest = live + 1 - retention - hold + 1;
        await waitFor(
          () =>
            states.every((state) => state.error !== undefined || generationOf(Math.max(0, state.next - 1)) >= slowest),
          {
            timeoutMs: 120_000,
            what: 'the slowest stream to be within its hold',
          },
        );
      }
      if (n % 10 === 9) {
        writer.flush();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    writer.flush();
    await settle(states, total, `${streams} streams following one sandbox`);
    assert.equal(
      generationOpenCount() - opensBefore,
      writer.rotations,
      'one open per rotation, however many streams follow',
    );
    assert.equal(watchedDirectoryCount(), before + 1);
    t.diagnostic(`${streams} streams × ${total} records, ${writer.rotations} rotations`);
  } finally {
    controller.abort();
    await withTimeout(Promise.all(states.map((state) => state.finished)), 30_000, 'streams ending');
  }
  assert.equal(watchedDirectoryCount(), before, 'the watcher is released when the last stream ends');
  assert.equal(heldDescriptorCount(), 0, 'every held file is closed when the last stream ends');
  assert.deepEqual(warnings.map(String), [], 'no MaxListenersExceededWarning for streams sharing one AbortSignal');
});

test('one process follows 1,000 sandboxes with one watcher each, gets every record, and stays within memory', {
  timeout: 600_000,
}, async (t) => {
  const home = tempDir(t);
  const count = 1000;
  const dirs = Array.from({ length: count }, (_, i) => {
    const dir = join(home, 'sandboxes', `box-${i}`, 'logs');
    mkdirSync(dir, { recursive: true });
    return dir;
  });
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const before = watchedDirectoryCount();
  const controller = new AbortController();
  const states = dirs.map((dir, i) => follow(dir, i, controller.signal));
  // A second stream on some directories must not add watchers.
  const doubles = dirs.slice(0, scaled(20)).map((dir, i) => follow(dir, i, controller.signal));
  const all = [...states, ...doubles];
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  try {
    await waitFor(() => watchedDirectoryCount() === before + count, {
      timeoutMs: 120_000,
      intervalMs: 50,
      what: `${count} watchers`,
    });
    // Every directory rotates several times while followed, and keeps every file it writes (a record line is
    // at most ~240 bytes, so maxFiles covers them all): whether a thousand followers keep up with retention
    // is a capacity, measured by bench/, not something a test on a loaded machine can promise.
    const rounds = scaled(12);
    const maxBytes = 400;
    const config = {
      dirs,
      rounds,
      perRound: 1,
      maxBytes,
      maxFiles: Math.ceil((rounds * 256) / maxBytes) + 1,
      pauseMs: 300,
    };
    const total = config.rounds * config.perRound;
    const output = await withTimeout(runProducer(config).done, 300_000, 'the producer');
    assert.equal(output.trim(), `done ${total}`);
    await settle(all, total, `streams over ${count} sandboxes`);
    assert.equal(watchedDirectoryCount(), before + count, 'one watcher per directory');
  } finally {
    clearInterval(sampler);
    controller.abort();
    await withTimeout(Promise.all(all.map((state) => state.finished)), 60_000, 'streams ending');
  }
  assert.equal(watchedDirectoryCount(), before, 'every watcher is released');
  const growthMiB = Math.round((peakRss - rssBefore) / MiB);
  t.diagnostic(`${all.length} streams over ${count} directories; peak RSS growth ${growthMiB} MiB`);
  assert.ok(peakRss - rssBefore < 1024 * MiB, `RSS grew by ${growthMiB} MiB following ${count} sandboxes`);
});
