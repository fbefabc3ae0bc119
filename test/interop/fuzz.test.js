// The seeded differential fuzzer: random log directories (./corpus.js) read by microsandbox 0.6.18 and
// by sandlog, for random filters; every entry, its order and its cursor must agree, text output must
// agree but for the documented differences, and resuming from sampled cursors must give both engines
// the same remaining entries. One fixed seed and one random seed per run; a failure names its seed.
//   INTEROP_SEED=<n> npm test           replay one seed
//   TORTURE_SCALE=10 npm test           ten times the corpora
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { readLogsSnapshot } from '../../dist/index.js';
import { scaled } from '../torture/support.js';
import { prng, writeCorpus } from './corpus.js';
import { compareResumes, compareSnapshots, query } from './differential.js';
import { logDirOf, makeHome, oracleTestOptions } from './oracle.js';

const options = oracleTestOptions();
const FIXED_SEED = 20261129;
const CORPORA_PER_SEED = 2;
const SOURCE_SETS = [
  undefined,
  ['all'],
  ['stdout'],
  ['stderr'],
  ['output'],
  ['system'],
  ['stdout', 'system'],
  ['stderr', 'output'],
];

function randomQueries(random, { start, end }) {
  const time = () => start - 1000 + random.int(end - start + 2000);
  const queries = [{}, { sources: ['all'] }];
  for (let i = 0; i < 6; i++) {
    const q = { sources: random.pick(SOURCE_SETS) };
    if (random.chance(0.4)) q.tail = random.int(12);
    if (random.chance(0.3)) q.since = time();
    if (random.chance(0.3)) q.until = time();
    if (random.chance(0.15)) q.grep = random.pick(['alpha', 'w$', 'é|ε', '^line']);
    queries.push(q);
  }
  return queries.map(query);
}

async function fuzz(t, seed) {
  const random = prng(seed);
  const corpora = scaled(CORPORA_PER_SEED);
  const home = makeHome(t, ['fuzz']);
  const logDir = logDirOf(home, 'fuzz');
  for (let corpus = 0; corpus < corpora; corpus++) {
    rmSync(logDir, { recursive: true, force: true });
    mkdirSync(logDir, { recursive: true });
    const range = writeCorpus(random, logDir);
    const queries = randomQueries(random, range);
    const differences = await compareSnapshots(home, 'fuzz', queries, {
      // Each sandlog CLI run is a process: one query's --json per corpus, and the text output.
      cli: (_, i) => i === 1,
      text: [
        ['--source', 'all'],
        ['--source', 'all', '--timestamps'],
      ],
    });
    const sources = random.pick([['stdout', 'stderr', 'output'], ['all'], ['stdout', 'system']]);
    const snapshot = await readLogsSnapshot(logDir, { sources });
    const cursors = [
      snapshot.cursor,
      ...snapshot.entries
        .filter(() => random.chance(0.25))
        .map((entry) => entry.cursor)
        .slice(0, 4),
    ];
    differences.push(...(await compareResumes(home, 'fuzz', sources, cursors)));
    assert.deepEqual(
      differences,
      [],
      `seed ${seed}, corpus ${corpus} (replay: INTEROP_SEED=${seed}; KEEP_INTEROP=1 keeps ${logDir})`,
    );
  }
}

test(`fixed seed ${FIXED_SEED}: sandlog and microsandbox agree on random corpora`, options, async (t) => {
  await fuzz(t, Number(process.env.INTEROP_SEED || FIXED_SEED));
});

test('a random seed (printed): sandlog and microsandbox agree on random corpora', options, async (t) => {
  const seed = (Date.now() ^ (Math.random() * 0x100000000)) >>> 0;
  t.diagnostic(`interop fuzz seed ${seed} (replay: INTEROP_SEED=${seed} node --test test/interop/fuzz.test.js)`);
  await fuzz(t, process.env.INTEROP_SEED ? Number(process.env.INTEROP_SEED) : seed);
});
