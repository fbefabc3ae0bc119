// Snapshot reads against microsandbox 0.6.18 on hand-made directories holding each of issue 9's odd
// lines: every entry (t s d id e), its order and its cursor must equal `msb logs --json` and the
// binding's logs() for every filter; text output must equal `msb logs --color never` but for the
// documented differences; and each documented difference is shown to be exactly that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLogs } from '../../dist/index.js';
import { runCli } from '../helpers.js';
import { compareResumes, compareSnapshots, query } from './differential.js';
import { logDirOf, makeHome, msbLogs, oracleTestOptions, parseJsonLines } from './oracle.js';

const options = oracleTestOptions();
const T = '2026-04-30T20:00:10.000Z';
const MTIME = new Date('2026-04-30T20:00:12.000Z');

// Each of issue 9's odd exec.log lines, in time order (so that sorting is not what is tested here).
const ODD_EXEC_LINES = [
  `{"t":"2026-04-30T22:00:01.000+02:00","s":"stdout","d":"offset zone\\n","id":1}`,
  `{"t":"2026-04-30T15:30:02-04:30","s":"stdout","d":"negative zone, no fraction\\n","id":1}`,
  `{"t":"2026-04-30T20:00:03.5Z","s":"stdout","d":"one fraction digit\\n","id":1}`,
  `{"t":"2026-04-30T20:00:04.123456789Z","s":"stdout","d":"nine fraction digits\\n","id":1}`,
  `{"t":"2026-04-30t20:00:05.000z","s":"stdout","d":"lower case\\n","id":1}`,
  `{"t":"2026-04-30 20:00:06.000Z","s":"stdout","d":"space separator\\n","id":1}`,
  `{"id":2,"d":"reordered keys\\n","s":"stderr","t":"${T}"}`,
  `{"t":"${T}","s":"stdout","d":"unknown keys\\n","id":2,"host":"x","nested":{"a":[1,2,{"b":null}]}}`,
  `{"t":"${T}","s":"stdout","d":"id 0\\n","id":0}`,
  `{"t":"${T}","s":"stdout","d":"id 2^53+1\\n","id":9007199254740993}`,
  `{"t":"${T}","s":"stdout","d":"id u64 max\\n","id":18446744073709551615}`,
  `{"t":"${T}","s":"stdout","d":"id too big\\n","id":18446744073709551616}`,
  `{"t":"${T}","s":"stdout","d":"id negative\\n","id":-1}`,
  `{"t":"${T}","s":"stdout","d":"id float\\n","id":1.0}`,
  `{"t":"${T}","s":"stdout","d":"id string\\n","id":"1"}`,
  `{"t":"${T}","s":"stdout","d":"id null\\n","id":null}`,
  `{"t":"${T}","s":"stdout","id":3}`,
  `{"t":"${T}","d":"missing s\\n"}`,
  `{"t":"${T}","s":"stdin","d":"unknown s\\n"}`,
  `{"t":"${T}","s":"stdout","d":"aGVsbG8gYjY0Cg==","e":"b64","id":3}`,
  `{"t":"${T}","s":"stdout","d":"/+7/","e":"b64","id":3}`,
  `{"t":"${T}","s":"stdout","d":"not base64!","e":"b64","id":3}`,
  `{"t":"${T}","s":"stdout","d":"unknown e\\n","e":"hex","id":3}`,
  `{"t":"${T}","s":"stdout","d":"duplicate d","d":"again\\n"}`,
  `{"t":"${T}","s":"stdout","d":"duplicate id\\n","id":1,"id":2}`,
  `{"t":"${T}","s":"stdout","d":"duplicate t by escape\\n","\\u0074":"${T}"}`,
  `{"t":"${T}","s":"stdout","d":"duplicate unknown key\\n","x":1,"x":2}`,
  `{"t":"${T}","s":"stdout","d":"lone high \\ud800 surrogate\\n"}`,
  `{"t":"${T}","s":"stdout","d":"lone low \\udc00 surrogate\\n"}`,
  `{"t":"${T}","s":"stdout","d":"paired \\ud83d\\ude00 surrogates\\n"}`,
  `{"t":"${T}","s":"stdout","d":"lone surrogate in an unknown key\\n","x":"\\ud800"}`,
  `{"t":"${T}","s":"stdout","d":"nul \\u0000 inside\\n"}`,
  `{"t":"${T}","s":"stdout","d":"trailing comma\\n",}`,
  `   {"t":"${T}","s":"stdout","d":"surrounding spaces\\n"}   `,
  `{"t":"${T}","s":"stdout","d":"crlf\\n"}\r`,
  '',
  '   ',
  `{"t":"${T}","s":"stdout","d":"deep nesting\\n","x":${'['.repeat(20000)}${']'.repeat(20000)}}`,
  `{"t":"2026-02-30T20:00:11.000Z","s":"stdout","d":"impossible date\\n"}`,
  `{"t":"2026-04-30T24:00:00.000Z","s":"stdout","d":"hour 24\\n"}`,
  `{"t":"2026-04-30T20:00:59.999Z","s":"system","d":"system record\\n"}`,
];

const FILTERS = [
  {},
  { sources: ['all'] },
  { sources: ['stdout'] },
  { sources: ['stderr'] },
  { sources: ['system'] },
  { tail: 3 },
  { sources: ['all'], tail: 7 },
  { tail: 0 },
  { sources: ['all'], since: Date.parse('2026-04-30T20:00:04.5Z') },
  { sources: ['all'], until: Date.parse(T) },
  { sources: ['all'], since: Date.parse('2026-04-30T20:00:03Z'), until: Date.parse('2026-04-30T20:00:11Z'), tail: 4 },
  { sources: ['all'], grep: 'id|zone' },
].map(query);
const TEXT = [
  ['--source', 'all'],
  ['--source', 'all', '--timestamps'],
];

function invalidUtf8Line() {
  return Buffer.concat([
    Buffer.from(`{"t":"${T}","s":"stdout","d":"raw `),
    Buffer.from([0xff, 0xfe]),
    Buffer.from(' invalid utf-8"}'),
  ]);
}

async function agree(home, name) {
  // sandlog's CLI (its own --json writer) for two filters; every filter through the library.
  const differences = await compareSnapshots(home, name, FILTERS, { text: TEXT, cli: (_, i) => i === 1 || i === 6 });
  assert.deepEqual(differences, []);
}

test(
  'every odd exec.log line: entries, order, values and cursors equal msb logs --json and the binding, for every filter',
  options,
  async (t) => {
    const home = makeHome(t, ['odd']);
    const logDir = logDirOf(home, 'odd');
    writeFileSync(
      join(logDir, 'exec.log'),
      Buffer.concat([Buffer.from(`${ODD_EXEC_LINES.join('\n')}\n`), invalidUtf8Line(), Buffer.from('\n')]),
    );
    await agree(home, 'odd');
    // The values themselves, as microsandbox prints them.
    const json = parseJsonLines(msbLogs(home, 'odd', ['--json', '--source', 'all']));
    assert.equal(json[0].t, '2026-04-30T20:00:01.000Z');
    assert.ok(json.some((entry) => entry.id === '18446744073709551615'));
    assert.ok(json.some((entry) => entry.id === '9007199254740993'));
    const ours = await readLogs(logDir, { sources: 'all' });
    assert.equal(ours.find((entry) => entry.text() === 'id u64 max\n').sessionId, 18446744073709551615n);
    assert.equal(ours.find((entry) => entry.text() === 'id 0\n').sessionId, 0);
    assert.ok(!ours.some((entry) => /duplicate (d|id|t)|lone (high|low)/.test(entry.text())));
  },
);

test(
  'text logs: time prefixes or the mtime, odd lines, a snapshot sorted by time across files as msb sorts it',
  options,
  async (t) => {
    const home = makeHome(t, ['text']);
    const logDir = logDirOf(home, 'text');
    writeFileSync(
      join(logDir, 'exec.log.1'),
      `${[
        `{"t":"${T}","s":"stdout","d":"old file, same time as the text lines\\n","id":1}`,
        `{"t":"${T}","s":"stderr","d":"old file, stderr\\n","id":1}`,
      ].join('\n')}\n`,
    );
    writeFileSync(
      join(logDir, 'exec.log'),
      `${[
        `{"t":"2026-04-30T20:00:09.000Z","s":"stdout","d":"before\\n","id":2}`,
        `{"t":"${T}","s":"output","d":"live file, same time\\n","id":2}`,
        `{"t":"2026-04-30T20:00:13.000Z","s":"system","d":"after the mtime\\n"}`,
      ].join('\n')}\n`,
    );
    const runtime = join(logDir, 'runtime.log');
    writeFileSync(
      runtime,
      Buffer.concat([
        Buffer.from(
          `${[
            `${T} same time as exec.log`,
            'no time prefix: takes the mtime',
            '2026-04-30T20:00:01.123456789Z nine digits, earlier than the line before',
            '2026-04-30t20:00:02.000z lower case is no prefix',
            '2026-02-30T20:00:03.000Z an impossible date is taken off, with the mtime',
            '   2026-04-30T20:00:04.000Z indented: no prefix',
            '2026-04-30T20:00:05.000Z',
            `\u001b[32m2026-04-30T20:00:06.000Z\u001b[0m a coloured prefix`,
            '2026-04-30T20:00:07.000Z\ttab separated',
            '2026-04-30T20:00:08.000Z crlf\r',
            '',
            '   ',
            '2026-04-30T20:00:09.000Z osc \u001b]0;title\u0007 and sgr \u001b[1mbold\u001b[0m',
          ].join('\n')}\n`,
        ),
        Buffer.from([0x62, 0xff, 0x0a]),
      ]),
    );
    utimesSync(runtime, MTIME, MTIME);
    const kernel = join(logDir, 'kernel.log');
    writeFileSync(kernel, `${T} kernel, same time\nkernel without prefix\n2026-04-30T20:00:00.500Z kernel, earliest\n`);
    utimesSync(kernel, MTIME, MTIME);
    await agree(home, 'text');
  },
);

test(
  'exec.log out of time order (a hand-made file): the snapshot, tail, since and until still agree with msb',
  options,
  async (t) => {
    const home = makeHome(t, ['unsorted']);
    const logDir = logDirOf(home, 'unsorted');
    const times = [5, 1, 9, 3, 3, 7, 2, 8, 0, 6];
    writeFileSync(
      join(logDir, 'exec.log'),
      `${times
        .map(
          (s, i) =>
            `{"t":"2026-04-30T20:00:0${s}.000Z","s":"${['stdout', 'stderr', 'output', 'system'][i % 4]}","d":"record ${i}\\n","id":${i}}`,
        )
        .join('\n')}\n`,
    );
    writeFileSync(
      join(logDir, 'exec.log.1'),
      `{"t":"2026-04-30T20:00:04.000Z","s":"stdout","d":"rotated\\n","id":9}\n`,
    );
    await agree(home, 'unsorted');
  },
);

test("cursors resume both engines at the same place: each engine's cursors, either engine", options, async (t) => {
  const home = makeHome(t, ['resume']);
  const logDir = logDirOf(home, 'resume');
  writeFileSync(
    join(logDir, 'exec.log.1'),
    `${[1, 2, 3].map((s) => `{"t":"2026-04-30T20:00:0${s}.000Z","s":"stdout","d":"old ${s}\\n","id":1}`).join('\n')}\n`,
  );
  writeFileSync(
    join(logDir, 'exec.log'),
    `${[4, 5, 6, 7]
      .map((s) => `{"t":"2026-04-30T20:00:0${s}.000Z","s":"${s % 2 ? 'stderr' : 'stdout'}","d":"new ${s}\\n","id":2}`)
      .join('\n')}\n`,
  );
  const runtime = join(logDir, 'runtime.log');
  writeFileSync(runtime, '2026-04-30T20:00:02.500Z runtime a\nruntime b, mtime\n');
  utimesSync(runtime, MTIME, MTIME);
  for (const sources of [['stdout', 'stderr', 'output'], ['stdout'], ['all'], ['system']]) {
    const entries = await readLogs(logDir, { sources });
    assert.deepEqual(
      await compareResumes(
        home,
        'resume',
        sources,
        entries.map((entry) => entry.cursor),
      ),
      [],
      `${sources}`,
    );
  }
});

test(
  'documented difference: with --timestamps, a body without a final newline ends before the next entry (msb runs them together)',
  options,
  async (t) => {
    const home = makeHome(t, ['nonl']);
    writeFileSync(
      join(logDirOf(home, 'nonl'), 'exec.log'),
      `${[
        `{"t":"${T}","s":"stdout","d":"no newline","id":1}`,
        `{"t":"2026-04-30T20:00:11.000Z","s":"stdout","d":"next\\n","id":1}`,
      ].join('\n')}\n`,
    );
    const theirs = msbLogs(home, 'nonl', ['--timestamps', '--color', 'never']).toString();
    const ours = await runCli(['logs', 'nonl', '--home', home, '--timestamps', '--color', 'never']);
    assert.equal(theirs, `${T}\tno newline2026-04-30T20:00:11.000Z\tnext\n`);
    assert.equal(ours.stdout, `${T}\tno newline\n2026-04-30T20:00:11.000Z\tnext\n`);
    // Without --timestamps both print the bytes as they are.
    assert.equal(
      (await runCli(['logs', 'nonl', '--home', home, '--color', 'never'])).stdout,
      msbLogs(home, 'nonl', ['--color', 'never']).toString(),
    );
  },
);

test(
  'documented difference: terminal controls other than SGR, newline and tab are removed from text output (msb prints them)',
  options,
  async (t) => {
    const home = makeHome(t, ['controls']);
    writeFileSync(
      join(logDirOf(home, 'controls'), 'exec.log'),
      `{"t":"${T}","s":"stdout","d":"bell \\u0007 nul \\u0000 cr \\r del \\u007f end\\n","id":1}\n`,
    );
    const theirs = msbLogs(home, 'controls', ['--color', 'never']).toString();
    const ours = await runCli(['logs', 'controls', '--home', home, '--color', 'never']);
    assert.equal(theirs, 'bell \u0007 nul \u0000 cr \r del \u007f end\n');
    assert.equal(ours.stdout, 'bell  nul  cr  del  end\n');
    // --json carries every byte in both.
    assert.equal(
      parseJsonLines(msbLogs(home, 'controls', ['--json']))[0].d,
      JSON.parse((await runCli(['logs', 'controls', '--home', home, '--json'])).stdout).d,
    );
  },
);

test('documented difference: --tail counts entries after --grep (msb greps within the last N)', options, async (t) => {
  const home = makeHome(t, ['grep']);
  writeFileSync(
    join(logDirOf(home, 'grep'), 'exec.log'),
    `${['match 1', 'match 2', 'other 3']
      .map((d, i) => `{"t":"2026-04-30T20:00:0${i}.000Z","s":"stdout","d":"${d}\\n","id":1}`)
      .join('\n')}\n`,
  );
  assert.equal(msbLogs(home, 'grep', ['--tail', '2', '--grep', 'match', '--color', 'never']).toString(), 'match 2\n');
  assert.equal(
    (await runCli(['logs', 'grep', '--home', home, '--tail', '2', '--grep', 'match', '--color', 'never'])).stdout,
    'match 1\nmatch 2\n',
  );
});
