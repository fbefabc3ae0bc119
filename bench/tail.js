// Scenario 2: `sandlog logs --tail 100` over the full chain, whole process
// (Node start-up included), against `node -e 0`, the floor of a Node program
// that only opens the file and prints its last 100 lines (bench/lib/tail-floor.js)
// and GNU `tail -n 100`; the same with `--source all`; and the backwards scan
// alone, in-process.
import { join } from 'node:path';
import { CLI, ROOT, fmt, interleave, median, report, sized, timeIt, importSandlog } from './lib/common.js';
import { dataset } from './lib/data.js';

const { streamLogs } = await importSandlog();

const RUNS = sized(1, 21);
const { logDir, execFiles } = dataset();
const node = process.execPath;
const samples = interleave(
  {
    'node -e 0': [node, ['-e', '0']],
    'floor: node program printing the last 100 lines of exec.log': [
      node,
      [join(ROOT, 'bench', 'lib', 'tail-floor.js'), execFiles[execFiles.length - 1]],
    ],
    'sandlog logs --tail 100': [node, [CLI, 'logs', '--log-dir', logDir, '--tail', '100']],
    'sandlog logs --tail 100 --source all': [
      node,
      [CLI, 'logs', '--log-dir', logDir, '--tail', '100', '--source', 'all'],
    ],
    'sandlog logs --tail 100 --json': [node, [CLI, 'logs', '--log-dir', logDir, '--tail', '100', '--json']],
    'GNU tail -n 100 exec.log': ['tail', ['-n', '100', execFiles[execFiles.length - 1]]],
  },
  RUNS,
  sized(0, 2),
);

// In-process: the backwards scan and merge, without start-up.
const inProcess = [];
for (let i = 0; i < sized(1, 30); i++) {
  const { ms } = await timeIt(async () => {
    let n = 0;
    for await (const batch of streamLogs({ logDir }, { tail: 100, sources: 'all' }).batches()) n += batch.length;
    return n;
  });
  if (i >= 5 || sized(true, false)) inProcess.push(ms);
}

const base = median(samples['node -e 0']);
const rows = Object.entries(samples).map(([name, values]) => ({
  name,
  value: fmt(median(values)),
  unit: 'ms',
  note:
    name === 'node -e 0'
      ? `${values.length} runs`
      : name.startsWith('GNU')
        ? undefined
        : `+${fmt(median(values) - base)} ms over node -e 0`,
}));
rows.push({
  name: 'in-process: streamLogs({ tail: 100, sources: all })',
  value: fmt(median(inProcess), 2),
  unit: 'ms',
});
const over = (name) => median(samples[name]) - base;
const floor = median(samples['floor: node program printing the last 100 lines of exec.log']);
const overFloor = (name) => median(samples[name]) - floor;
report({
  scenario: 'tail',
  title: '`sandlog logs --tail 100` over the full chain (whole process)',
  rows,
  bars: [
    {
      bar: '--tail 100 within 10 ms of node -e 0',
      measured: `+${fmt(over('sandlog logs --tail 100'))} ms`,
      met: over('sandlog logs --tail 100') <= 10,
    },
    {
      bar: '--tail 100 --source all within 10 ms of node -e 0',
      measured: `+${fmt(over('sandlog logs --tail 100 --source all'))} ms`,
      met: over('sandlog logs --tail 100 --source all') <= 10,
    },
    {
      bar: '--tail 100 --json within 10 ms of the floor (a Node program that only opens the file and prints 100 lines)',
      measured: `+${fmt(overFloor('sandlog logs --tail 100 --json'))} ms (floor +${fmt(floor - base)} ms over node -e 0)`,
      met: overFloor('sandlog logs --tail 100 --json') <= 10,
    },
  ],
  notes: [
    'medians of interleaved runs (node -e 0, the floor program, sandlog variants, GNU tail in turn), spawned with spawnSync, stdout discarded',
    'the floor differs from node -e 0 by loading a script file and process.stdout (its stream modules): costs every Node CLI that prints pays',
  ],
});
