// sandlog ship into a three-node JetStream cluster (R3 stream and checkpoint bucket) on loopback:
// the stream leader's node is killed mid-stream; the stream, read back with the official client
// from a surviving node, holds every record exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { tempDir, waitFor } from '../helpers.js';
import { readStream, startCluster, subjectCount } from './nats-support.js';
import { makeSandbox, localJsonLines, startProducer, startShipper, stopShipper } from './support.js';

// Right after a node dies the cluster may still be electing leaders: JetStream API calls are retried.
async function eventually(fn, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

test('a three-node R3 cluster keeps every record exactly once when the stream leader is killed mid-stream', async (t) => {
  const dir = tempDir(t, 'sandlog-ship-cluster-');
  const nodes = await startCluster(t, dir);
  const home = join(dir, 'home');
  const logDir = join(home, 'sandboxes', 'prod', 'logs');
  mkdirSync(logDir, { recursive: true });
  makeSandbox(home, 'steady', 100);
  const servers = nodes.map((node) => node.url);
  const subject = 'sandlog.h.prod.*';

  const producer = startProducer(t, logDir, 10_000, 256 * 1024, 20, 10);
  const shipper = startShipper(t, [
    '--nats',
    servers.join(','),
    '--home',
    home,
    '--host',
    'h',
    '--replicas',
    '3',
    '--stats',
    '--stats-interval',
    '5',
  ]);
  let nc = await connect({ servers, timeout: 5_000 });
  t.after(() => nc.close());
  // A request can time out while the new cluster elects its leaders (more so on a loaded machine): not yet, not a failure.
  await waitFor(async () => (await subjectCount(nc, subject).catch(() => 0)) >= 2_000, {
    timeoutMs: 90_000,
    intervalMs: 100,
    what: '2,000 records shipped',
  });
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  const info = await jsm.streams.info('SANDLOG');
  assert.equal(info.config.num_replicas, 3);
  const leader = nodes.find((node) => node.name === info.cluster.leader);
  await nc.close();
  await leader.stop('SIGKILL');
  const survivors = nodes.filter((node) => node !== leader).map((node) => node.url);
  nc = await connect({ servers: survivors, timeout: 5_000 });

  await producer.done;
  await waitFor(async () => (await subjectCount(nc, subject).catch(() => 0)) >= 10_000, {
    timeoutMs: 120_000,
    intervalMs: 200,
    what: 'all 10,000 records shipped',
  }).catch((error) => {
    throw new Error(`${error.message}; shipper: ${shipper.stderr()}`);
  });
  const messages = await eventually(() => readStream(nc, { filter: subject }));
  assert.equal(new Set(messages.map((m) => m.headers['Nats-Msg-Id'])).size, messages.length);
  // Exactly once. (Order is kept too, except that a publish in flight when the leader died may land
  // ahead of earlier ones that had to be sent again: see README, Many hosts.)
  assert.deepEqual(
    messages.map((m) => Number(/^n=(\d+)\n$/.exec(JSON.parse(m.payload).d)[1])).sort((a, b) => a - b),
    Array.from({ length: 10_000 }, (_, i) => i),
  );
  const steady = await localJsonLines(home, 'steady');
  await waitFor(async () => (await subjectCount(nc, 'sandlog.h.steady.*').catch(() => 0)) >= steady.length, {
    timeoutMs: 60_000,
    intervalMs: 200,
    what: 'the steady sandbox shipped',
  }).catch((error) => {
    throw new Error(`${error.message}; shipper: ${shipper.stderr()}`);
  });
  assert.deepEqual(
    (await eventually(() => readStream(nc, { filter: 'sandlog.h.steady.*' }))).map((m) => m.payload),
    steady,
  );
  const stopped = await stopShipper(shipper);
  assert.equal(stopped.code, 0, stopped.stderr);
});
