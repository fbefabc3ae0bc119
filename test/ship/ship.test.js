// sandlog ship against one real nats-server: what lands in the stream (checked with the official
// client), live shipping, restarts, unreachable brokers and falling behind retention.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, waitFor } from '../helpers.js';
import { NatsNode, client, freePort, readStream, subjectCount, lastSequence } from './nats-support.js';
import { appendRecords, localJsonLines, makeSandbox, startShipper, stopShipper } from './support.js';

const HOST = 'edge.1';
const HOST_TOKEN = 'edge=2E1';
const NAMES = { alpha: 'alpha', 'web.2': 'web=2E2', ünï: '=C3=BCn=C3=AF' };

let dir;
let node;
let home;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sandlog-ship-'));
  home = join(dir, 'home');
  node = new NatsNode(dir, { port: await freePort() });
  await node.start();
});
after(async () => {
  await node.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function digestsOnDisk(logDir) {
  const digests = [];
  for (const file of readdirSync(logDir)) {
    if (!/^(exec\.log(\.\d)?|runtime\.log|kernel\.log)$/.test(file)) continue;
    for (const line of readFileSync(join(logDir, file)).toString('latin1').split('\n')) {
      if (line !== '')
        digests.push(
          createHash('sha256').update(Buffer.from(line, 'latin1')).digest().subarray(0, 12).toString('base64url'),
        );
    }
  }
  return digests.sort();
}

const shipArgs = () => ['--nats', node.url, '--home', home, '--host', HOST];

test('three sandboxes land in the stream once each, in order, as the local --json lines, with the specified ids and headers', async (t) => {
  const logDirs = {};
  for (const name of Object.keys(NAMES)) logDirs[name] = makeSandbox(home, name, 300);
  const shipper = startShipper(t, shipArgs());
  const nc = await client(t, node.url);
  let total = 0;
  for (const [name, token] of Object.entries(NAMES)) {
    const local = await localJsonLines(home, name);
    total += local.length;
    await waitFor(
      async () => (await subjectCount(nc, `sandlog.${HOST_TOKEN}.${token}.*`).catch(() => 0)) >= local.length,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: `${name} shipped`,
      },
    );
    const messages = await readStream(nc, { filter: `sandlog.${HOST_TOKEN}.${token}.*` });
    assert.deepEqual(
      messages.map((m) => m.payload),
      local,
      `${name}: payloads are the local --json lines, in order`,
    );
    const digests = [];
    for (const message of messages) {
      const entry = JSON.parse(message.payload);
      assert.equal(message.subject, `sandlog.${HOST_TOKEN}.${token}.${entry.s}`);
      assert.equal(message.headers['Sandlog-Host'], HOST);
      assert.equal(message.headers['Sandlog-Sandbox'], name);
      const prefix = `${HOST}/${name}/${entry.cursor}/`;
      assert.ok(message.headers['Nats-Msg-Id'].startsWith(prefix), message.headers['Nats-Msg-Id']);
      digests.push(message.headers['Nats-Msg-Id'].slice(prefix.length));
    }
    assert.deepEqual(
      digests.sort(),
      digestsOnDisk(logDirs[name]),
      `${name}: one message per record line on disk, digest = SHA-256 of the line`,
    );
  }
  const stopped = await stopShipper(shipper, 'SIGTERM');
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stderr, new RegExp(`stopped: .*, ${total} published, 0 duplicate`));
});

test('a restart with nothing new publishes nothing; new entries, a new sandbox and a removed one are handled while shipping', async (t) => {
  const nc = await client(t, node.url);
  const before = await lastSequence(nc);
  const alphaBefore = await subjectCount(nc, `sandlog.${HOST_TOKEN}.alpha.*`);
  const shipper = startShipper(t, shipArgs());
  await waitFor(() => /connected to NATS/.test(shipper.stderr()), {
    timeoutMs: 20_000,
    what: 'the shipper to connect',
  });
  appendRecords(join(home, 'sandboxes', 'alpha', 'logs'), 'live alpha', 5);
  await waitFor(
    async () => (await subjectCount(nc, `sandlog.${HOST_TOKEN}.alpha.*`).catch(() => 0)) >= alphaBefore + 5,
    {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: 'live entries of alpha',
    },
  );
  const alpha = await readStream(nc, { filter: `sandlog.${HOST_TOKEN}.alpha.*` });
  assert.deepEqual(
    alpha.slice(-5).map((m) => JSON.parse(m.payload).d),
    [0, 1, 2, 3, 4].map((n) => `live alpha ${n}\n`),
  );
  assert.equal(await lastSequence(nc), before + 5, 'nothing but the new entries was published');

  // A sandbox created while shipping is picked up. It is made aside and moved in whole: a shipper that found it
  // half written would follow the rest, and a followed entry's cursor (in the payload) need not be the snapshot's.
  const staging = join(dir, 'staging');
  makeSandbox(staging, 'late', 20);
  renameSync(join(staging, 'sandboxes', 'late'), join(home, 'sandboxes', 'late'));
  const lateLocal = await localJsonLines(home, 'late');
  await waitFor(
    async () => (await subjectCount(nc, `sandlog.${HOST_TOKEN}.late.*`).catch(() => 0)) >= lateLocal.length,
    {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: 'the late sandbox',
    },
  );
  assert.deepEqual(
    (await readStream(nc, { filter: `sandlog.${HOST_TOKEN}.late.*` })).map((m) => m.payload),
    lateLocal,
  );

  // A sandbox whose directory goes away stops being followed and loses its checkpoint. Its checkpoint is
  // waited for first: without it, "no checkpoint of late" would hold before the shipper ever stored one.
  const kvKeys = async () => {
    const { Kvm } = await import('@nats-io/kv');
    const kv = await new Kvm(nc).open('sandlog-checkpoints');
    const keys = [];
    for await (const key of await kv.keys()) keys.push(key);
    return keys.sort();
  };
  await waitFor(async () => (await kvKeys()).includes(`${HOST_TOKEN}.late`), {
    timeoutMs: 30_000,
    intervalMs: 100,
    what: 'the late sandbox to have a checkpoint',
  });
  rmSync(join(home, 'sandboxes', 'late'), { recursive: true, force: true });
  await waitFor(async () => !(await kvKeys()).includes(`${HOST_TOKEN}.late`), {
    timeoutMs: 30_000,
    intervalMs: 100,
    what: 'the removed sandbox to lose its checkpoint',
  });
  assert.deepEqual(
    await kvKeys(),
    Object.values(NAMES)
      .map((token) => `${HOST_TOKEN}.${token}`)
      .sort(),
  );

  const stopped = await stopShipper(shipper, 'SIGINT');
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stderr, new RegExp(`stopped: .*, ${5 + lateLocal.length} published, 0 duplicate`));
});

test('the shipper waits for an unreachable NATS, saying so once, and ships when it comes up', async (t) => {
  const port = await freePort();
  const late = new NatsNode(join(dir, 'late-node'), { port, name: 'late' });
  const shipper = startShipper(t, ['--nats', late.url, '--home', home, '--host', 'other-host']);
  await waitFor(() => /NATS unreachable/.test(shipper.stderr()), { timeoutMs: 20_000, what: 'the unreachable notice' });
  await late.start();
  t.after(() => late.stop('SIGKILL'));
  const nc = await client(t, late.url);
  const local = await localJsonLines(home, 'alpha');
  await waitFor(async () => (await subjectCount(nc, 'sandlog.other-host.alpha.*').catch(() => 0)) >= local.length, {
    timeoutMs: 60_000,
    intervalMs: 100,
    what: 'alpha shipped once NATS is up',
  });
  const stopped = await stopShipper(shipper);
  assert.equal(stopped.code, 0);
  assert.equal(stopped.stderr.match(/NATS unreachable/g).length, 1, stopped.stderr);
});

test('bad options exit 2 with one line', async () => {
  for (const args of [
    ['--nats', 'http://example.com'],
    ['--nats', '127.0.0.1:4222', '--replicas', '0'],
    ['--nats', '127.0.0.1:4222', '--stream', 'a.b'],
    [],
    ['--nats', '127.0.0.1:4222', '--host', 'a/b'],
  ]) {
    const result = await runCli(['ship', ...args]);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr.split('\n')[0], /^sandlog: /);
  }
});

test("a sandbox whose files were replaced (inode numbers reused) is not resumed at a stranger's offset: the loss is announced once and the new entries are all shipped", async (t) => {
  const nc = await client(t, node.url);
  const logDir = join(home, 'sandboxes', 'alpha', 'logs');
  rmSync(logDir, { recursive: true, force: true });
  // New files in place of the old ones: ext4 hands out the freed inode numbers again.
  appendRecords(logDir, 'reborn alpha', 4000, 8192);
  const before = await subjectCount(nc, `sandlog.${HOST_TOKEN}.alpha.*`);
  const local = await localJsonLines(home, 'alpha');
  const shipper = startShipper(t, shipArgs());
  await waitFor(
    async () => (await subjectCount(nc, `sandlog.${HOST_TOKEN}.alpha.*`).catch(() => 0)) >= before + 1 + local.length,
    {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: 'the reborn sandbox shipped',
    },
  );
  const messages = (await readStream(nc, { filter: `sandlog.${HOST_TOKEN}.alpha.*` })).slice(before);
  const gap = JSON.parse(messages[0].payload);
  assert.equal(gap.s, 'system');
  assert.match(gap.d, /fell behind retention/);
  assert.deepEqual(
    messages.slice(1).map((m) => m.payload),
    local,
  );
  const stopped = await stopShipper(shipper);
  assert.equal(stopped.code, 0);
  assert.match(stopped.stderr, /stopped: .*, 0 duplicate\(s\), .*, 1 gap\(s\)/);
});
