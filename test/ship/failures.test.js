// sandlog ship when things break: the shipper killed with SIGKILL while a producer writes and
// rotates, and the nats-server stopped for 5 s and restarted on the same store. The stream is read
// back with the official client: every record exactly once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, waitFor } from '../helpers.js';
import { client, readStream, startNode, subjectCount } from './nats-support.js';
import { startProducer, startShipper, stopShipper } from './support.js';

/** The record numbers the stream holds for a sandbox, in stream order (gap notices left out). */
async function shippedNumbers(nc, subject) {
  const messages = await readStream(nc, { filter: subject });
  const ids = new Set(messages.map((m) => m.headers['Nats-Msg-Id']));
  assert.equal(ids.size, messages.length, 'every message id once');
  return messages
    .map((m) => JSON.parse(m.payload))
    .filter((e) => e.s === 'stdout')
    .map((e) => Number(/^n=(\d+)\n$/.exec(e.d)[1]));
}

const range = (n) => Array.from({ length: n }, (_, i) => i);

test('kill -9 of the shipper while 20,000 records are written with rotation, then a restart: each record exactly once, in order', async (t) => {
  const dir = tempDir(t, 'sandlog-ship-crash-');
  const node = await startNode(t, dir);
  const home = join(dir, 'home');
  const logDir = join(home, 'sandboxes', 'prod', 'logs');
  mkdirSync(logDir, { recursive: true });
  const nc = await client(t, node.url);
  const subject = 'sandlog.h.prod.*';
  const args = ['--nats', node.url, '--home', home, '--host', 'h'];

  // 256 KiB files: about 4,000 records each, so the chain rotates four times and retains all 20,000.
  const producer = startProducer(t, logDir, 20_000, 256 * 1024, 50, 5);
  const first = startShipper(t, args);
  await waitFor(async () => (await subjectCount(nc, subject).catch(() => 0)) >= 5_000, {
    timeoutMs: 90_000,
    intervalMs: 50,
    what: '5,000 records shipped',
  });
  const killed = await stopShipper(first, 'SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');

  const second = startShipper(t, args);
  await producer.done;
  await waitFor(async () => (await subjectCount(nc, subject).catch(() => 0)) >= 20_000, {
    timeoutMs: 120_000,
    intervalMs: 100,
    what: 'all 20,000 records shipped',
  });
  const stopped = await stopShipper(second);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.deepEqual(await shippedNumbers(nc, subject), range(20_000));
  const notices = (await readStream(nc, { filter: 'sandlog.h.prod.system' })).map((m) => m.payload);
  assert.deepEqual(notices, [], 'no gap notice: nothing fell behind retention');

  // Nothing new: a third run publishes nothing.
  const third = startShipper(t, args);
  await waitFor(() => /connected to NATS/.test(third.stderr()), {
    timeoutMs: 20_000,
    what: 'the third shipper to connect',
  });
  const idle = await stopShipper(third);
  assert.match(idle.stderr, /stopped: .*, 0 published, 0 duplicate/);
  assert.equal(await subjectCount(nc, subject), 20_000);
});

test('nats-server stopped for 5 s while the producer writes, then restarted on the same store: nothing lost or repeated', async (t) => {
  const dir = tempDir(t, 'sandlog-ship-outage-');
  const node = await startNode(t, dir);
  const home = join(dir, 'home');
  const logDir = join(home, 'sandboxes', 'prod', 'logs');
  mkdirSync(logDir, { recursive: true });
  const subject = 'sandlog.h.prod.*';
  let nc = await client(t, node.url);

  const producer = startProducer(t, logDir, 10_000, 256 * 1024, 20, 10);
  const shipper = startShipper(t, [
    '--nats',
    node.url,
    '--home',
    home,
    '--host',
    'h',
    '--stats',
    '--stats-interval',
    '2',
  ]);
  await waitFor(async () => (await subjectCount(nc, subject).catch(() => 0)) >= 1_000, {
    timeoutMs: 60_000,
    intervalMs: 50,
    what: '1,000 records shipped',
  });
  await nc.close();
  await node.stop('SIGTERM');
  await waitFor(() => /lost the connection to NATS/.test(shipper.stderr()), {
    timeoutMs: 30_000,
    what: 'the shipper to notice',
  });
  // The outage itself: the broker is down for 5 s while the producer goes on writing.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  await node.start();
  nc = await client(t, node.url);
  await producer.done;
  await waitFor(async () => (await subjectCount(nc, subject).catch(() => 0)) >= 10_000, {
    timeoutMs: 40_000,
    intervalMs: 100,
    what: 'all 10,000 records shipped',
  }).catch(async (error) => {
    const numbers = await shippedNumbers(nc, subject).catch((e) => [String(e)]);
    const have = new Set(numbers);
    const missing = [];
    for (let n = 0; n < 10_000; n++) {
      if (have.has(n)) continue;
      if (missing.length > 0 && missing.at(-1)[1] === n - 1) missing.at(-1)[1] = n;
      else missing.push([n, n]);
    }
    throw new Error(
      `${error.message}; ${await subjectCount(nc, subject)} shipped; missing ${missing.map(([a, b]) => `${a}-${b}`).join(',')}; order ${numbers.every((n, i) => i === 0 || n > numbers[i - 1])}; shipper: ${shipper.stderr()}`,
    );
  });
  const stopped = await stopShipper(shipper);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stderr, /reconnected to NATS/);
  assert.deepEqual(await shippedNumbers(nc, subject), range(10_000));
});
