// writeOut with a `written` callback resolves only once the stream is done with the bytes, on every
// kind of stream stdout can be: a socket (what a spawning parent's pipe is), a pipe, a file. The
// renderer reuses a batch's buffer as soon as its write resolves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { createWriteStream, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { once } from 'node:events';
import { writeOut } from '../../dist/cli/output.js';
import { tempDir } from '../helpers.js';

const CHUNK = 1024 * 1024;
const CHUNKS = 12;

// Writes CHUNKS chunks of one reused buffer, refilled after each write resolves; checks that each
// write's callback ran before it resolved. Returns the bytes the reader must have seen.
async function writeReused(stream) {
  const buffer = Buffer.alloc(CHUNK);
  const expected = [];
  for (let i = 0; i < CHUNKS; i++) {
    buffer.fill(0x41 + i);
    expected.push(Buffer.from(buffer));
    let released = false;
    await writeOut(stream, buffer, () => {
      released = true;
    });
    assert.ok(released, `write ${i} resolved before the stream was done with its bytes`);
  }
  return Buffer.concat(expected);
}

test('writeOut into a slow socket: each buffer is given back before the write resolves, and none is overwritten in flight', async (t) => {
  const received = [];
  const server = createServer((socket) => {
    // A slow reader: pauses now and then, so that the writer's socket buffer fills.
    socket.on('data', (chunk) => {
      received.push(chunk);
      socket.pause();
      setTimeout(() => socket.resume(), 1);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const client = connect(server.address().port, '127.0.0.1');
  await once(client, 'connect');
  t.after(() => client.destroy());
  const expected = await writeReused(client);
  client.end();
  await once(client, 'close');
  const deadline = Date.now() + 30_000;
  while (Buffer.concat(received).length < expected.length && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(Buffer.concat(received).equals(expected));
});

test('writeOut into a file stream and into a child process pipe gives back each buffer before resolving', async (t) => {
  const dir = tempDir(t);
  const file = createWriteStream(join(dir, 'out'));
  t.after(() => file.destroy());
  const expected = await writeReused(file);
  file.end();
  await once(file, 'finish');
  assert.ok(readFileSync(join(dir, 'out')).equals(expected));

  const child = spawn('wc', ['-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let counted = '';
  child.stdout.on('data', (chunk) => {
    counted += chunk;
  });
  await writeReused(child.stdin);
  child.stdin.end();
  await once(child, 'close');
  assert.equal(Number(counted.trim()), CHUNK * CHUNKS);
});
