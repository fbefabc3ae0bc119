// Scenario 8: capture. A child printing 1 GB through `sandlog run --quiet`
// against the same child alone into /dev/null and into a plain file (issue 12's
// bar: at least 400 MB/s and within 2x of the child writing the file itself),
// and against the floor of a Node capture (lib/capture-floor.js: the child
// spawned with piped output that is discarded). Needs `sandlog run`: until the
// CLI has it, the scenario reports "not available".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT, cliHasCommand, fmt, median, report, runTimed, sized } from './lib/common.js';

const BYTES = sized(1_000_000, 1_000_000_000);
const RUNS = sized(1, 3);
const CHILD = [
  'sh',
  '-c',
  `yes 'capture benchmark: the quick brown fox jumps over the lazy dog 0123456789' | head -c ${BYTES}`,
];

if (!cliHasCommand('run')) {
  report({
    scenario: 'capture',
    title: 'Capture: a child printing 1 GB through `sandlog run --quiet`',
    available: false,
    rows: [{ name: '`sandlog run`', value: 'not available', unit: '' }],
    bars: [
      {
        bar: '≤ 1.3× the child alone',
        measured: 'not available (`sandlog run --help` fails in this build)',
        met: null,
      },
    ],
  });
} else {
  const help = String(spawnSync(process.execPath, [CLI, 'run', '--help']).stdout);
  const samples = { child: [], file: [], floor: [], sandlog: [] };
  const floorScript = join(ROOT, 'bench', 'lib', 'capture-floor.js');
  for (let i = 0; i < RUNS + sized(0, 1); i++) {
    const home = mkdtempSync(join(tmpdir(), 'sandlog-bench-capture-'));
    try {
      const target = help.includes('--log-dir') ? ['--log-dir', join(home, 'logs')] : ['--home', home, 'bench'];
      const child = runTimed(CHILD[0], CHILD.slice(1)).ms;
      const plain = join(home, 'plain.out');
      const file = runTimed('sh', ['-c', `${CHILD[2]} > '${plain}'`]).ms;
      rmSync(plain, { force: true });
      const floor = runTimed(process.execPath, [floorScript, ...CHILD]).ms;
      const sandlog = runTimed(process.execPath, [CLI, 'run', '--quiet', ...target, '--', ...CHILD]).ms;
      if (i >= sized(0, 1)) {
        samples.child.push(child);
        samples.file.push(file);
        samples.floor.push(floor);
        samples.sandlog.push(sandlog);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
  const ratio = median(samples.sandlog) / median(samples.child);
  const fileRatio = median(samples.sandlog) / median(samples.file);
  const rate = BYTES / 1e6 / (median(samples.sandlog) / 1000);
  const floorRate = BYTES / 1e6 / (median(samples.floor) / 1000);
  report({
    scenario: 'capture',
    title: `Capture: a child printing ${fmt(BYTES / 1e9, 3)} GB through \`sandlog run --quiet\``,
    available: true,
    rows: [
      { name: 'child alone > /dev/null', value: fmt(median(samples.child), 0), unit: 'ms' },
      { name: 'child alone > plain file', value: fmt(median(samples.file), 0), unit: 'ms' },
      {
        name: 'Node floor: child spawned with piped output, discarded',
        value: fmt(median(samples.floor), 0),
        unit: 'ms',
        note: `${fmt(floorRate)} MB/s taken`,
      },
      {
        name: 'sandlog run --quiet -- child',
        value: fmt(median(samples.sandlog), 0),
        unit: 'ms',
        note: `${fmt(rate)} MB/s captured`,
      },
    ],
    ratios: [
      { name: 'sandlog run vs child alone', value: ratio },
      { name: 'sandlog run vs child into a plain file', value: fileRatio },
      { name: 'sandlog run vs the Node floor', value: median(samples.sandlog) / median(samples.floor) },
    ],
    bars: [
      { bar: '≤ 1.3× the child alone', measured: `${fmt(ratio, 2)}×`, met: ratio <= 1.3 },
      {
        bar: '≥ 400 MB/s captured',
        measured: `${fmt(rate)} MB/s (the Node floor: ${fmt(floorRate)} MB/s)`,
        met: rate >= 400,
      },
      { bar: '≤ 2× the child into a plain file', measured: `${fmt(fileRatio, 2)}×`, met: fileRatio <= 2 },
    ],
  });
}
