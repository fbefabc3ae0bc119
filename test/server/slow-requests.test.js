// Slow and oversized requests, over raw sockets: headers trickled one byte a
// second (slow-loris) or never sent are answered 408 and closed, oversized
// headers 431 — JSON bodies like every other error — idle keep-alive
// connections are closed, and none of it cuts a live event stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startServer, ExecLogWriter } from '../../dist/index.js';
import { tempSandbox } from '../helpers.js';
import { exited, openEventStream, startServeProcess } from './http.js';

const REQUEST =
  'GET /api/sandboxes HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-loris\r\nAccept: application/json\r\n\r\n';

/**
 * Connects and sends `text` one byte every `intervalMs` (all at once when 0);
 * resolves when the server closes the connection to { response, sent } —
 * what came back and how many bytes had gone out. Rejects after `timeoutMs`.
 */
function exchange(port, text, { intervalMs = 0, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let sent = 0;
    let trickle;
    if (intervalMs === 0) {
      socket.write(text);
      sent = text.length;
    } else {
      trickle = setInterval(() => {
        if (sent < text.length && socket.writable) socket.write(text[sent++]);
      }, intervalMs);
    }
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `the server did not close the connection within ${timeoutMs} ms (${sent} bytes sent; got ${JSON.stringify(response)})`,
        ),
      );
    }, timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (response += chunk));
    // A write racing the close may fail: the close is what is being waited for.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(trickle);
      clearTimeout(timer);
      resolve({ response, sent });
    });
  });
}

function parseResponse(text) {
  const at = text.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = text.slice(0, at).split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(at + 4) };
}

function assertJsonError(text, status, code) {
  const response = parseResponse(text);
  assert.equal(response.status, status, text);
  assert.match(response.headers['content-type'], /^application\/json/);
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
  assert.equal(response.headers.connection, 'close');
  assert.equal(JSON.parse(response.body).error, code);
}

test('a client trickling its headers one byte a second is answered 408 and cut off before it finishes', async (t) => {
  const { home } = tempSandbox(t);
  const server = await startServer({ home, port: 0, headersTimeoutMs: 2000 });
  t.after(() => server.close());
  const { response, sent } = await exchange(server.port, REQUEST, { intervalMs: 1000 });
  assert.ok(sent < REQUEST.length, `the whole request (${sent} bytes) went out before the cut`);
  assertJsonError(response, 408, 'REQUEST_TIMEOUT');
});

test('sandlog serve cuts off a one-byte-a-second client with its default header timeout', {
  timeout: 120_000,
}, async (t) => {
  const { home } = tempSandbox(t);
  const server = await startServeProcess(['--port', '0', '--home', home]);
  t.after(() => server.child.kill('SIGKILL'));
  const { response, sent } = await exchange(server.port, REQUEST, { intervalMs: 1000, timeoutMs: 90_000 });
  assert.ok(sent < REQUEST.length, `the whole request (${sent} bytes) went out before the cut`);
  assertJsonError(response, 408, 'REQUEST_TIMEOUT');
  server.child.kill('SIGTERM');
  assert.deepEqual(await exited(server.child), { code: 0, signal: null });
});

test('a connection that sends nothing is closed after the header timeout', async (t) => {
  const { home } = tempSandbox(t);
  const server = await startServer({ home, port: 0, headersTimeoutMs: 500 });
  t.after(() => server.close());
  const { response } = await exchange(server.port, '');
  assertJsonError(response, 408, 'REQUEST_TIMEOUT');
});

test('headers over maxHeaderBytes are answered 431; headers under it are served', async (t) => {
  const { home } = tempSandbox(t);
  const server = await startServer({ home, port: 0, maxHeaderBytes: 4096 });
  t.after(() => server.close());
  const withHeader = (bytes) =>
    REQUEST.replace('\r\n\r\n', `\r\nX-Padding: ${'a'.repeat(bytes)}\r\nConnection: close\r\n\r\n`);
  assertJsonError((await exchange(server.port, withHeader(8000))).response, 431, 'HEADERS_TOO_LARGE');
  assert.equal(parseResponse((await exchange(server.port, withHeader(3000))).response).status, 200);
});

test('an idle keep-alive connection is closed after keepAliveTimeoutMs', async (t) => {
  const { home } = tempSandbox(t);
  const server = await startServer({ home, port: 0, keepAliveTimeoutMs: 300 });
  t.after(() => server.close());
  const { response } = await exchange(server.port, REQUEST);
  const parsed = parseResponse(response);
  assert.equal(parsed.status, 200);
  assert.match(parsed.headers['keep-alive'], /timeout=/);
  assert.equal(JSON.parse(parsed.body)[0].name, 'box');
});

test('a live event stream outlives the header and request timeouts', async (t) => {
  const { home, logDir } = tempSandbox(t, 'web');
  const writer = new ExecLogWriter(logDir);
  t.after(() => writer.close());
  writer.write('stdout', 'first\n', 1);
  writer.flush();
  const server = await startServer({
    home,
    port: 0,
    headersTimeoutMs: 100,
    requestTimeoutMs: 200,
    keepAliveTimeoutMs: 100,
    stallTimeoutMs: 100,
    heartbeatMs: 50,
  });
  t.after(() => server.close());
  const stream = await openEventStream(server.url, '/api/sandboxes/web/logs/stream');
  t.after(() => stream.close());
  await stream.waitForEvents(1);
  // 20 heartbeats 50 ms apart: the stream has lived at least a second, five times the request timeout.
  await stream.waitFor((client) => client.comments >= 21 || client.ended, { timeoutMs: 30_000, what: '20 heartbeats' });
  assert.equal(stream.ended, false);
  writer.write('stdout', 'second\n', 1);
  writer.flush();
  const events = await stream.waitForEvents(2);
  assert.equal(JSON.parse(events[1].data).d, 'second\n');
});
