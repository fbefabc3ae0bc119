// Cursor fuzz (issue 6, part 6): random strings and mutated valid cursors given
// to `sandlog logs --after-cursor` and to `sandlog serve` as Last-Event-ID.
// The only outcomes allowed: exit 1 with one clear invalid-cursor line on
// stderr (HTTP 400), or — when the mutation happens to be another valid cursor
// — a clean run that shows exactly the records after some record boundary.
// Never a crash, a stack trace, another exit code, or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { request } from 'node:http';
import fc from 'fast-check';
import { main } from '../../dist/cli/main.js';
import { ExecLogWriter, readLogs, decodeCursor, encodeCursor } from '../../dist/index.js';
import { CLI, runCli, tempSandbox, withTimeout, DEADLINE_MS } from '../helpers.js';
import { checkParameters, scaled } from './support.js';

const RUN_TIMEOUT_MS = DEADLINE_MS;

/** A sandbox with a rotated exec.log chain; returns its records' texts and every entry cursor. */
async function fixture(t) {
  const box = tempSandbox(t);
  const writer = new ExecLogWriter(box.logDir, { maxBytes: 400, maxFiles: 4 });
  for (let i = 0; i < 40; i++)
    writer.write(i % 2 === 0 ? 'stdout' : 'stderr', `line ${i} ${'x'.repeat(i % 17)}\n`, 1 + (i % 3));
  writer.close();
  const entries = await readLogs({ logDir: box.logDir });
  const texts = entries.map((entry) => entry.text());
  return { ...box, full: texts.join(''), texts, cursors: entries.map((entry) => entry.cursor) };
}

function collector() {
  const chunks = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  stream.text = () => Buffer.concat(chunks).toString('utf8');
  return stream;
}

/** Runs the CLI's main() in this process (the same code path as the executable, minus process wiring). */
async function runInProcess(args) {
  const stdout = collector();
  const stderr = collector();
  const controller = new AbortController();
  const code = await withTimeout(
    main(args, {
      stdout,
      stderr,
      env: {},
      signal: controller.signal,
      claimSignals: () => undefined,
      stdin: process.stdin,
    }),
    RUN_TIMEOUT_MS,
    `sandlog ${args.join(' ')}`,
  );
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** The property every run must satisfy. */
function checkOutcome(box, cursor, { code, stdout, stderr }) {
  const what = `--after-cursor=${JSON.stringify(cursor)}`;
  if (code === 0) {
    // Another valid cursor: exactly the records after some boundary.
    assert.ok(
      box.full.endsWith(stdout),
      `${what}: exit 0 but the output is not the records after a boundary: ${JSON.stringify(stdout.slice(0, 80))}`,
    );
    const suffixStart = box.full.length - stdout.length;
    const boundaries = new Set([0]);
    let at = 0;
    for (const text of box.texts) {
      at += text.length;
      boundaries.add(at);
    }
    assert.ok(boundaries.has(suffixStart), `${what}: output starts inside a record`);
    assert.ok(!/error|invalid/i.test(stderr), `${what}: exit 0 with ${JSON.stringify(stderr)}`);
    return 'valid';
  }
  assert.equal(code, 1, `${what}: exit ${code}, stderr ${JSON.stringify(stderr)}`);
  assert.equal(stdout, '', `${what}: nothing on stdout`);
  const lines = stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `${what}: one line on stderr, got ${JSON.stringify(stderr)}`);
  assert.match(lines[0], /^sandlog: invalid cursor: /, `${what}: ${lines[0]}`);
  assert.ok(!/\n\s+at /.test(stderr), 'no stack trace');
  return 'invalid';
}

// Mutations of a valid cursor: at the byte level (re-encoded, so it is still base64) and at the text level.
function mutate(box, cursor, { kind, index, value }) {
  const bytes = Buffer.from(cursor, 'base64');
  switch (kind) {
    case 'flip-bit': {
      const at = index % bytes.length;
      bytes[at] ^= 1 << (value % 8);
      return bytes.toString('base64');
    }
    case 'set-byte':
      bytes[index % bytes.length] = value % 256;
      return bytes.toString('base64');
    case 'count':
      bytes[0] = value % 256;
      return bytes.toString('base64');
    case 'truncate':
      return bytes.subarray(0, index % bytes.length).toString('base64');
    case 'extend':
      return Buffer.concat([bytes, Buffer.alloc(1 + (value % 40), value % 256)]).toString('base64');
    case 'offset': {
      const [position] = decodeCursor(cursor);
      const offset = Math.max(0, position.offset + ((value % 401) - 200));
      return encodeCursor([{ generation: position.generation, offset }]);
    }
    case 'other-generation': {
      // Another file's inode with this cursor's offset: valid only where that offset is a boundary of that file.
      const other = decodeCursor(box.cursors[index % box.cursors.length])[0];
      const [position] = decodeCursor(cursor);
      return encodeCursor([{ generation: other.generation, offset: position.offset }]);
    }
    case 'generation-zero':
      return encodeCursor([{ generation: 0n, offset: value }]);
    case 'huge-offset':
      return encodeCursor([
        { generation: decodeCursor(cursor)[0].generation, offset: Number.MAX_SAFE_INTEGER - (value % 1000) },
      ]);
    case 'text-insert':
      return (
        cursor.slice(0, index % (cursor.length + 1)) +
        String.fromCharCode(value % 128) +
        cursor.slice(index % (cursor.length + 1))
      );
    case 'text-delete': {
      const at = index % cursor.length;
      return cursor.slice(0, at) + cursor.slice(at + 1);
    }
    case 'url-safe':
      return cursor.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    case 'unpadded':
      return cursor.replace(/=+$/, '');
    case 'whitespace':
      return ` ${cursor}\n`;
    case 'two-positions':
      return encodeCursor([...decodeCursor(cursor), ...decodeCursor(cursor)]);
    default:
      throw new Error(kind);
  }
}

const MUTATION_KINDS = [
  'flip-bit',
  'set-byte',
  'count',
  'truncate',
  'extend',
  'offset',
  'other-generation',
  'generation-zero',
  'huge-offset',
  'text-insert',
  'text-delete',
  'url-safe',
  'unpadded',
  'whitespace',
  'two-positions',
];

const mutation = fc.record({
  kind: fc.constantFrom(...MUTATION_KINDS),
  index: fc.nat(),
  value: fc.nat(),
  pick: fc.nat(),
});

const randomCursorText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({
    unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='.split('')),
    maxLength: 80,
  }),
  fc.uint8Array({ maxLength: 70 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

test('random strings as --after-cursor: exit 1 with one invalid-cursor line, or a clean run', async (t) => {
  const box = await fixture(t);
  const outcomes = { valid: 0, invalid: 0 };
  await fc.assert(
    fc.asyncProperty(randomCursorText, async (cursor) => {
      outcomes[
        checkOutcome(box, cursor, await runInProcess(['logs', '--log-dir', box.logDir, `--after-cursor=${cursor}`]))
      ] += 1;
    }),
    checkParameters('random cursor strings', scaled(300)),
  );
  t.diagnostic(`outcomes ${JSON.stringify(outcomes)}`);
});

test('mutated valid cursors as --after-cursor: exit 1 with one invalid-cursor line, or exactly the records after a boundary', async (t) => {
  const box = await fixture(t);
  const outcomes = { valid: 0, invalid: 0 };
  await fc.assert(
    fc.asyncProperty(mutation, async (change) => {
      const cursor = mutate(box, box.cursors[change.pick % box.cursors.length], change);
      outcomes[
        checkOutcome(box, cursor, await runInProcess(['logs', '--log-dir', box.logDir, `--after-cursor=${cursor}`]))
      ] += 1;
    }),
    checkParameters('mutated cursors', scaled(400)),
  );
  t.diagnostic(`outcomes ${JSON.stringify(outcomes)}`);
  assert.ok(outcomes.valid > 0 && outcomes.invalid > 0, 'both outcomes were exercised');
});

test('the sandlog executable answers fuzzed cursors the same way (real processes)', async (t) => {
  const box = await fixture(t);
  const samples = fc.sample(
    fc.oneof(
      randomCursorText.filter((text) => !text.includes('\u0000')),
      mutation.map((change) => mutate(box, box.cursors[change.pick % box.cursors.length], change)),
    ),
    { numRuns: scaled(16), seed: 42 },
  );
  for (const cursor of samples) {
    const result = await runCli(['logs', '--log-dir', box.logDir, `--after-cursor=${cursor}`], {
      timeoutMs: RUN_TIMEOUT_MS,
    });
    assert.equal(result.signal, null);
    checkOutcome(box, cursor, result);
  }
});

// ---- the server half: Last-Event-ID → HTTP 400 --------------------------------

function startServe(home) {
  const child = spawn(process.execPath, [CLI, 'serve', '--home', home, '--port', '0', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /(http:\/\/\S+)/.exec(out);
      if (match !== null) resolve(new URL(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`sandlog serve exited ${code}: ${stderr}`)));
  });
  url.catch(() => undefined);
  return { child, url, stderr: () => stderr };
}

function get(url, path, headers) {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers }, (response) => {
      if (response.statusCode !== 200) {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode, body }));
        return;
      }
      // A valid cursor opens a live stream: take its status and hang up.
      resolve({ status: 200, type: response.headers['content-type'] });
      req.destroy();
    });
    req.on('error', (error) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    req.end();
  });
}

test('sandlog serve answers fuzzed Last-Event-ID and after= cursors with 400, or a stream for a valid one', {
  timeout: 120_000,
}, async (t) => {
  const box = await fixture(t);
  const server = startServe(box.home);
  t.after(() => server.child.kill('SIGKILL'));
  const url = await withTimeout(server.url, RUN_TIMEOUT_MS, 'sandlog serve to listen');
  const printable = (text) => /^[\t\x20-\x7e]*$/.test(text);
  const samples = fc
    .sample(
      fc.oneof(
        randomCursorText,
        mutation.map((change) => mutate(box, box.cursors[change.pick % box.cursors.length], change)),
      ),
      { numRuns: scaled(150), seed: 7 },
    )
    .filter(printable);
  const outcomes = { 400: 0, 200: 0 };
  for (const cursor of samples) {
    const stream = await withTimeout(
      get(url, `/api/sandboxes/${box.name}/logs/stream`, { 'last-event-id': cursor }),
      RUN_TIMEOUT_MS,
      `Last-Event-ID ${JSON.stringify(cursor)}`,
    );
    const snapshot = await withTimeout(
      get(url, `/api/sandboxes/${box.name}/logs?after=${encodeURIComponent(cursor)}`, {}),
      RUN_TIMEOUT_MS,
      `after=${JSON.stringify(cursor)}`,
    );
    for (const [what, response] of [
      ['Last-Event-ID', stream],
      ['after=', snapshot],
    ]) {
      assert.ok(
        response.status === 400 || response.status === 200,
        `${what} ${JSON.stringify(cursor)}: HTTP ${response.status} ${response.body ?? ''}`,
      );
      if (response.status === 400)
        assert.match(response.body, /cursor/i, `${what} ${JSON.stringify(cursor)}: ${response.body}`);
      outcomes[response.status] += 1;
    }
    if (cursor.trim() !== '' && stream.status === 200) {
      // Valid as Last-Event-ID means valid as after= too (blank after= is ignored).
      assert.equal(snapshot.status, 200, `${JSON.stringify(cursor)}: a valid Last-Event-ID but a rejected after=`);
    }
  }
  assert.equal(server.child.exitCode, null, `the server is still up: ${server.stderr()}`);
  assert.ok(!/unexpected error/.test(server.stderr()), server.stderr());
  t.diagnostic(`${samples.length} cursors × 2 routes: ${JSON.stringify(outcomes)}`);
});
