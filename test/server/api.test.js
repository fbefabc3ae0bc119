// The HTTP API over a real socket on loopback: every route, every error
// status, auth on and off, path traversal, and the response headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp, startServer, listSandboxes, ExecLogWriter, MissedRotationError } from '../../dist/index.js';
import { toHttpError } from '../../dist/server/errors.js';
import { tempDir, tempSandbox, runCli, recordLine, writeLines, at } from '../helpers.js';
import { request, openEventStream, entriesOf } from './http.js';

/** A home with sandbox `web` (stdout, stderr and system entries) and an empty sandbox `idle`. */
function fixture(t) {
  const { home, logDir } = tempSandbox(t, 'web');
  mkdirSync(join(home, 'sandboxes', 'idle', 'logs'), { recursive: true });
  writeLines(join(logDir, 'exec.log'), [
    recordLine(at(0), 'system', 'session 1 started'),
    recordLine(at(1), 'stdout', 'hello\n', 1),
    recordLine(at(2), 'stderr', 'oops\n', 1),
    recordLine(at(3), 'stdout', 'world\n', 1),
    recordLine(at(4), 'stdout', 'second session\n', 2),
  ]);
  writeLines(join(logDir, 'runtime.log'), [`${at(5)} runtime ready`]);
  return { home, logDir };
}

async function serve(t, options) {
  const server = await startServer({ port: 0, ...options });
  t.after(() => server.close());
  return server;
}

test('GET /api/sandboxes lists the sandboxes with the data of `sandlog ls --json`', async (t) => {
  const { home } = fixture(t);
  const server = await serve(t, { home });
  const response = await request(server.url, '/api/sandboxes');
  assert.equal(response.status, 200);
  assert.match(response.headers['content-type'], /^application\/json/);
  assert.deepEqual(response.json, JSON.parse(JSON.stringify(await listSandboxes(home))));
  assert.deepEqual(
    response.json.map((sandbox) => sandbox.name),
    ['idle', 'web'],
  );
});

test('GET …/logs answers entries in the shape of `sandlog logs --json` and the cursor after them', async (t) => {
  const { home } = fixture(t);
  const server = await serve(t, { home });
  const response = await request(server.url, '/api/sandboxes/web/logs');
  assert.equal(response.status, 200);
  const cli = await runCli(['logs', '--json', '--home', home, 'web']);
  assert.equal(cli.code, 0);
  const expected = cli.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(response.json.entries, expected);
  assert.deepEqual(
    response.json.entries.map((entry) => entry.d),
    ['hello\n', 'oops\n', 'world\n', 'second session\n'],
  );
  assert.equal(response.json.cursor, expected.at(-1).cursor);
});

test('GET …/logs honours tail, since, until, source, grep and after', async (t) => {
  const { home } = fixture(t);
  const server = await serve(t, { home });
  const bodies = async (query) => {
    const response = await request(server.url, `/api/sandboxes/web/logs?${query}`);
    assert.equal(response.status, 200, response.body);
    return response.json.entries.map((entry) => entry.d);
  };
  assert.deepEqual(await bodies('tail=2'), ['world\n', 'second session\n']);
  assert.deepEqual(await bodies(`since=${encodeURIComponent(at(2))}`), ['oops\n', 'world\n', 'second session\n']);
  assert.deepEqual(await bodies(`until=${encodeURIComponent(at(2))}`), ['hello\n']);
  assert.deepEqual(await bodies('source=stderr'), ['oops\n']);
  assert.deepEqual(await bodies('source=stderr&source=system'), ['session 1 started', 'oops\n', 'runtime ready\n']);
  assert.deepEqual(await bodies('source=all&tail=1'), ['runtime ready\n']);
  assert.deepEqual(await bodies(`grep=${encodeURIComponent('^w')}`), ['world\n']);
  const all = (await request(server.url, '/api/sandboxes/web/logs')).json.entries;
  assert.deepEqual(await bodies(`after=${encodeURIComponent(all[1].cursor)}`), ['world\n', 'second session\n']);
  // A cursor pasted without percent-encoding: its `+` arrives as a space and is taken back.
  assert.deepEqual(await bodies(`after=${all[1].cursor.replace(/=/g, '%3D')}`), ['world\n', 'second session\n']);
  assert.deepEqual(await bodies('tail=0'), []);
});

test('a snapshot of an empty sandbox is empty, with a cursor to follow from', async (t) => {
  const { home } = fixture(t);
  const server = await serve(t, { home });
  const response = await request(server.url, '/api/sandboxes/idle/logs');
  assert.equal(response.status, 200);
  assert.deepEqual(response.json.entries, []);
  assert.equal(typeof response.json.cursor, 'string');
});

test('bad parameters are 400 with { error, message }', async (t) => {
  const { home } = fixture(t);
  const server = await serve(t, { home });
  const cases = [
    ['/api/sandboxes/web/logs?tail=abc', 'BAD_REQUEST'],
    ['/api/sandboxes/web/logs?tail=-1', 'BAD_REQUEST'],
    ['/api/sandboxes/web/logs?since=yesterday-ish', 'INVALID_OPTIONS'],
    ['/api/sandboxes/web/logs?source=stdcheese', 'INVALID_OPTIONS'],
    ['/api/sandboxes/web/logs?grep=(', 'INVALID_OPTIONS'],
    ['/api/sandboxes/web/logs?after=not*a*cursor', 'INVALID_CURSOR'],
    ['/api/sandboxes/web/logs?after=AA%3D%3D&since=1m', 'INVALID_OPTIONS'],
    ['/api/sandboxes/web/logs?after=AA%3D%3D&tail=3', 'INVALID_OPTIONS'],
    ['/api/sandboxes/web/logs?follow=1', 'BAD_REQUEST'],
    ['/api/sandboxes/web/logs?tail=1&tail=2', 'BAD_REQUEST'],
    ['/api/sandboxes/web/logs?token=x', 'BAD_REQUEST'],
    ['/api/sandboxes/web/logs/stream?until=1m', 'BAD_REQUEST'],
    ['/api/sandboxes/web/logs/stream?source=nope', 'INVALID_OPTIONS'],
    ['/api/sandboxes?x=1', 'BAD_REQUEST'],
    ['/api/sandboxes/web%ZZ/logs', 'BAD_REQUEST'],
  ];
  for (const [path, code] of cases) {
    const response = await request(server.url, path);
    assert.equal(response.status, 400, path);
    assert.equal(response.json.error, code, path);
    assert.equal(typeof response.json.message, 'string');
    assert.deepEqual(Object.keys(response.json).sort(), ['error', 'message']);
  }
});

test('unknown sandboxes and routes are 404; wrong methods are 405 with Allow', async (t) => {
  const { home } = fixture(t);
  const server = await serve(t, { home });
  for (const path of ['/api/sandboxes/ghost/logs', '/api/sandboxes/ghost/logs/stream']) {
    const response = await request(server.url, path);
    assert.equal(response.status, 404, path);
    assert.equal(response.json.error, 'SANDBOX_NOT_FOUND');
  }
  for (const path of [
    '/api',
    '/api/',
    '/api/nope',
    '/api/sandboxes/',
    '/api/sandboxes/web',
    '/api/sandboxes/web/other',
    '/nope',
    '/index.html',
    '/web/',
    '/src/server/web/app.js',
    '//app.js',
  ]) {
    const response = await request(server.url, path);
    assert.equal(response.status, 404, path);
    assert.equal(response.json.error, 'NOT_FOUND', path);
  }
  for (const [method, path, allow] of [
    ['POST', '/api/sandboxes', 'GET'],
    ['DELETE', '/api/sandboxes/web/logs', 'GET'],
    ['PUT', '/api/sandboxes/web/logs/stream', 'GET'],
    ['HEAD', '/api/sandboxes', 'GET'],
    ['OPTIONS', '/api/sandboxes', 'GET'],
    ['POST', '/', 'GET, HEAD'],
  ]) {
    const response = await request(server.url, path, { method });
    assert.equal(response.status, 405, `${method} ${path}`);
    assert.equal(response.headers.allow, allow);
    if (method !== 'HEAD') assert.equal(response.json.error, 'METHOD_NOT_ALLOWED');
  }
});

test('an unexpected failure is a 500 without details; the server logs it', async (t) => {
  const { home, logDir } = tempSandbox(t, 'broken');
  // exec.log as a directory: the engine cannot read it as a log.
  mkdirSync(join(logDir, 'exec.log'));
  const logged = [];
  const server = await serve(t, { home, onError: (error) => logged.push(error) });
  const response = await request(server.url, '/api/sandboxes/broken/logs');
  assert.equal(response.status, 500);
  assert.deepEqual(response.json, { error: 'INTERNAL', message: 'internal server error (logged on the server)' });
  assert.doesNotMatch(response.body, /at .*\.js|exec\.log/);
  assert.equal(logged.length, 1);
});

test('errors are mapped to statuses in one place', () => {
  assert.equal(toHttpError(new MissedRotationError('exec.log', 5n, 10)).status, 410);
  assert.equal(toHttpError(new Error('boom')).status, 500);
  assert.equal(toHttpError(new Error('boom')).message.includes('boom'), false);
});

test('path traversal is refused with 400 and nothing outside the home is read', async (t) => {
  const { home } = fixture(t);
  // Where `sandboxes/..` would lead: a log directory that must stay unread.
  mkdirSync(join(home, 'logs'), { recursive: true });
  writeLines(join(home, 'logs', 'exec.log'), [recordLine(at(0), 'stdout', 'SECRET\n', 1)]);
  const outside = join(home, '..', `outside-${process.pid}`);
  const server = await serve(t, { home });
  const paths = [
    '/api/sandboxes/../logs',
    '/api/sandboxes/%2e%2e/logs',
    '/api/sandboxes/%2E%2e/logs/stream',
    '/api/sandboxes/.%2e/logs',
    '/api/sandboxes/./logs',
    '/api/sandboxes/..%2f..%2f..%2fetc/logs',
    '/api/sandboxes/..%5c..%5cetc/logs',
    '/api/sandboxes/a%2fb/logs',
    '/api/sandboxes/web%2f..%2f..%2flogs/logs',
    '/api/sandboxes/web/../../logs',
    '/api/sandboxes/a/b/logs',
    '/api/sandboxes/%00/logs',
    '/api/sandboxes/web%00/logs',
    '/api/sandboxes//logs',
    `/api/sandboxes/${'x'.repeat(129)}/logs`,
    `/api/sandboxes/${encodeURIComponent(outside)}/logs`,
    '/..%2f..%2fetc%2fpasswd',
    '/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
  ];
  for (const path of paths) {
    const response = await request(server.url, path);
    assert.equal(response.status, 400, `${path} → ${response.status} ${response.body}`);
    assert.match(response.json.error, /^(BAD_REQUEST|INVALID_SANDBOX_NAME)$/, path);
    assert.doesNotMatch(response.body, /SECRET/);
  }
});

test('with a token, /api needs Authorization: Bearer; the stream alone also takes ?token=', async (t) => {
  const { home } = fixture(t);
  const token = 's3cret-token';
  const server = await serve(t, { home, token });
  const bearer = { authorization: `Bearer ${token}` };
  for (const headers of [
    {},
    { authorization: 'Bearer wrong' },
    { authorization: `Basic ${token}` },
    { authorization: `Bearer ${token}x` },
  ]) {
    for (const path of [
      '/api/sandboxes',
      '/api/sandboxes/web/logs',
      '/api/sandboxes/web/logs/stream',
      '/api/sandboxes/ghost/logs',
      '/api/nope',
    ]) {
      const response = await request(server.url, path, { headers });
      assert.equal(response.status, 401, `${path} ${JSON.stringify(headers)}`);
      assert.equal(response.json.error, 'UNAUTHORIZED');
      assert.match(response.headers['www-authenticate'], /^Bearer/);
    }
  }
  assert.equal((await request(server.url, '/api/sandboxes', { headers: bearer })).status, 200);
  assert.equal(
    (await request(server.url, '/api/sandboxes/web/logs', { headers: { authorization: `bearer ${token}` } })).status,
    200,
  );
  // The query token is for EventSource only: the JSON routes refuse it.
  assert.equal((await request(server.url, `/api/sandboxes/web/logs?token=${token}`)).status, 401);
  const stream = await openEventStream(server.url, `/api/sandboxes/web/logs/stream?token=${token}`);
  t.after(() => stream.close());
  assert.equal(stream.status, 200);
  await stream.waitForEvents(4);
  const wrong = await request(server.url, '/api/sandboxes/web/logs/stream?token=nope');
  assert.equal(wrong.status, 401);
  // The page itself holds no data: it loads without a token and asks for one.
  assert.equal((await request(server.url, '/')).status, 200);
  assert.equal((await request(server.url, '/app.js')).status, 200);
});

test('without a token the API is open (on loopback)', async (t) => {
  const { home } = fixture(t);
  const server = await serve(t, { home });
  assert.equal(
    (await request(server.url, '/api/sandboxes', { headers: { authorization: 'Bearer anything' } })).status,
    200,
  );
});

test('listening beyond loopback without a token is refused', async () => {
  await assert.rejects(startServer({ host: '0.0.0.0', port: 0 }), {
    code: 'INVALID_OPTIONS',
    message: /refusing to listen on 0\.0\.0\.0 without a token/,
  });
  await assert.rejects(startServer({ port: 0, token: 'has space' }), { code: 'INVALID_OPTIONS' });
});

test('on loopback, requests addressed to another host name are refused (DNS rebinding)', async (t) => {
  const { home } = fixture(t);
  const server = await serve(t, { home });
  const refused = await request(server.url, '/api/sandboxes', { headers: { host: 'attacker.example:7070' } });
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error, 'FORBIDDEN_HOST');
  for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`, 'localhost']) {
    assert.equal((await request(server.url, '/api/sandboxes', { headers: { host } })).status, 200, host);
  }
});

test('every response carries nosniff and no-framing headers; the page gets a strict CSP', async (t) => {
  const { home } = fixture(t);
  const server = await serve(t, { home });
  for (const path of ['/', '/app.js', '/style.css', '/api/sandboxes', '/api/nope', '/api/sandboxes/%2e%2e/logs']) {
    const response = await request(server.url, path);
    assert.equal(response.headers['x-content-type-options'], 'nosniff', path);
    assert.equal(response.headers['x-frame-options'], 'DENY', path);
    assert.match(response.headers['content-security-policy'], /frame-ancestors 'none'/, path);
    assert.equal(response.headers['referrer-policy'], 'no-referrer', path);
  }
  const page = await request(server.url, '/');
  assert.match(page.headers['content-type'], /^text\/html; charset=utf-8/);
  assert.match(page.headers['content-security-policy'], /default-src 'none'/);
  assert.match(page.headers['content-security-policy'], /script-src 'self';/);
  assert.doesNotMatch(page.headers['content-security-policy'], /unsafe-inline|unsafe-eval|https?:/);
  // Nothing is loaded from outside the machine.
  assert.doesNotMatch(page.body, /(src|href)="(https?:)?\/\//);
  assert.match((await request(server.url, '/app.js')).headers['content-type'], /^text\/javascript/);
  assert.match((await request(server.url, '/style.css')).headers['content-type'], /^text\/css/);
  const head = await request(server.url, '/', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('the snapshot streams large answers and keeps non-UTF-8 bodies lossless', async (t) => {
  const { home, logDir } = tempSandbox(t, 'big');
  const writer = new ExecLogWriter(logDir);
  const count = 20_000;
  for (let i = 0; i < count; i++) writer.write('stdout', `entry ${i} ${'x'.repeat(40)}\n`, 1);
  writer.write('stdout', Uint8Array.from([0xff, 0xfe, 0x41]), 1);
  await writer.close();
  const server = await serve(t, { home });
  const response = await request(server.url, '/api/sandboxes/big/logs');
  assert.equal(response.status, 200);
  assert.equal(response.json.entries.length, count + 1);
  assert.equal(response.json.entries[12_345].d, `entry 12345 ${'x'.repeat(40)}\n`);
  assert.deepEqual(response.json.entries.at(-1), {
    ...response.json.entries.at(-1),
    e: 'b64',
    d: Buffer.from([0xff, 0xfe, 0x41]).toString('base64'),
  });
});

test('a sandbox directory that is a link out of the home is not found', async (t) => {
  const { home } = fixture(t);
  const outside = tempDir(t);
  mkdirSync(join(outside, 'logs'), { recursive: true });
  writeFileSync(join(outside, 'logs', 'exec.log'), `${recordLine(at(0), 'stdout', 'SECRET\n', 1)}\n`);
  const { symlinkSync } = await import('node:fs');
  symlinkSync(outside, join(home, 'sandboxes', 'escape'));
  const server = await serve(t, { home });
  const response = await request(server.url, '/api/sandboxes/escape/logs');
  assert.equal(response.status, 404);
  assert.doesNotMatch(response.body, /SECRET/);
});

test('snapshot then stream from its cursor: no gap and no duplicate', async (t) => {
  const { home } = fixture(t);
  const server = await serve(t, { home });
  const snapshot = (await request(server.url, '/api/sandboxes/web/logs?tail=2')).json;
  const stream = await openEventStream(
    server.url,
    `/api/sandboxes/web/logs/stream?after=${encodeURIComponent(snapshot.cursor)}`,
  );
  t.after(() => stream.close());
  const writer = new ExecLogWriter(join(home, 'sandboxes', 'web', 'logs'));
  t.after(() => writer.close());
  writer.write('stdout', 'after the snapshot\n', 3);
  writer.flush();
  await stream.waitForEvents(1);
  assert.deepEqual(
    entriesOf(stream.events).map((entry) => entry.d),
    ['after the snapshot\n'],
  );
});

test('createApp is a plain request handler: it mounts on any node:http server', async (t) => {
  const { home } = fixture(t);
  const { createServer } = await import('node:http');
  const app = createApp({ home });
  const server = createServer(app.handle);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await app.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const base = `http://127.0.0.1:${server.address().port}/`;
  const response = await request(base, '/api/sandboxes/web/logs?tail=1');
  assert.equal(response.status, 200);
  assert.deepEqual(
    response.json.entries.map((entry) => entry.d),
    ['second session\n'],
  );
});
