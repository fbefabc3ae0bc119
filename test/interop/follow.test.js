// Following, against microsandbox's own follower (the binding's logStream({ follow: true })): every
// entry of a filtered follow stream of exec.log carries the same cursor — its own position, never past
// the records the filter dropped — in sandlog's library, in `sandlog logs -f --json` and as the SSE
// `id:`; and the binding follows a log that `sandlog run` writes through several rotations, seeing
// every record once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, streamLogs } from '../../dist/index.js';
import { recordLine, runCli, spawnCli, take, waitFor, waitForExit } from '../helpers.js';
import { openEventStream } from '../server/http.js';
import { bindingQueries, logDirOf, makeHome, oracleTestOptions } from './oracle.js';

const options = oracleTestOptions();
const SOURCES = ['stdout', 'stderr', 'output', 'system'];
const FILTERS = [['stdout'], ['stderr'], ['output'], ['system'], ['stdout', 'stderr'], ['stderr', 'output', 'system']];

function at(ms) {
  return new Date(Date.UTC(2026, 3, 30, 20, 0, 0) + ms).toISOString();
}

// Records of every source, interleaved, so that each filter drops records between the ones it keeps.
function records(from, to) {
  const lines = [];
  for (let i = from; i < to; i++) {
    const source = SOURCES[(i * 7) % 4];
    lines.push(
      source === 'system'
        ? recordLine(at(i), 'system', `marker ${i}\n`)
        : recordLine(at(i), source, `line ${i}\n`, 1 + (i % 3)),
    );
  }
  return lines;
}

const countOf = (lines, sources) => lines.filter((line) => sources.includes(JSON.parse(line).s)).length;

// `sandlog logs -f --json` until `count` lines came out; resolves to the parsed lines.
async function cliFollow(logDir, sources, count) {
  const child = spawnCli(['logs', '--log-dir', logDir, '-f', '--json', '--source', sources.join(',')]);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
  try {
    await waitFor(() => out.split('\n').length > count, {
      timeoutMs: 30_000,
      what: `${count} lines of sandlog logs -f --json`,
    });
  } finally {
    child.kill('SIGINT');
    await waitForExit(child);
  }
  return out
    .split('\n')
    .slice(0, count)
    .map((line) => JSON.parse(line));
}

test(
  "a filtered follow stream gives every entry the binding follower's cursor: library, logs -f --json and SSE id",
  options,
  async (t) => {
    const home = makeHome(t, ['box']);
    const logDir = logDirOf(home, 'box');
    // A rotated file and a live one, then records appended while sandlog follows.
    const older = records(0, 40);
    const first = records(40, 80);
    const later = records(80, 120);
    writeFileSync(join(logDir, 'exec.log.1'), `${older.join('\n')}\n`);
    writeFileSync(join(logDir, 'exec.log'), `${first.join('\n')}\n`);
    const before = [...older, ...first];
    const all = [...before, ...later];

    const server = await startServer({ home, port: 0 });
    t.after(() => server.close());
    const followers = [];
    for (const sources of FILTERS) {
      const controller = new AbortController();
      t.after(() => controller.abort());
      const iterator = streamLogs(logDir, { sources, follow: true, signal: controller.signal })[Symbol.asyncIterator]();
      const sse = await openEventStream(server.url, `/api/sandboxes/box/logs/stream?source=${sources.join(',')}`);
      t.after(() => sse.close());
      followers.push({ sources, iterator, sse, entries: await take(iterator, countOf(before, sources), 30_000) });
    }
    appendFileSync(join(logDir, 'exec.log'), `${later.join('\n')}\n`);

    // The oracle follows the whole log (it is on disk now; its cursors are positions, whenever it reads them).
    const bound = await bindingQueries(
      home,
      'box',
      FILTERS.map((sources) => ({ kind: 'stream', options: { sources, follow: true }, take: countOf(all, sources) })),
    );
    for (const [i, follower] of followers.entries()) {
      const { sources } = follower;
      const expected = bound[i].entries.map((entry) => entry.cursor);
      assert.equal(expected.length, countOf(all, sources), `binding follower, ${sources}`);
      follower.entries.push(...(await take(follower.iterator, countOf(later, sources), 30_000)));
      assert.deepEqual(
        follower.entries.map((entry) => entry.cursor),
        expected,
        `library follower, ${sources}`,
      );
      const events = await follower.sse.waitForEvents(expected.length);
      assert.deepEqual(
        events.slice(0, expected.length).map((event) => event.id),
        expected,
        `SSE ids, ${sources}`,
      );
      const cli = await cliFollow(logDir, sources, expected.length);
      assert.deepEqual(
        cli.map((line) => line.cursor),
        expected,
        `sandlog logs -f --json, ${sources}`,
      );
    }
  },
);

test(
  "the binding's follower follows a log that sandlog run writes through several rotations, every record once",
  options,
  async (t) => {
    const home = makeHome(t, ['runner']);
    const logDir = logDirOf(home, 'runner');
    const LINES = 400;
    // Something in the log before the follower starts (the follower's stream must exist first).
    const warmup = await runCli([
      'run',
      'runner',
      '--home',
      home,
      '--quiet',
      '--max-bytes',
      '4096',
      '--',
      process.execPath,
      '-e',
      'console.log("warm-up")',
    ]);
    assert.equal(warmup.code, 0, warmup.stderr);

    let seen = 0;
    const following = bindingQueries(
      home,
      'runner',
      [
        {
          kind: 'stream',
          options: { sources: ['stdout'], follow: true },
          stopAfter: `line ${LINES - 1} `,
          progress: true,
        },
      ],
      { timeoutMs: 120_000, onProgress: (n) => (seen = n) },
    );
    await waitFor(() => seen >= 1, { timeoutMs: 30_000, what: 'the binding follower to read the warm-up line' });
    // Paced, so that a follower polling every few milliseconds keeps up with a rotation every ~60 lines.
    const script = `let i = 0; const timer = setInterval(() => { console.log('line ' + i + ' ' + 'x'.repeat(40)); if (++i === ${LINES}) clearInterval(timer); }, 3);`;
    const run = await runCli(
      [
        'run',
        'runner',
        '--home',
        home,
        '--quiet',
        '--max-bytes',
        '4096',
        '--max-files',
        '4',
        '--',
        process.execPath,
        '-e',
        script,
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(run.code, 0, run.stderr);
    const [result] = await following;
    assert.equal(result.error, undefined, result.error);
    const lines = result.entries.map((entry) => Buffer.from(entry.data, 'base64').toString('utf8'));
    // Every record once, in order (a record may hold several lines when the program's writes were merged).
    const expected = `warm-up\n${Array.from({ length: LINES }, (_, i) => `line ${i} ${'x'.repeat(40)}\n`).join('')}`;
    assert.equal(lines.join(''), expected);
    const rotated = readdirSync(logDir).filter((name) => /^exec\.log\.\d$/.test(name));
    assert.ok(rotated.length >= 3, `the run rotated the log (${rotated.join(', ')})`);
  },
);
