// Scenario 7: records per second written through ExecLogWriter (rotating at
// its default 10 MiB) against pino writing lines of the same size to a file
// (its default asynchronous destination), in the same run.
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIB, fmt, importSandlog, median, report, sized, timeIt } from './lib/common.js';
import { rng } from './lib/data.js';

const { ExecLogWriter } = await importSandlog();

const require = createRequire(import.meta.url);
const pino = require('pino');
const COUNT = sized(2000, 200_000);
const RUNS = sized(1, 5);

// Bodies of 20–400 bytes, as captured output: text lines, some unicode, ANSI, newlines.
const random = rng(11);
const BODIES = Array.from({ length: 1024 }, () => {
  const length = 20 + Math.floor(random() * random() * 380);
  let text = '';
  while (text.length < length)
    text += random() < 0.1 ? '\u001b[32mok\u001b[0m café ' : random() < 0.15 ? 'line\n' : 'output text ';
  return text.slice(0, length);
});

function bytesIn(dir) {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

async function sandlog() {
  const dir = mkdtempSync(join(tmpdir(), 'sandlog-bench-writer-'));
  try {
    const { ms } = await timeIt(() => {
      const writer = new ExecLogWriter(dir);
      for (let i = 0; i < COUNT; i++) writer.write(i % 3 === 0 ? 'stderr' : 'stdout', BODIES[i & 1023], 1 + (i & 7));
      writer.close();
    });
    return { ms, bytes: bytesIn(dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pinoRun(minLength) {
  const dir = mkdtempSync(join(tmpdir(), 'sandlog-bench-pino-'));
  try {
    const file = join(dir, 'pino.log');
    const destination = pino.destination({ dest: file, sync: false, minLength });
    await new Promise((resolve) => destination.once('ready', resolve));
    const { ms } = await timeIt(async () => {
      // Lines of the same shape and size: an ISO time, a level, the body.
      const logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'd' }, destination);
      for (let i = 0; i < COUNT; i++) logger.info(BODIES[i & 1023]);
      await new Promise((resolve) => {
        destination.once('close', resolve);
        destination.end();
      });
    });
    return { ms, bytes: bytesIn(dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const samples = { sandlog: [], pino: [], pinoBuffered: [] };
let sizes = {};
for (let i = 0; i < RUNS + 1; i++) {
  const a = await sandlog();
  const b = await pinoRun(0);
  const c = await pinoRun(4096);
  sizes = { sandlog: a.bytes, pino: b.bytes, pinoBuffered: c.bytes };
  if (i > 0 || RUNS === 1) {
    samples.sandlog.push(a.ms);
    samples.pino.push(b.ms);
    samples.pinoBuffered.push(c.ms);
  }
}
const rate = (name) => COUNT / (median(samples[name]) / 1000);
// The bar is against the faster pino configuration.
const best = rate('pino') >= rate('pinoBuffered') ? 'pino' : 'pinoBuffered';
const ratio = rate('sandlog') / rate(best);
report({
  scenario: 'writer',
  title: `Writer: ${COUNT} records of 20–400 bytes`,
  rows: [
    {
      name: 'sandlog ExecLogWriter (rotating every 10 MiB)',
      value: fmt(rate('sandlog') / 1000),
      unit: 'k records/s',
      note: `${fmt(sizes.sandlog / MIB)} MiB written, median ${fmt(median(samples.sandlog), 0)} ms`,
    },
    {
      name: 'pino to a file (sonic-boom, async, default)',
      value: fmt(rate('pino') / 1000),
      unit: 'k records/s',
      note: `${fmt(sizes.pino / MIB)} MiB written, median ${fmt(median(samples.pino), 0)} ms`,
    },
    {
      name: 'pino to a file (sonic-boom, async, minLength 4096)',
      value: fmt(rate('pinoBuffered') / 1000),
      unit: 'k records/s',
      note: `${fmt(sizes.pinoBuffered / MIB)} MiB written, median ${fmt(median(samples.pinoBuffered), 0)} ms`,
    },
  ],
  ratios: [
    { name: 'sandlog vs pino (default)', value: rate('sandlog') / rate('pino') },
    { name: 'sandlog vs pino (minLength 4096)', value: rate('sandlog') / rate('pinoBuffered') },
  ],
  bars: [
    { bar: 'ExecLogWriter ≥ 0.7× pino (the faster configuration)', measured: `${fmt(ratio, 2)}×`, met: ratio >= 0.7 },
  ],
});
