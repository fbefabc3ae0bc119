// Reading the fleet back: `ls --nats` and `logs --nats` against a real nats-server fed by
// `sandlog ship`, compared with the local `sandlog ls` / `sandlog logs` of the same home.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, spawnCli, waitFor } from '../helpers.js';
import { NatsNode, freePort, subjectCount } from './nats-support.js';
import { appendRecords, localJsonLines, makeSandbox, startShipper, stopShipper } from './support.js';

let dir;
let node;
let home;
let shipper;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sandlog-fleet-'));
  home = join(dir, 'home');
  node = new NatsNode(dir, { port: await freePort() });
  await node.start();
  makeSandbox(home, 'api', 120);
  makeSandbox(home, 'db', 60);
  shipper = startShipper({ after: () => undefined }, ['--nats', node.url, '--home', home, '--host', 'h1']);
  const nc = await import('@nats-io/transport-node').then(({ connect }) => connect({ servers: node.url }));
  for (const name of ['api', 'db']) {
    const local = await localJsonLines(home, name);
    await waitFor(async () => (await subjectCount(nc, `sandlog.h1.${name}.*`).catch(() => 0)) >= local.length, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `${name} shipped`,
    });
  }
  await nc.close();
});
after(async () => {
  await stopShipper(shipper).catch(() => undefined);
  await node.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

// A filtered local snapshot moves the cursor of a file's last kept entry over the filtered records
// after it; the fleet read gives that entry its own position. Both resume the same read identically.
const withoutCursor = (text) => text.replace(/,"cursor":"[^"]*"/g, '');

test('logs --nats host/name prints what the local logs prints, for every filter', async () => {
  const exact = [
    [],
    ['--json', '--source', 'all'],
    ['--source', 'all', '-t'],
    ['--json', '--tail', '7'],
    ['--grep', '1[0-9] x'],
    ['--show-id', '--tail', '3'],
    ['--since', '2026-01-01T00:00:00Z', '--source', 'output'],
  ];
  const filtered = [
    ['--json'],
    ['--json', '--source', 'stderr'],
    ['--json', '--source', 'system'],
    ['--json', '--grep', 'x{30}'],
  ];
  for (const name of ['api', 'db']) {
    for (const filter of [...exact, ...filtered]) {
      const local = await runCli(['logs', '--home', home, ...filter, name]);
      const fleet = await runCli(['logs', '--nats', node.url, ...filter, `h1/${name}`]);
      assert.equal(fleet.code, 0, fleet.stderr);
      assert.ok(local.stdout.length > 0);
      if (exact.includes(filter)) assert.equal(fleet.stdout, local.stdout, `${name} ${filter.join(' ')}`);
      else assert.equal(withoutCursor(fleet.stdout), withoutCursor(local.stdout), `${name} ${filter.join(' ')}`);
    }
  }
  const until = await runCli(['logs', '--nats', node.url, '--until', '2000-01-01T00:00:00Z', 'h1/api']);
  assert.equal(until.stdout, '');
});

test('host/* merges sandboxes (prefixed), ls --nats lists host/name with counts', async () => {
  const merged = await runCli(['logs', '--nats', node.url, '--json', '--source', 'all', 'h1/*']);
  const lines = merged.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(new Set(lines.map((l) => l.sandbox)), new Set(['api', 'db']));
  assert.equal(lines.length, (await localJsonLines(home, 'api')).length + (await localJsonLines(home, 'db')).length);
  const text = await runCli(['logs', '--nats', node.url, '*/db', '--tail', '1']);
  assert.match(text.stdout, /^h1\/db \| /);
  const ls = await runCli(['ls', '--nats', node.url, '--json']);
  const listed = JSON.parse(ls.stdout);
  assert.deepEqual(
    listed.map((s) => `${s.host}/${s.name}=${s.entries}`),
    [`h1/api=${(await localJsonLines(home, 'api')).length}`, `h1/db=${(await localJsonLines(home, 'db')).length}`],
  );
});

test('--cursor-file and --after-cursor resume exactly (stream sequence, or a sandbox cursor), and -f delivers new entries', async (t) => {
  const cursorFile = join(dir, 'fleet.cursor');
  const first = await runCli(['logs', '--nats', node.url, '--json', '--cursor-file', cursorFile, 'h1/api']);
  const all = first.stdout.trim().split('\n');
  const sequence = readFileSync(cursorFile, 'utf8').trim();
  assert.match(sequence, /^\d+$/);
  const again = await runCli(['logs', '--nats', node.url, '--json', '--cursor-file', cursorFile, 'h1/api']);
  assert.equal(again.stdout, '', 'nothing new after the stored cursor');
  const middle = JSON.parse(all[10]).cursor;
  const afterLocal = await runCli(['logs', '--nats', node.url, '--json', '--after-cursor', middle, 'h1/api']);
  assert.deepEqual(afterLocal.stdout.trim().split('\n'), all.slice(11));

  const follower = spawnCli(['logs', '--nats', node.url, '-f', '--json', '--cursor-file', cursorFile, 'h1/api']);
  t.after(() => follower.kill('SIGKILL'));
  let out = '';
  follower.stdout.on('data', (chunk) => (out += chunk));
  appendRecords(join(home, 'sandboxes', 'api', 'logs'), 'followed', 3);
  await waitFor(() => out.split('\n').filter(Boolean).length >= 3, { timeoutMs: 30_000, what: 'followed entries' });
  assert.deepEqual(
    out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).d),
    ['followed 0\n', 'followed 1\n', 'followed 2\n'],
  );
  follower.kill('SIGINT');
  await new Promise((resolve) => follower.once('exit', resolve));
  assert.ok(Number(readFileSync(cursorFile, 'utf8')) > Number(sequence));
});

test('logs --nats: bad patterns exit 2, an unreachable broker exits 1, with one line', async () => {
  const bad = await runCli(['logs', '--nats', node.url, 'no-slash']);
  assert.equal(bad.code, 2);
  const conflict = await runCli(['logs', '--nats', node.url, '--home', home, 'h1/api']);
  assert.equal(conflict.code, 2);
  const down = await runCli(['logs', '--nats', `nats://127.0.0.1:${await freePort()}`, 'h1/api']);
  assert.equal(down.code, 1);
  assert.equal(down.stderr.trim().split('\n').length, 1, down.stderr);
});

test('serve --nats: the fleet API, and an event stream that resumes exactly with Last-Event-ID', async (t) => {
  const { request, openEventStream } = await import('../server/http.js');
  const server = spawnCli(['serve', '--nats', node.url, '--port', '0']);
  t.after(() => server.kill('SIGKILL'));
  let out = '';
  server.stdout.on('data', (chunk) => (out += chunk));
  await waitFor(() => out.includes('\n'), { timeoutMs: 20_000, what: 'the server URL' });
  const base = out.trim().replace(/\/$/, '');
  const list = await request(base, '/api/sandboxes');
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.json.map((s) => `${s.host}/${s.name}`),
    ['h1/api', 'h1/db'],
  );

  const snapshot = await request(base, '/api/hosts/h1/sandboxes/db/logs?source=all');
  assert.equal(snapshot.status, 200);
  const local = await localJsonLines(home, 'db');
  assert.deepEqual(
    snapshot.json.entries.map((e) => e.d),
    local.map((line) => JSON.parse(line).d),
  );
  assert.ok(snapshot.json.entries.every((e) => e.host === 'h1' && e.sandbox === 'db'));

  const stream = await openEventStream(base, '/api/hosts/h1/sandboxes/db/logs/stream?source=all');
  assert.equal(stream.status, 200);
  await stream.waitForEvents(local.length, 30_000);
  const lastId = stream.events[9].id;
  stream.close();
  const resumed = await openEventStream(base, '/api/hosts/h1/sandboxes/db/logs/stream?source=all', {
    headers: { 'last-event-id': lastId },
  });
  await resumed.waitForEvents(local.length - 10, 30_000);
  assert.deepEqual(
    resumed.events.slice(0, local.length - 10).map((e) => JSON.parse(e.data).d),
    local.slice(10).map((line) => JSON.parse(line).d),
  );
  appendRecords(join(home, 'sandboxes', 'db', 'logs'), 'served live', 2);
  await resumed.waitFor((client) => client.events.some((e) => JSON.parse(e.data).d === 'served live 1\n'), {
    timeoutMs: 30_000,
    what: 'live entries',
  });
  resumed.close();
  const missing = await request(base, '/api/hosts/h1/sandboxes/db/logs?since=nonsense');
  assert.equal(missing.status, 400);
  server.kill('SIGTERM');
  const code = await new Promise((resolve) => server.once('exit', resolve));
  assert.equal(code, 0);
});
