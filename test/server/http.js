// HTTP helpers for the server tests: raw requests (the path is sent exactly
// as given — fetch would normalise `..` away), an event-stream client that
// parses SSE by hand, starting `sandlog serve` as a child process, and a
// server in a child process that reports its memory.
// Every wait has a deadline.
import { request as httpRequest } from 'node:http';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLI, DEADLINE_MS, ROOT, withTimeout } from '../helpers.js';

/** A request with the path sent verbatim; resolves to { status, headers, body, json }. */
export function request(base, path, { method = 'GET', headers = {}, timeoutMs = DEADLINE_MS } = {}) {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, method, headers, timeout: timeoutMs, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, body, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Opens an event stream. Resolves once the status line arrives, to a client with
 * `status`, `headers`, `events` (parsed so far: { event, id, data }), `comments`
 * (count of comment lines), `ended`, `next(timeoutMs)`, `waitFor(predicate)` and `close()`.
 */
export function openEventStream(base, path, { headers = {}, timeoutMs = DEADLINE_MS } = {}) {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      path,
      agent: false,
      headers: { accept: 'text/event-stream', ...headers },
    });
    const timer = setTimeout(() => req.destroy(new Error(`no response to ${path} within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      const client = new EventStreamClient(req, res);
      resolve(client);
    });
    req.end();
  });
}

class EventStreamClient {
  constructor(req, res) {
    this.req = req;
    this.res = res;
    this.status = res.statusCode;
    this.headers = res.headers;
    this.events = [];
    this.comments = 0;
    this.ended = false;
    this.body = '';
    this.waiters = new Set();
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (text) => {
      this.body += text;
      buffer += text;
      for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
        this.parseBlock(buffer.slice(0, at));
        buffer = buffer.slice(at + 2);
      }
      this.wake();
    });
    const finish = () => {
      this.ended = true;
      this.wake();
    };
    res.on('end', finish);
    res.on('close', finish);
    res.on('error', finish);
    req.on('error', finish);
  }

  parseBlock(block) {
    const event = { event: 'message', id: undefined, data: undefined };
    let hasField = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments += 1;
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`;
      else if (field === 'id') event.id = value;
      else if (field === 'event') event.event = value;
      else continue;
      hasField = true;
    }
    if (hasField && event.data !== undefined) this.events.push(event);
  }

  wake() {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves when `predicate(this)` is truthy; rejects after `timeoutMs`. */
  waitFor(predicate, { timeoutMs = DEADLINE_MS, what = 'stream condition' } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let value;
        try {
          value = predicate(this);
        } catch (error) {
          cleanup();
          reject(error);
          return;
        }
        if (value) {
          cleanup();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} (${this.events.length} events, ended: ${this.ended})`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for `count` data events in all; returns them. */
  async waitForEvents(count, timeoutMs = DEADLINE_MS) {
    await this.waitFor((client) => client.events.length >= count, { timeoutMs, what: `${count} events` });
    return this.events.slice(0, count);
  }

  /** Waits for the server to end the response. */
  waitForEnd(timeoutMs = DEADLINE_MS) {
    return this.waitFor((client) => client.ended, { timeoutMs, what: 'the end of the stream' });
  }

  /** Stops reading: the socket's buffers fill and the server's writes wait. */
  pause() {
    this.res.pause();
  }

  /** Reads again. */
  resume() {
    this.res.resume();
  }

  close() {
    this.req.destroy();
  }
}

/** The data events' entries (parsed JSON). */
export function entriesOf(events) {
  return events.filter((event) => event.event === 'message').map((event) => JSON.parse(event.data));
}

/**
 * Starts `sandlog serve` as a child process and resolves once it printed its URL:
 * { child, url, port, stderr() }.
 */
export function startServeProcess(args, { env = {}, timeoutMs = DEADLINE_MS } = {}) {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sandlog serve printed no URL within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /^(http:\/\/\S+)\n/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1], port: Number(new URL(match[1]).port), stderr: () => stderr });
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sandlog serve exited (${code ?? signal}) before listening; stderr: ${stderr}`));
    });
  });
}

/** Resolves with { code, signal } when the child exits; kills it and rejects after `timeoutMs`. */
export function exited(child, timeoutMs = DEADLINE_MS) {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/**
 * Starts `startServer(options)` in a child process run with --expose-gc
 * (fixtures/serve-measured.js); resolves to { child, port, memory() }, where
 * memory() forces a GC there and resolves to { live, rss, activeStreams,
 * connections, fullSockets } (fullSockets: connections whose socket is full).
 */
export async function startMeasuredServer(home, options = {}) {
  const child = spawn(
    process.execPath,
    ['--expose-gc', join(ROOT, 'test', 'server', 'fixtures', 'serve-measured.js'), home, JSON.stringify(options)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = [];
  let waiting;
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    buffered += text;
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      lines.push(buffered.slice(0, at));
      buffered = buffered.slice(at + 1);
      waiting?.();
    }
  });
  const nextLine = () =>
    withTimeout(
      new Promise((resolve) => {
        const check = () => {
          if (lines.length > 0) {
            waiting = undefined;
            resolve(lines.shift());
          }
        };
        waiting = check;
        check();
      }),
      DEADLINE_MS,
      'a line from the measured server',
    );
  const url = await nextLine();
  return {
    child,
    port: Number(new URL(url).port),
    async memory() {
      child.stdin.write('measure\n');
      const usage = JSON.parse(await nextLine());
      return {
        live: usage.heapUsed + usage.external,
        rss: usage.rss,
        activeStreams: usage.activeStreams,
        connections: usage.connections,
        fullSockets: usage.fullSockets,
      };
    },
  };
}
