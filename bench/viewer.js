// The web viewer under load, measured in headless Chromium: input latency
// (a key press to the next animation frame) while the page
//   1. pages back through a 100,000-entry history (the `g` key: each press
//      draws the top 1,000 loaded rows and fetches the 1,000 entries before them), and
//   2. follows 1,000 new entries per second with that history loaded.
//
//   npm run build && node bench/viewer.js
//   ENTRIES=100000 RATE=1000 SECONDS=20 node bench/viewer.js
//
// Latency: a listener in the page takes each keydown's timeStamp (when the
// browser received the input) and the time of the next requestAnimationFrame
// callback after the handlers ran — what a user feels as "the page reacted".
// Probe keys (F8, ignored by the viewer) are pressed every PROBE_MS; the `g`
// presses themselves are measured too (they redraw 2,000 rows). The Event
// Timing API's longest keydown (input to next paint) is reported as well.
// The server is in-process (createApp, plus the stand-in issue-13 routes of
// test/server/viewer-api.js while the tree lacks them), the writer too;
// Chromium is its own processes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { importSandlog, median, percentile, sized, TINY } from './lib/common.js';
import { startViewerServer } from '../test/server/viewer-api.js';

const CHROMIUM = '/usr/bin/chromium';
const ENTRIES = Number(process.env.ENTRIES ?? sized(500, 100_000));
const RATE = Number(process.env.RATE ?? 1000);
const SECONDS = Number(process.env.SECONDS ?? sized(1, 20));
const PROBE_MS = 100;
const { ExecLogWriter } = await importSandlog();

function stats(values) {
  if (values.length === 0) return 'no samples';
  const f = (ms) => `${ms.toFixed(1)}`;
  return `${values.length} samples: median ${f(median(values))} ms, p95 ${f(percentile(values, 95))} ms, max ${f(Math.max(...values))} ms`;
}

function installProbe() {
  window.__latency = { probe: [], g: [], G: [], worstEvent: 0 };
  window.addEventListener('keydown', (event) => {
    const list = event.key === 'F8' ? window.__latency.probe : window.__latency[event.key];
    if (list === undefined) return;
    const start = event.timeStamp;
    requestAnimationFrame(() => list.push(performance.now() - start));
  });
  new PerformanceObserver((entries) => {
    for (const entry of entries.getEntries())
      if (entry.name === 'keydown') window.__latency.worstEvent = Math.max(window.__latency.worstEvent, entry.duration);
  }).observe({ type: 'event', durationThreshold: 16, buffered: true });
}

async function main() {
  if (!existsSync(CHROMIUM)) {
    console.log('bench/viewer.js: chromium is not installed (/usr/bin/chromium); nothing measured');
    return;
  }
  const home = mkdtempSync(join(tmpdir(), 'sandlog-bench-viewer-'));
  const cleanups = [];
  const t = { after: (fn) => cleanups.push(fn) };
  const logDir = join(home, 'sandboxes', 'big', 'logs');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(logDir, { recursive: true });
  const writer = new ExecLogWriter(logDir, { maxBytes: 512 * 1024 * 1024 });
  const body = (i) =>
    `${i % 50 === 0 ? 'ERROR' : 'INFO'} GET /api/items?page=${i % 97} 200 12ms user=alice trace=4bf92f3577b34da6 entry ${i}\n`;
  for (let i = 0; i < ENTRIES; i++) {
    writer.write(i % 7 === 0 ? 'stderr' : 'stdout', body(i), 1);
    if (i % 10_000 === 9_999) writer.flush();
  }
  writer.flush();
  const server = await startViewerServer(t, home);
  const profile = mkdtempSync(join(tmpdir(), 'sandlog-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    viewport: { width: 1280, height: 800 },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(120_000);
    await page.goto(`${server.url}?sandbox=big`);
    await page.waitForSelector('#status[data-state="live"]');
    await page.evaluate(installProbe);
    await page.click('#log');

    // 1. History: `g` until the first entry is loaded, a probe key between presses.
    const historyStart = Date.now();
    let pages = 0;
    const probing = setInterval(() => page.keyboard.press('F8').catch(() => {}), PROBE_MS);
    while (
      (await page.$eval('#log', (log) => log.dataset.start)) !== 'true' ||
      !(await page.$eval('#log .row .body', (b) => b.textContent)).endsWith(' entry 0')
    ) {
      const first = await page.$eval('#log .row .body', (b) => b.textContent);
      await page.keyboard.press('g');
      await page.waitForFunction(
        (previous) =>
          (document.querySelector('#log .row .body')?.textContent !== previous ||
            document.querySelector('#log').dataset.start === 'true') &&
          document.querySelector('#log').dataset.loading === 'false',
        first,
      );
      pages += 1;
      if (Date.now() - historyStart > 150_000) break;
    }
    clearInterval(probing);
    const historyMs = Date.now() - historyStart;
    const loaded = Number(await page.$eval('#log', (log) => log.dataset.loaded));
    const history = await page.evaluate(() => structuredClone(window.__latency));

    // 2. Live: RATE entries/s for SECONDS into the same sandbox, following, 100,000 in memory.
    await page.keyboard.press('G');
    await page.evaluate(installProbe);
    const total = RATE * SECONDS;
    let written = 0;
    const liveStart = Date.now();
    const writing = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - liveStart) / 1000) * RATE));
      for (; written < due; written++) writer.write('stdout', `live ${written} ${body(written)}`, 2);
      writer.flush();
    }, 10);
    const probingLive = setInterval(() => page.keyboard.press('F8').catch(() => {}), PROBE_MS);
    await page.waitForFunction(
      (count) => Number(document.querySelector('#log').dataset.loaded) >= count,
      loaded + total,
      { timeout: (SECONDS + 60) * 1000, polling: 200 },
    );
    const caughtUp = Date.now() - liveStart;
    clearInterval(writing);
    clearInterval(probingLive);
    const live = await page.evaluate(() => structuredClone(window.__latency));
    const rows = Number(await page.$eval('#log', (log) => log.dataset.shown));

    console.log(`### Viewer (bench/viewer.js)${TINY ? ' — tiny run, numbers meaningless' : ''}\n`);
    console.log(
      `History: ${ENTRIES.toLocaleString('en')} entries; ${pages} presses of \`g\` reached the first entry in ${(historyMs / 1000).toFixed(1)} s (${loaded.toLocaleString('en')} entries loaded, at most 2,000 rows in the DOM).`,
    );
    console.log(
      `Live: ${RATE.toLocaleString('en')} entries/s for ${SECONDS} s with the history loaded; all ${total.toLocaleString('en')} on the page ${((caughtUp - SECONDS * 1000) / 1000).toFixed(1)} s after the writer's last; ${rows.toLocaleString('en')} rows in the DOM.\n`,
    );
    console.log('| phase | input | key press → next frame | longest keydown → paint (Event Timing) |');
    console.log('|---|---|---|---|');
    console.log(
      `| paging back through history | probe key every ${PROBE_MS} ms | ${stats(history.probe)} | ${history.worstEvent.toFixed(0)} ms |`,
    );
    console.log(`| paging back through history | \`g\` (draws 1,000 rows, fetches a page) | ${stats(history.g)} | |`);
    console.log(
      `| following ${RATE.toLocaleString('en')} entries/s | probe key every ${PROBE_MS} ms | ${stats(live.probe)} | ${live.worstEvent.toFixed(0)} ms |`,
    );
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
    for (const cleanup of cleanups) await cleanup();
    writer.close();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
