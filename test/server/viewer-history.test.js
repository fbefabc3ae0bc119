// The viewer's history, histogram and merged view in headless Chromium:
// scrolling up pages back to the first retained entry of a 100,000-entry log
// in order, with no gap or repeat, while new entries keep arriving, and the
// DOM stays bounded; the histogram's counts equal the API's, grow live, and
// a drag narrows the list to the dragged range; several sandboxes merge by
// time with a name column, by checkboxes or a pattern, and a sandbox created
// while following a pattern joins. These need the issue-13 API (history,
// /api/logs, /api/histogram; see ./viewer-api.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ExecLogWriter } from '../../dist/index.js';
import { recordLine, tempDir, tempSandbox, writeLines } from '../helpers.js';
import { request } from './http.js';
import { startViewerServer } from './viewer-api.js';
import { NO_CHROMIUM, OUTPUT, WAIT, openBrowser, rowTexts, waitForRowText } from './viewer-browser.js';

const WINDOW_ROWS = 2000;

test('scrolling up pages back to the first entry of a 100,000-entry log in order, while live entries arrive, with a bounded DOM', {
  timeout: 600_000,
  skip: NO_CHROMIUM,
}, async (t) => {
  const { home, logDir } = tempSandbox(t, 'big');
  // One file: the history is read from the live file while it grows.
  const writer = new ExecLogWriter(logDir, { maxBytes: 256 * 1024 * 1024 });
  t.after(() => writer.close());
  const total = 100_000;
  for (let i = 0; i < total; i++) {
    writer.write(i % 7 === 0 ? 'stderr' : 'stdout', `entry ${i}\n`, 1);
    if (i % 10_000 === 9_999) writer.flush();
  }
  writer.flush();
  const server = await startViewerServer(t, home);
  const { page, problems } = await openBrowser(t);
  await page.goto(`${server.url}?sandbox=big`);
  await waitForRowText(page, `entry ${total - 1}`, { timeout: 60_000 });
  await page.waitForSelector('#status[data-state="live"]', WAIT);

  let live = 0;
  const ticker = setInterval(() => {
    writer.write('stdout', `live ${live}\n`, 2);
    writer.flush();
    live += 1;
  }, 50);
  t.after(() => clearInterval(ticker));

  // Read upwards: each `g` goes to the top of what is loaded, which fetches the page before it.
  await page.click('#log');
  let collected = await rowTexts(page);
  let largest = collected.length;
  for (let step = 0; step < 400; step++) {
    const first = collected[0];
    if (first === 'entry 0') break;
    await page.keyboard.press('g');
    // Settled: the window moved and the page before it (if one was asked for) has arrived.
    await page.waitForFunction(
      (previous) =>
        document.querySelector('#log .row .body')?.textContent !== previous &&
        document.querySelector('#log').dataset.loading === 'false',
      first,
      { timeout: 60_000 },
    );
    const texts = await rowTexts(page);
    largest = Math.max(largest, texts.length);
    const overlap = texts.indexOf(first);
    assert.ok(overlap > 0, `the new window overlaps the previous one (step ${step})`);
    collected = texts.slice(0, overlap).concat(collected);
  }
  assert.equal(collected[0], 'entry 0');
  assert.equal(await page.$eval('#log', (log) => log.dataset.start), 'true');
  assert.ok(largest <= WINDOW_ROWS, `at most ${WINDOW_ROWS} rows in the DOM, saw ${largest}`);
  await page.screenshot({ path: join(OUTPUT, 'viewer-history-start.png') });
  // Live entries kept arriving all along: the page had them, below.
  clearInterval(ticker);
  const written = live;
  assert.ok(written > 0);
  await page.waitForFunction(
    (count) => Number(document.querySelector('#log').dataset.loaded) === count,
    total + written,
    { timeout: 60_000 },
  );
  // In order, once each: 0 … 99,999 as read back by scrolling.
  const history = collected.filter((text) => text.startsWith('entry '));
  assert.equal(history.length, total);
  history.forEach((text, i) => {
    assert.equal(text, `entry ${i}`);
  });
  // And the newest end: following again shows the live entries in order, after the last history entry.
  await page.keyboard.press('G');
  await waitForRowText(page, `live ${written - 1}`);
  const bottom = await rowTexts(page);
  const lastHistory = bottom.indexOf(`entry ${total - 1}`);
  const tail = lastHistory >= 0 ? bottom.slice(lastHistory + 1) : bottom.slice(bottom.indexOf('live 0'));
  const firstLive = Number(tail[0].split(' ')[1]);
  assert.deepEqual(
    tail,
    Array.from({ length: written - firstLive }, (_, i) => `live ${firstLive + i}`),
  );
  assert.ok(bottom.length <= WINDOW_ROWS);
  assert.deepEqual(problems, []);
});

test('the histogram counts what the API counts, grows live, keeps stderr apart, and a drag narrows the list to its range', {
  timeout: 180_000,
  skip: NO_CHROMIUM,
}, async (t) => {
  const { home, logDir } = tempSandbox(t, 'hist');
  const start = Date.now() - 30 * 60_000;
  const count = 600;
  writeLines(
    join(logDir, 'exec.log'),
    Array.from({ length: count }, (_, i) =>
      recordLine(new Date(start + i * 3000).toISOString(), i % 4 === 0 ? 'stderr' : 'stdout', `at ${i}\n`, 1),
    ),
  );
  const server = await startViewerServer(t, home);
  const { page, problems } = await openBrowser(t);
  await page.goto(`${server.url}?sandbox=hist`);
  await waitForRowText(page, `at ${count - 1}`);
  await page.waitForSelector('#status[data-state="live"]', WAIT);
  const barTotal = () =>
    page.$$eval('#histogram .bar', (bars) =>
      bars.reduce(
        (sum, bar) =>
          sum +
          Number(bar.dataset.stdout) +
          Number(bar.dataset.stderr) +
          Number(bar.dataset.output) +
          Number(bar.dataset.system),
        0,
      ),
    );
  await page.waitForFunction(() => document.querySelectorAll('#histogram .bar').length > 0, null, WAIT);
  assert.equal(await barTotal(), count);
  // stderr has its own colour in the stack.
  const colours = await page.$$eval('#histogram .part', (parts) =>
    Object.fromEntries(parts.map((part) => [part.className, getComputedStyle(part).backgroundColor])),
  );
  assert.notEqual(colours['part src-stderr'], colours['part src-stdout']);

  // Live: a new entry is counted.
  appendFileSync(join(logDir, 'exec.log'), `${recordLine(new Date().toISOString(), 'stderr', 'live one\n', 2)}\n`);
  await waitForRowText(page, 'live one');
  await page.waitForFunction(
    (expected) =>
      [...document.querySelectorAll('#histogram .bar')].reduce(
        (sum, bar) => sum + Number(bar.dataset.stdout) + Number(bar.dataset.stderr),
        0,
      ) === expected,
    count + 1,
    WAIT,
  );
  await page.screenshot({ path: join(OUTPUT, 'viewer-histogram.png') });

  // Drag across the second quarter of the bars.
  const box = await page.locator('#histogram .bars').boundingBox();
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * 0.25, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.4, y, { steps: 5 });
  await page.mouse.move(box.x + box.width * 0.5, y, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => new URL(location.href).searchParams.has('until'), null, WAIT);
  const address = new URL(page.url()).searchParams;
  const since = Date.parse(address.get('since'));
  const until = Date.parse(address.get('until'));
  assert.ok(since < until);
  assert.equal(await page.inputValue('#range'), 'custom');
  await page.waitForSelector('#status[data-state="range"]', WAIT);
  // The list: exactly the API's entries for that range.
  const expected = (
    await request(server.url, `/api/sandboxes/hist/logs?since=${address.get('since')}&until=${address.get('until')}`)
  ).json.entries;
  assert.ok(expected.length > 50 && expected.length < count / 2, `${expected.length} entries in the dragged range`);
  await page.waitForFunction((n) => document.querySelectorAll('#log .row').length === n, expected.length, WAIT);
  assert.deepEqual(
    await rowTexts(page),
    expected.map((entry) => entry.d.replace(/\n$/, '')),
  );
  const times = await page.$$eval('#log .row .time', (cells) => cells.map((cell) => Date.parse(cell.textContent)));
  assert.ok(times.every((time) => time >= since && time < until));
  // The histogram now covers that range, bucket by bucket as the API counts it.
  await page.waitForFunction(() => document.querySelector('#histogram').dataset.query?.includes('until='), null, WAIT);
  const query = await page.$eval('#histogram', (element) => element.dataset.query);
  const histogram = (
    await request(
      server.url,
      `/api/histogram?${query}&buckets=${await page.$$eval('#histogram .bar', (bars) => bars.length)}`,
    )
  ).json;
  const shown = await page.$$eval('#histogram .bar', (bars) =>
    bars.map((bar) => ({
      t: bar.dataset.t,
      stdout: Number(bar.dataset.stdout),
      stderr: Number(bar.dataset.stderr),
      output: Number(bar.dataset.output),
      system: Number(bar.dataset.system),
    })),
  );
  assert.deepEqual(
    shown,
    histogram.buckets.map((bucket) => ({
      t: bucket.t,
      stdout: bucket.counts.stdout ?? 0,
      stderr: bucket.counts.stderr ?? 0,
      output: bucket.counts.output ?? 0,
      system: bucket.counts.system ?? 0,
    })),
  );
  assert.equal(
    shown.reduce((sum, bar) => sum + bar.stdout + bar.stderr, 0),
    expected.length,
  );
  await page.screenshot({ path: join(OUTPUT, 'viewer-histogram-narrowed.png') });
  // Back: the whole log again.
  await page.goBack();
  await waitForRowText(page, 'live one');
  assert.deepEqual(problems, []);
});

test('several sandboxes merge by time with a name column, chosen by checkboxes or a pattern; a new match joins while following', {
  timeout: 180_000,
  skip: NO_CHROMIUM,
}, async (t) => {
  const home = tempDir(t);
  const start = Date.now() - 10 * 60_000;
  const write = (name, seconds, text) => {
    const logDir = join(home, 'sandboxes', name, 'logs');
    mkdirSync(logDir, { recursive: true });
    appendFileSync(
      join(logDir, 'exec.log'),
      `${recordLine(new Date(start + seconds * 1000).toISOString(), 'stdout', `${text}\n`, 1)}\n`,
    );
  };
  for (let i = 0; i < 20; i++) {
    write('web-1', 2 * i, `web-1 says ${2 * i}`);
    write('web-2', 2 * i + 1, `web-2 says ${2 * i + 1}`);
  }
  write('db', 5, 'db says 5');
  const server = await startViewerServer(t, home);
  const { page, problems } = await openBrowser(t);
  await page.goto(server.url);
  await page.waitForSelector('li[data-name="web-2"] input.pick', WAIT);
  await page.check('li[data-name="web-1"] input.pick');
  await page.check('li[data-name="web-2"] input.pick');
  await page.waitForFunction(() => new URL(location.href).search === '?sandbox=web-1&sandbox=web-2', null, WAIT);
  const merged = Array.from({ length: 40 }, (_, i) => `web-${(i % 2) + 1} says ${i}`);
  await waitForRowText(page, 'web-2 says 39');
  assert.deepEqual(await rowTexts(page), merged);
  const names = await page.$$eval('#log .row .sbx', (cells) =>
    cells.map((cell) => [cell.textContent, getComputedStyle(cell).display, getComputedStyle(cell).color]),
  );
  assert.deepEqual(
    names.map(([name]) => name),
    merged.map((text) => text.split(' ')[0]),
  );
  assert.ok(names.every(([, display]) => display !== 'none'));
  assert.notEqual(names[0][2], names[1][2], 'each sandbox has its own colour');
  await page.waitForSelector('#status[data-state="live"]', WAIT);
  await page.screenshot({ path: join(OUTPUT, 'viewer-merged.png') });

  // A pattern selects the same.
  await page.fill('#pattern', 'web-*');
  await page.press('#pattern', 'Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('pattern') === 'web-*', null, WAIT);
  await page.waitForFunction((n) => document.querySelectorAll('#log .row').length === n, merged.length, WAIT);
  assert.deepEqual(await rowTexts(page), merged);
  await page.waitForSelector('#status[data-state="live"]', WAIT);
  // Live: a new entry of a matched sandbox, and a sandbox created while following.
  write('web-1', 100, 'web-1 live');
  await waitForRowText(page, 'web-1 live');
  write('web-3', 101, 'web-3 is new');
  await waitForRowText(page, 'web-3 is new');
  assert.equal(await page.$eval('#log .row:last-child .sbx', (cell) => cell.textContent), 'web-3');
  assert.ok(!(await rowTexts(page)).includes('db says 5'));
  assert.deepEqual(problems, []);
});
