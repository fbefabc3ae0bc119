// The follower's wake-up: a notify between waits is kept, long waits share one
// timer that still ends them, and a process whose last long wait ended is not
// kept alive by that timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Waker } from '../../dist/engine/waker.js';
import { ROOT, waitForExit, withTimeout } from '../helpers.js';

test('a notify before the wait makes it return at once; one during it ends it', async () => {
  const waker = new Waker();
  waker.notify();
  await withTimeout(waker.wait(60_000, undefined), 5_000, 'the wait after a notify');
  const waiting = waker.wait(60_000, undefined);
  setImmediate(waker.notify);
  await withTimeout(waiting, 5_000, 'the notified wait');
  // The notify was used up: the next wait waits.
  let ended = false;
  const next = waker.wait(60_000, undefined).then(() => (ended = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(ended, false);
  waker.notify();
  await withTimeout(next, 5_000, 'the third wait');
});

test('a long wait ends at its deadline, by the shared timer', async () => {
  const waker = new Waker();
  const short = new Waker();
  const waiting = waker.wait(60_000, undefined);
  const other = short.wait(60_000, undefined);
  // Its deadline passed (as if a minute had gone by); the other's has not.
  waker.deadline = Date.now();
  await withTimeout(waiting, 10_000, 'the wait whose deadline passed');
  let otherEnded = false;
  void other.then(() => (otherEnded = true));
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.equal(otherEnded, false, 'a wait whose deadline has not passed goes on');
  short.close();
  await withTimeout(other, 5_000, 'the closed waker’s wait');
  // Closed: later waits return at once.
  await withTimeout(short.wait(60_000, undefined), 5_000, 'a wait after close');
});

test('a short wait ends by its own timer', async () => {
  const waker = new Waker();
  await withTimeout(waker.wait(30, undefined), 5_000, 'a 30 ms wait');
});

test('the shared timer does not keep a process alive after its last long wait ended', async () => {
  const script = `
    const { Waker } = await import(${JSON.stringify(join(ROOT, 'dist/engine/waker.js'))});
    const a = new Waker(), b = new Waker();
    const both = Promise.all([a.wait(600000, undefined), b.wait(600000, undefined)]);
    setTimeout(() => { a.notify(); b.notify(); }, 50);
    await both;
    process.stdout.write('woken\\n');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const { code } = await waitForExit(child, 20_000);
  assert.equal(code, 0);
  assert.equal(out, 'woken\n');
});
