// Real nats-server processes for the ship tests (Debian's nats-server, JetStream on, a store
// directory each), stopped by pid; and reading a stream back with the official client — not with
// sandlog's own reader — to check what the shipper published.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { waitFor } from '../helpers.js';

/** A free loopback TCP port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: 1_000 })
    .then(async (nc) => {
      await nc.close();
      return true;
    })
    .catch(() => false);
}

/**
 * One nats-server with JetStream. `node.start()` (again after `stop`/`kill`) runs it on the same
 * port and store; `node.url` is its client URL.
 */
export class NatsNode {
  constructor(dir, { port, name = 'n1', cluster } = {}) {
    this.dir = dir;
    this.port = port;
    this.name = name;
    this.cluster = cluster; // { port, routes: [port…] }
    this.process = undefined;
    this.log = '';
  }

  get url() {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start() {
    mkdirSync(join(this.dir, this.name), { recursive: true });
    const config = [
      `server_name: ${this.name}`,
      `listen: 127.0.0.1:${this.port}`,
      `jetstream { store_dir: ${JSON.stringify(join(this.dir, this.name, 'store'))} }`,
    ];
    if (this.cluster !== undefined) {
      config.push(
        `cluster { name: sandlog-test, listen: 127.0.0.1:${this.cluster.port}, routes: [${this.cluster.routes.map((port) => `nats://127.0.0.1:${port}`).join(', ')}] }`,
      );
    }
    const configPath = join(this.dir, this.name, 'server.conf');
    writeFileSync(configPath, `${config.join('\n')}\n`);
    const child = spawn('nats-server', ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    child.stdout.on('data', (chunk) => (this.log += chunk));
    child.stderr.on('data', (chunk) => (this.log += chunk));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    this.exited = exited;
    await waitFor(async () => child.exitCode !== null || (await canConnect(this.port)), {
      timeoutMs: 20_000,
      intervalMs: 50,
      what: `nats-server ${this.name} to listen`,
    });
    if (child.exitCode !== null) throw new Error(`nats-server ${this.name} exited: ${this.log}`);
  }

  /** Stops the server (SIGTERM, or `signal`) and waits for it to exit. */
  async stop(signal = 'SIGTERM') {
    const child = this.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    process.kill(child.pid, signal);
    await this.exited;
    this.process = undefined;
  }
}

/** A single JetStream server in `dir`. */
export async function startNode(t, dir) {
  const node = new NatsNode(dir, { port: await freePort() });
  await node.start();
  t.after(() => node.stop('SIGKILL'));
  return node;
}

/** A three-node JetStream cluster on loopback; resolves when JetStream answers. */
export async function startCluster(t, dir) {
  const clientPorts = [await freePort(), await freePort(), await freePort()];
  const routePorts = [await freePort(), await freePort(), await freePort()];
  const nodes = clientPorts.map(
    (port, i) =>
      new NatsNode(dir, {
        port,
        name: `n${i + 1}`,
        cluster: { port: routePorts[i], routes: routePorts.filter((_, j) => j !== i) },
      }),
  );
  t.after(() => Promise.all(nodes.map((node) => node.stop('SIGKILL'))));
  await Promise.all(nodes.map((node) => node.start()));
  const servers = nodes.map((node) => node.url);
  await waitFor(
    async () => {
      const nc = await connect({ servers, timeout: 2_000 }).catch(() => undefined);
      if (nc === undefined) return false;
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2_000 });
        await jsm.getAccountInfo();
        return true;
      } catch {
        return false;
      } finally {
        await nc.close();
      }
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'the cluster to elect a JetStream leader' },
  );
  return nodes;
}

/** Connects the official client (closed when the test ends). */
export async function client(t, servers) {
  const nc = await connect({ servers, timeout: 5_000 });
  t.after(() => nc.close());
  return nc;
}

/** The stream's last sequence (0 when the stream does not exist). */
export async function lastSequence(nc, stream = 'SANDLOG') {
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  try {
    return (await jsm.streams.info(stream)).state.last_seq;
  } catch (error) {
    if (/not found/i.test(error.message)) return 0;
    throw error;
  }
}

/**
 * Every message of the stream (optionally of one filter subject), in stream order, read with an
 * ordered consumer: [{ seq, subject, payload (string), headers: {name: value} }].
 */
export async function readStream(nc, { stream = 'SANDLOG', filter, timeoutMs = 30_000 } = {}) {
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  const info = await jsm.streams.info(stream, filter === undefined ? {} : { subjects_filter: filter });
  const last = info.state.last_seq;
  const expected =
    filter === undefined ? info.state.messages : Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  const out = [];
  if (expected === 0) return out;
  const js = jetstream(nc);
  const consumer = await js.consumers.get(stream, filter === undefined ? {} : { filter_subjects: filter });
  const messages = await consumer.consume();
  const timer = setTimeout(() => messages.stop(), timeoutMs);
  try {
    for await (const message of messages) {
      const headers = {};
      for (const key of message.headers?.keys() ?? []) headers[key] = message.headers.get(key);
      out.push({ seq: message.seq, subject: message.subject, payload: message.string(), headers });
      if (message.seq >= last || out.length >= expected) break;
    }
  } finally {
    clearTimeout(timer);
    await messages.close().catch(() => undefined);
  }
  if (out.length < expected)
    throw new Error(`read ${out.length} of ${expected} messages of ${stream} before the deadline`);
  return out;
}

/** Messages of the stream whose subject matches `filter`. */
export async function subjectCount(nc, filter, stream = 'SANDLOG') {
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  try {
    const info = await jsm.streams.info(stream, { subjects_filter: filter });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  } catch (error) {
    if (/not found/i.test(error.message)) return 0;
    throw error;
  }
}
