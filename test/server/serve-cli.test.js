// `sandlog serve` as a process: prints its URL, refuses to listen beyond
// loopback without a token, takes the token from SANDLOG_TOKEN, and on
// SIGINT/SIGTERM ends live streams and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecLogWriter } from '../../dist/index.js';
import { runCli, tempSandbox } from '../helpers.js';
import { exited, openEventStream, request, startServeProcess } from './http.js';

test('serve refuses a non-loopback address without a token (exit 2, nothing listening)', async (t) => {
  const { home } = tempSandbox(t);
  const result = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--home', home], {
    env: { SANDLOG_TOKEN: '' },
  });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /refusing to listen on 0\.0\.0\.0 without a token/);
});

test('serve rejects bad flags as usage errors', async () => {
  for (const args of [['--port', 'eighty'], ['--port', '70000'], ['extra']]) {
    const result = await runCli(['serve', ...args]);
    assert.equal(result.code, 2, args.join(' '));
  }
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  test(`serve prints its URL, serves, and on ${signal} ends live streams and exits 0`, async (t) => {
    const { home, logDir } = tempSandbox(t, 'web');
    const writer = new ExecLogWriter(logDir);
    writer.write('stdout', 'hello\n', 1);
    writer.close();
    const server = await startServeProcess(['--port', '0', '--home', home]);
    t.after(() => server.child.kill('SIGKILL'));
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal((await request(server.url, '/api/sandboxes')).json[0].name, 'web');
    const stream = await openEventStream(server.url, '/api/sandboxes/web/logs/stream');
    t.after(() => stream.close());
    await stream.waitForEvents(1);
    server.child.kill(signal);
    assert.deepEqual(await exited(server.child), { code: 0, signal: null });
    await stream.waitForEnd();
  });
}

test('serve takes its token from SANDLOG_TOKEN and may then listen beyond loopback', async (t) => {
  const { home } = tempSandbox(t, 'web');
  const server = await startServeProcess(['--host', '0.0.0.0', '--port', '0', '--home', home], {
    env: { SANDLOG_TOKEN: 'from-env' },
  });
  t.after(() => server.child.kill('SIGKILL'));
  const base = `http://127.0.0.1:${server.port}/`;
  assert.equal((await request(base, '/api/sandboxes')).status, 401);
  assert.equal((await request(base, '/api/sandboxes', { headers: { authorization: 'Bearer from-env' } })).status, 200);
  // Beyond loopback the Host check is off (the token guards the API): any Host name is answered.
  assert.equal(
    (await request(base, '/api/sandboxes', { headers: { host: 'logs.example', authorization: 'Bearer from-env' } }))
      .status,
    200,
  );
  server.child.kill('SIGTERM');
  assert.deepEqual(await exited(server.child), { code: 0, signal: null });
});
