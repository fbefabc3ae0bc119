// Writer crash (issue 6, part 2): a writer process is killed with SIGKILL at
// random moments — from outside at a random delay, inside a 2 MiB write, in
// the middle of a record (half a line on disk), between the renames of a
// rotation, and after the renames before the new live file exists — over many
// lifetimes of the same log directory. After each crash:
// - a snapshot reader sees only whole records, exactly as written, in order
//   (within a writer lifetime a prefix with no gap), and no error;
// - a follower that runs across every crash never stops with an error, and
//   ends up with every record any snapshot saw, once each;
// - the next writer (a restart) closes a torn line off and appends records that
//   read back intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { streamLogs, ExecLogWriter } from '../../dist/index.js';
import { tempSandbox, waitFor, withTimeout, DEADLINE_MS } from '../helpers.js';
import { processSeed, randomSource, scaled } from './support.js';
import { parseTag, recordBody } from './fixtures/crash-records.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'crash-writer.js');
const MAX_BYTES = 32 * 1024;
const MAX_FILES = 4;

function startWriter(logDir, lifetime, mode, killAt) {
  const child = spawn(
    process.execPath,
    [FIXTURE, logDir, String(lifetime), mode, String(MAX_BYTES), String(MAX_FILES), String(killAt)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr: () => stderr })),
  );
  const ready = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('ready\n')) resolve();
    });
    child.on('exit', () => reject(new Error(`writer exited before it was ready: ${stderr}`)));
  });
  ready.catch(() => undefined);
  return { child, ready, exited };
}

/** Checks entries in file order: each is exactly a record that was written, and within a lifetime there is no gap. */
function checkWholeRecords(entries, bigLifetimes, what) {
  let previous;
  for (const [i, entry] of entries.entries()) {
    const tag = parseTag(entry.data);
    assert.ok(
      tag !== undefined,
      `${what}: entry ${i} is not a whole record: ${JSON.stringify(Buffer.from(entry.data.subarray(0, 60)).toString('latin1'))}`,
    );
    const expected = recordBody(tag.lifetime, tag.n, bigLifetimes.has(tag.lifetime));
    assert.ok(
      Buffer.from(entry.data).equals(expected),
      `${what}: record L${tag.lifetime}#${tag.n} is not byte-identical (${entry.data.length} B, expected ${expected.length} B)`,
    );
    if (previous !== undefined) {
      if (tag.lifetime === previous.lifetime) {
        assert.equal(tag.n, previous.n + 1, `${what}: after L${previous.lifetime}#${previous.n} comes #${tag.n}`);
      } else {
        assert.ok(tag.lifetime > previous.lifetime, `${what}: lifetime ${tag.lifetime} after ${previous.lifetime}`);
      }
    }
    previous = tag;
  }
}

const key = (entry) => {
  const tag = parseTag(entry.data);
  return `${tag.lifetime}#${tag.n}`;
};

test('a writer killed with SIGKILL at random moments leaves only whole records, and a restarted writer appends correctly', {
  timeout: 600_000,
}, async (t) => {
  const random = randomSource(processSeed());
  t.diagnostic(`seed ${random.seed} (replay with TORTURE_SEED=${random.seed})`);
  const { logDir } = tempSandbox(t);
  const bigLifetimes = new Set();
  const modes = { run: 0, tear: 0, rename: 0, reopen: 0, big: 0 };

  // One follower across every crash.
  const controller = new AbortController();
  const followed = [];
  let followError;
  const follower = streamLogs({ logDir }, { follow: true, signal: controller.signal, pollIntervalMs: 100 });
  const following = (async () => {
    for await (const batch of follower.batches()) followed.push(...batch);
  })().catch((error) => {
    followError = error;
  });

  const snapshotKeys = new Set();
  const iterations = scaled(60);
  let malformedCeiling = 0;
  try {
    for (let lifetime = 0; lifetime < iterations; lifetime++) {
      const roll = random.next();
      const mode = roll < 0.45 ? 'run' : roll < 0.6 ? 'tear' : roll < 0.75 ? 'rename' : roll < 0.87 ? 'reopen' : 'big';
      modes[mode] += 1;
      if (mode === 'big') bigLifetimes.add(lifetime);
      const killAt = mode === 'tear' ? random.int(0, 40) : mode === 'rename' ? random.int(1, MAX_FILES * 2) : 0;
      const writer = startWriter(logDir, lifetime, mode, killAt);
      await withTimeout(writer.ready, DEADLINE_MS, `writer ${lifetime} (${mode}) start`);
      if (mode === 'run' || mode === 'big') {
        await new Promise((resolve) => setTimeout(resolve, mode === 'big' ? random.int(0, 15) : random.int(0, 80)));
        writer.child.kill('SIGKILL');
      }
      // Self-killing modes end on their own; bound the wait, then kill.
      const timer = setTimeout(() => writer.child.kill('SIGKILL'), 10_000);
      const exit = await withTimeout(writer.exited, DEADLINE_MS, `writer ${lifetime} exit`);
      clearTimeout(timer);
      assert.equal(
        exit.signal,
        'SIGKILL',
        `writer ${lifetime} (${mode}) ended with ${exit.code}/${exit.signal}: ${exit.stderr()}`,
      );
      malformedCeiling += 1; // a crash leaves at most one torn line

      const snapshot = streamLogs({ logDir });
      const entries = [];
      for await (const batch of snapshot.batches()) entries.push(...batch);
      checkWholeRecords(
        entries,
        bigLifetimes,
        `snapshot after crash ${lifetime} (${mode}${killAt ? ` at ${killAt}` : ''})`,
      );
      assert.ok(
        snapshot.malformed <= malformedCeiling,
        `${snapshot.malformed} malformed records after ${lifetime + 1} crashes`,
      );
      for (const entry of entries) snapshotKeys.add(key(entry));

      // The follower catches up with everything on disk, without an error.
      const last = entries.at(-1);
      if (last !== undefined) {
        const want = key(last);
        await waitFor(() => followError !== undefined || (followed.length > 0 && key(followed.at(-1)) === want), {
          timeoutMs: DEADLINE_MS,
          what: `the follower to reach ${want} after crash ${lifetime} (${mode})`,
        });
      }
      assert.equal(followError, undefined, `the follower stopped: ${followError}`);
    }

    // A clean restart: the torn line (if any) is closed off and the new record reads back intact.
    const writer = new ExecLogWriter(logDir, { maxBytes: MAX_BYTES, maxFiles: MAX_FILES });
    const finalBody = recordBody(iterations, 0, false);
    writer.write('stdout', finalBody, 1);
    writer.close();
    const { entries: after } = { entries: [] };
    const snapshot = streamLogs({ logDir });
    for await (const batch of snapshot.batches()) after.push(...batch);
    checkWholeRecords(after, bigLifetimes, 'snapshot after a clean restart');
    assert.equal(key(after.at(-1)), `${iterations}#0`, 'the restarted writer appended its record last, intact');
    await waitFor(
      () => followError !== undefined || (followed.length > 0 && key(followed.at(-1)) === `${iterations}#0`),
      {
        timeoutMs: DEADLINE_MS,
        what: 'the follower to see the restarted writer',
      },
    );
    assert.equal(followError, undefined, `the follower stopped: ${followError}`);
  } finally {
    controller.abort();
    await withTimeout(following, DEADLINE_MS, 'follower end').catch(() => undefined);
  }

  checkWholeRecords(followed, bigLifetimes, 'follower across every crash');
  const followedKeys = new Set(followed.map(key));
  assert.equal(followedKeys.size, followed.length, 'the follower delivered no record twice');
  for (const snapshotKey of snapshotKeys)
    assert.ok(followedKeys.has(snapshotKey), `the follower missed ${snapshotKey}, which a snapshot saw`);
  t.diagnostic(
    `lifetimes by mode ${JSON.stringify(modes)}; ${followed.length} records followed; malformed (torn) lines ${follower.malformed}`,
  );
});
