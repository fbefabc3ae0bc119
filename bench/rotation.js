// Scenario 5: following through rotation. A producer writes 200,000 records
// through ExecLogWriter at full speed, rotating every 1 MiB (4 rotated files
// kept); each follower counts records lost and duplicated. Then a stalled
// consumer (reads one batch, then nothing until the producer is done): sandlog
// must deliver what it still holds and end with a missed-rotation error at the
// first gap; GNU tail -F is shown skipping silently.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIB, ROOT, fmt, haveProgram, report, sized, spawnCollect, waitFor } from './lib/common.js';

const COUNT = sized(2000, 200_000);
const MAX_BYTES = sized(16 * 1024, MIB);
const follower = join(ROOT, 'bench', 'lib', 'follower.js');
const writer = join(ROOT, 'bench', 'lib', 'rotating-writer.js');

async function measure(kind, slow) {
  const dir = mkdtempSync(join(tmpdir(), 'sandlog-bench-rotation-'));
  try {
    const logDir = join(dir, 'logs');
    mkdirSync(logDir);
    const file = join(logDir, 'exec.log');
    writeFileSync(file, '');
    const done = join(dir, 'done');
    const args = [
      follower,
      kind,
      file,
      String(COUNT),
      '--quiet-ms',
      sized('1000', '2000'),
      slow ? '--slow-until' : '--done',
      done,
    ];
    const run = spawnCollect(process.execPath, args);
    let ready = false;
    run.child.stderr.on('data', (chunk) => {
      if (String(chunk).includes('ready')) ready = true;
    });
    await waitFor(() => ready, 20_000, `${kind} to start`);
    await new Promise((resolve) => setTimeout(resolve, sized(50, 200)));
    if (slow) {
      // The stalled follower takes its first batch from the first records.
      const first = spawnCollect(process.execPath, [writer, logDir, '200', String(MAX_BYTES)]);
      await first.done;
      await new Promise((resolve) => setTimeout(resolve, sized(50, 300)));
    }
    const start = Date.now();
    const produced = await spawnCollect(process.execPath, [writer, logDir, String(COUNT), String(MAX_BYTES)]).done;
    const writeMs = Date.now() - start;
    if (produced.code !== 0) throw new Error(`writer failed: ${produced.stderr}`);
    writeFileSync(done, '');
    const result = JSON.parse((await run.done).stdout.trim().split('\n').pop());
    // The stalled case wrote 200 records first under the same sequence numbers: count each run apart.
    const seqs = result.seqs;
    const total = slow ? COUNT + 200 : COUNT;
    const unique = new Set(seqs.map((seq, i) => (slow && i < seqsFromFirst(seqs) ? `a${seq}` : `b${seq}`))).size;
    let gaps = 0;
    for (let i = 1; i < seqs.length; i++) if (seqs[i] > seqs[i - 1] + 1) gaps += 1;
    return {
      kind,
      slow,
      delivered: seqs.length,
      unique,
      lost: total - unique,
      duplicated: seqs.length - unique,
      gaps,
      error: result.error,
      writeMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// In the stalled run the first 200 records (seq 0–199 of the first producer) come before the second producer's.
function seqsFromFirst(seqs) {
  let i = 0;
  while (i < seqs.length && seqs[i] === i && i < 200) i++;
  return i;
}

const kinds = ['sandlog', ...(haveProgram('tail') ? ['gnu-tail'] : []), 'npm-tail', 'logdna'];
const names = { sandlog: 'sandlog', 'gnu-tail': 'GNU tail -F', 'npm-tail': 'npm tail', logdna: '@logdna/tail-file' };
const fast = [];
for (const kind of kinds) fast.push(await measure(kind, false));
const stalled = [];
for (const kind of ['sandlog', ...(haveProgram('tail') ? ['gnu-tail'] : [])]) stalled.push(await measure(kind, true));

const rows = fast.map((r) => ({
  name: `full speed, ${names[r.kind]}: lost / duplicated`,
  value: `${r.lost} / ${r.duplicated}`,
  unit: `of ${COUNT}`,
  note: `${fmt((100 * r.lost) / COUNT)}% lost; producer took ${r.writeMs} ms${r.error ? `; error: ${r.error.code ?? r.error.name}` : ''}`,
}));
for (const r of stalled) {
  rows.push({
    name: `stalled consumer, ${names[r.kind]}: delivered / gaps`,
    value: `${r.delivered} / ${r.gaps}`,
    unit: `of ${COUNT + 200}`,
    note: r.error ? `ended with ${r.error.code ?? r.error.name}: ${r.error.message}` : 'no error reported',
  });
}
const own = fast.find((r) => r.kind === 'sandlog');
const ownStalled = stalled.find((r) => r.kind === 'sandlog');
report({
  scenario: 'rotation',
  title: `Follow through rotation: ${COUNT} records at full speed, rotation every ${MAX_BYTES / 1024} KiB`,
  rows,
  bars: [
    {
      bar: 'sandlog loses 0 and duplicates 0 at full speed',
      measured: `${own.lost} / ${own.duplicated}`,
      met: own.lost === 0 && own.duplicated === 0,
    },
    {
      bar: 'stalled sandlog: no duplicate, no silent gap, ends with MissedRotationError',
      measured: `${ownStalled.delivered} delivered, ${ownStalled.duplicated} duplicated, ${ownStalled.gaps} gaps, ${ownStalled.error?.code ?? 'no error'}`,
      met: ownStalled.duplicated === 0 && ownStalled.gaps === 0 && ownStalled.error?.name === 'MissedRotationError',
    },
  ],
  notes: [
    'each follower runs alone against its own producer; a follower ends 2 s after the producer when nothing more arrives',
  ],
});
