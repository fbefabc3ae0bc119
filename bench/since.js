// Scenario 3: `sandlog logs --since T` with T near the end of the chain, whole
// process, against `node -e 0`; files whose last entry is before T must not be
// parsed. Peer: jq, which has to parse every record to compare `t`.
import { CLI, fmt, haveProgram, interleave, median, report, sized, timeIt, importSandlog } from './lib/common.js';
import { dataset } from './lib/data.js';

const { streamLogs } = await importSandlog();

const RUNS = sized(1, 15);
const { logDir, execFiles, summary } = dataset();
// Near the end: two seconds before the last record (about 0.2% of the chain).
const since = new Date(Date.parse(summary.endTime) - 2000).toISOString();
const node = process.execPath;
const commands = {
  'node -e 0': [node, ['-e', '0']],
  [`sandlog logs --since <end-2s>`]: [node, [CLI, 'logs', '--log-dir', logDir, '--since', since]],
  [`sandlog logs --since <end-2s> --source all`]: [
    node,
    [CLI, 'logs', '--log-dir', logDir, '--since', since, '--source', 'all'],
  ],
};
if (haveProgram('jq'))
  commands[`jq -c 'select(.t >= "<end-2s>")' (chain)`] = ['jq', ['-c', `select(.t >= "${since}")`, ...execFiles]];
const samples = interleave(commands, RUNS, sized(0, 1));
// jq takes seconds: fewer of its runs would do, but interleaving keeps the comparison fair.

const inProcess = [];
let count = 0;
for (let i = 0; i < sized(1, 20); i++) {
  const { ms, value } = await timeIt(async () => {
    let n = 0;
    for await (const batch of streamLogs({ logDir }, { since, sources: 'all' }).batches()) n += batch.length;
    return n;
  });
  count = value;
  if (i >= 3 || sized(true, false)) inProcess.push(ms);
}

const base = median(samples['node -e 0']);
const rows = Object.entries(samples).map(([name, values]) => ({
  name,
  value: fmt(median(values)),
  unit: 'ms',
  note: name.startsWith('sandlog') ? `+${fmt(median(values) - base)} ms over node -e 0` : undefined,
}));
rows.push({
  name: 'in-process: streamLogs({ since, sources: all })',
  value: fmt(median(inProcess), 2),
  unit: 'ms',
  note: `${count} entries`,
});
const over = median(samples['sandlog logs --since <end-2s>']) - base;
const overAll = median(samples['sandlog logs --since <end-2s> --source all']) - base;
report({
  scenario: 'since',
  title: '`sandlog logs --since` near the end of the chain (whole process)',
  rows,
  bars: [
    { bar: '--since within 25 ms of node -e 0', measured: `+${fmt(over)} ms`, met: over <= 25 },
    { bar: '--since --source all within 25 ms of node -e 0', measured: `+${fmt(overAll)} ms`, met: overAll <= 25 },
  ],
  notes: [`since = ${since} (chain ends ${summary.endTime})`],
});
