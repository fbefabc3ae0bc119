// The shared directory watch: a directory that cannot be watched (yet) is
// polled by the process's one poll timer, and watched once it can be; the
// timer stops with the last subscription.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { subscribe, watchedDirectoryCount } from '../../dist/engine/watch.js';
import { tempDir, waitFor } from '../helpers.js';

test('a directory that does not exist yet is polled, then watched once it does', async (t) => {
  const dir = join(tempDir(t), 'later');
  const events = [];
  const unsubscribe = subscribe(dir, (event) => events.push(event));
  t.after(unsubscribe);
  assert.equal(watchedDirectoryCount() >= 1, true);
  // Polled every 2 s (the one timer's ticks): two polls arrive.
  await waitFor(() => events.filter((event) => event === 'poll').length >= 2, { timeoutMs: 20_000, what: 'two polls' });
  mkdirSync(dir);
  // The next poll starts the watcher; from then on a write is an event of its own.
  const polls = events.length;
  await waitFor(() => events.length > polls, { timeoutMs: 20_000, what: 'the poll after the directory appeared' });
  await waitFor(
    () => {
      writeFileSync(join(dir, 'exec.log'), 'x\n');
      return events.includes('change') || events.includes('rename');
    },
    { timeoutMs: 20_000, what: 'an event from the watcher' },
  );
});

test('a directory is watched once per process, until its last unsubscription (a second call of it does nothing)', async (t) => {
  const dir = tempDir(t);
  const before = watchedDirectoryCount();
  const first = subscribe(dir, () => {});
  const second = subscribe(join(dir, 'missing'), () => {});
  assert.equal(watchedDirectoryCount(), before + 2);
  first();
  second();
  second();
  assert.equal(watchedDirectoryCount(), before);
});
