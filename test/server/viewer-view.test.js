// The viewer's view in headless Chromium: the address holds it (reload, a
// copied address and the back button restore sandbox, sources, grep, range
// and position), a copied entry link opens at that entry, the only sandbox
// opens by itself (and `npm start` prints its view's address), grep matches
// are marked as text with a counter and next/previous, levels are coloured,
// wrap toggles, shortcuts are listed behind `?`, and a download holds what
// the view selects. Opening at a position uses history (`before=`): these
// tests need the issue-13 API (see ./viewer-api.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, recordLine, tempDir, writeLines } from '../helpers.js';
import { exited, request } from './http.js';
import { startViewerServer } from './viewer-api.js';
import {
  NO_CHROMIUM,
  OUTPUT,
  WAIT,
  openBrowser,
  rowTexts,
  topRowText,
  waitForAddressAtTopRow,
  waitForRowText,
} from './viewer-browser.js';

const BASE = Date.now() - 30 * 60_000;
const time = (seconds) => new Date(BASE + seconds * 1000).toISOString();

/** A home with sandboxes written by hand (exact times): name → lines [source, text]. */
function homeWith(t, sandboxes) {
  const home = tempDir(t);
  for (const [name, lines] of Object.entries(sandboxes)) {
    const logDir = join(home, 'sandboxes', name, 'logs');
    mkdirSync(logDir, { recursive: true });
    writeLines(
      join(logDir, 'exec.log'),
      lines.map(([source, text], i) => recordLine(time(i), source, `${text}\n`, 1)),
    );
  }
  return home;
}

function lines(count, text = (i) => `line ${i}`) {
  return Array.from({ length: count }, (_, i) => [i % 5 === 0 ? 'stderr' : 'stdout', text(i)]);
}

/** The state a reader sees, to compare a restored page with. */
async function viewState(page) {
  return {
    grep: await page.inputValue('#grep'),
    range: await page.inputValue('#range'),
    sources: await page.$$eval('input[name=source]:checked', (inputs) => inputs.map((input) => input.value)),
    current: await page.textContent('#current'),
    paused: await page.getAttribute('#pause', 'aria-pressed'),
    top: await topRowText(page),
  };
}

test('the address holds the view: reload, a copied address and the back button restore it; an entry link opens at that entry', {
  timeout: 180_000,
  skip: NO_CHROMIUM,
}, async (t) => {
  const home = homeWith(t, { alpha: lines(3000), beta: lines(10, (i) => `beta ${i}`) });
  const server = await startViewerServer(t, home);
  const { page, problems, newPage } = await openBrowser(t);
  await page.goto(server.url);
  // Two sandboxes and no choice in the address: nothing is opened.
  await page.waitForSelector('button.sandbox[data-name="beta"]', WAIT);
  assert.equal(await page.textContent('#current'), 'no sandbox selected');

  await page.click('button.sandbox[data-name="alpha"]');
  await waitForRowText(page, 'line 2999');
  assert.equal(new URL(page.url()).search, '?sandbox=alpha');
  await page.uncheck('input[name=source][value=stderr]');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('source') === 'stdout,output', null, WAIT);
  await page.fill('#grep', 'line 1');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('grep') === 'line 1', null, WAIT);
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('#log .row .body')].every((body) => body.textContent.startsWith('line 1')) &&
      document.querySelectorAll('#log .row').length > 0,
    null,
    WAIT,
  );
  await page.selectOption('#range', '1h');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('range') === '1h', null, WAIT);
  await page.waitForSelector('#status[data-state="live"]', WAIT);

  // Scrolled back and paused: the position enters the address.
  await page.click('#log');
  await page.keyboard.press('Space');
  await page.$eval('#log', (log) => (log.scrollTop = log.scrollHeight / 3));
  // Pausing wrote the position at the bottom; wait for the one the scroll moved to.
  await waitForAddressAtTopRow(page);
  await page.waitForFunction(() => document.querySelector('#log').dataset.shown > 0, null, WAIT);
  const before = await viewState(page);
  assert.equal(before.paused, 'true');
  assert.match(before.top, /^line 1/);
  const address = page.url();
  await page.screenshot({ path: join(OUTPUT, 'viewer-view-position.png') });

  const restored = async (target) => {
    await target.waitForFunction(() => document.querySelector('#log .row.target') !== null, null, WAIT);
    assert.deepEqual(await viewState(target), before);
    assert.equal(target.url(), address);
  };
  await page.reload();
  await restored(page);
  const copy = await newPage();
  await copy.goto(address);
  await restored(copy);
  await copy.close();

  // Back: the range goes, then the grep, then the sources, each restoring rows and controls.
  await page.goBack();
  await page.waitForFunction(() => !new URL(location.href).searchParams.has('range'), null, WAIT);
  assert.equal(await page.inputValue('#range'), 'all');
  assert.equal(await page.inputValue('#grep'), 'line 1');
  await page.goBack();
  await page.waitForFunction(() => !new URL(location.href).searchParams.has('grep'), null, WAIT);
  assert.equal(await page.inputValue('#grep'), '');
  await waitForRowText(page, 'line 2999');
  await page.goBack();
  await page.waitForFunction(() => document.querySelector('input[name=source][value=stderr]').checked, null, WAIT);
  await waitForRowText(page, 'line 2995');
  await page.goForward();
  await page.waitForFunction(() => !document.querySelector('input[name=source][value=stderr]').checked, null, WAIT);

  // Copy-link on an entry: the link is this view at that entry, and opens there.
  const row = page.locator('#log .row', { hasText: 'line 2501' }).first();
  await row.scrollIntoViewIfNeeded();
  await row.hover();
  await row.locator('a.link').click();
  const link = await page.$eval('#log', (log) => log.dataset.copied);
  assert.equal(new URL(link).searchParams.get('sandbox'), 'alpha');
  assert.ok(new URL(link).searchParams.get('at'));
  const opened = await newPage();
  await opened.goto(link);
  await opened.waitForSelector('#log .row.target', WAIT);
  assert.equal(await opened.$eval('#log .row.target .body', (body) => body.textContent), 'line 2501');
  assert.equal(await topRowText(opened), 'line 2501');
  // The rows around it are the log in order: the page before, and everything after.
  const texts = await rowTexts(opened);
  const at = texts.indexOf('line 2501');
  assert.deepEqual(texts.slice(at - 1, at + 2), ['line 2499', 'line 2501', 'line 2502']);
  await opened.screenshot({ path: join(OUTPUT, 'viewer-view-link.png') });
  assert.deepEqual(problems, []);
});

test('with exactly one sandbox and no choice in the address the viewer opens it; npm start prints the demo view', {
  timeout: 120_000,
  skip: NO_CHROMIUM,
}, async (t) => {
  const home = tempDir(t);
  // A process group of its own: the demo runs `sandlog serve` as a child, and a demo killed before it could pass a
  // signal on would leave that child holding this test's pipes open (the test process would never exit).
  const demo = spawn(process.execPath, [join(ROOT, 'dist', 'demo', 'main.js')], {
    env: { ...process.env, PORT: '0', SANDLOG_DEMO_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  t.after(() => {
    try {
      process.kill(-demo.pid, 'SIGKILL');
    } catch {
      // the group has exited already
    }
  });
  const printed = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the demo printed no address: ${out}`)), 30_000);
    demo.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /^(http:\/\/\S+)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  assert.match(printed, /^http:\/\/127\.0\.0\.1:\d+\/\?sandbox=demo$/);
  const { page, problems } = await openBrowser(t);
  // The bare address: the only sandbox opens, and the address says so.
  await page.goto(new URL('/', printed).href);
  await page.waitForFunction(() => document.querySelectorAll('#log .row').length > 0, null, WAIT);
  assert.equal(await page.textContent('#current'), 'demo');
  assert.equal(new URL(page.url()).search, '?sandbox=demo');
  await page.waitForSelector('#status[data-state="live"]', WAIT);
  await page.screenshot({ path: join(OUTPUT, 'viewer-demo.png') });
  // The printed address opens the same view.
  await page.goto(printed);
  await page.waitForFunction(() => document.querySelectorAll('#log .row').length > 0, null, WAIT);
  assert.equal(await page.textContent('#current'), 'demo');
  assert.deepEqual(problems, []);
  // Ctrl-C stops the demo and its server.
  process.kill(-demo.pid, 'SIGINT');
  await exited(demo);
});

test('grep matches are marked as text with a counter and next/previous; levels, wrap, shortcuts and downloads', {
  timeout: 180_000,
  skip: NO_CHROMIUM,
}, async (t) => {
  const hostile = '<b>error</b> <img src=x onerror="document.title=\'pwned\'"> error';
  const home = homeWith(t, {
    app: [
      ['stdout', 'INFO server started'],
      ['stderr', 'ERROR database unreachable: error 42'],
      ['stdout', 'WARN slow query'],
      ['stdout', 'DEBUG cache miss'],
      ['stdout', hostile],
      ['stdout', `a long line without level ${'x'.repeat(600)}`],
      ['stdout', 'status: \u001b[31mred error\u001b[0m'],
    ],
    other: [['stdout', 'other']],
  });
  const server = await startViewerServer(t, home);
  const { page, problems } = await openBrowser(t, { acceptDownloads: true });
  await page.goto(`${server.url}?sandbox=app`);
  await waitForRowText(page, 'INFO server started');

  // Levels: a colour per level, taken from the line.
  const levels = await page.$$eval('#log .row', (rows) =>
    rows.map((row) => [...row.classList].find((name) => name.startsWith('level-')) ?? ''),
  );
  assert.deepEqual(levels, [
    'level-info',
    'level-error',
    'level-warn',
    'level-debug',
    'level-error',
    '',
    'level-error',
  ]);
  const colour = (text) => page.$eval(`#log .row:has-text("${text}") .body`, (body) => getComputedStyle(body).color);
  assert.notEqual(await colour('ERROR database'), await colour('INFO server'));
  assert.notEqual(await colour('WARN slow'), await colour('ERROR database'));

  // Wrap: on, the long line takes several lines; off, one.
  const longRow = page.locator('#log .row', { hasText: 'a long line' });
  assert.ok((await longRow.boundingBox()).height > 30);
  await page.uncheck('#wrap');
  assert.ok((await longRow.boundingBox()).height < 30);
  await page.check('#wrap');

  // Shortcuts: ? lists them, / focuses the search.
  await page.click('#log');
  await page.keyboard.press('?');
  await page.waitForSelector('#help:not([hidden])', WAIT);
  const help = await page.textContent('#help');
  for (const key of ['/', 'g', 'G', 'space', 'n', '?']) assert.ok(help.includes(key), `help lists ${key}`);
  await page.screenshot({ path: join(OUTPUT, 'viewer-help.png') });
  await page.keyboard.press('Escape');
  await page.waitForSelector('#help[hidden]', { state: 'attached', ...WAIT });
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'grep');
  await page.keyboard.type('error');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('grep') === 'error', null, WAIT);
  await page.waitForFunction(
    () =>
      document.querySelectorAll('#log .row').length === 3 && document.querySelector('#matches').dataset.total === '5',
    null,
    WAIT,
  );

  // Marks hold text only; the hostile line stays text.
  const marks = await page.$$eval('#log mark.match', (all) =>
    all.map((mark) => ({ text: mark.textContent, kinds: [...mark.childNodes].map((node) => node.nodeName) })),
  );
  assert.equal(marks.length, 5);
  for (const mark of marks) assert.equal(mark.text.toLowerCase(), 'error');
  assert.deepEqual(
    marks.slice(0, 4).map((mark) => mark.kinds),
    [['#text'], ['#text'], ['#text'], ['#text']],
  );
  // The coloured match keeps its colour inside the mark (an SGR span, holding text).
  assert.deepEqual(marks[4].kinds, ['SPAN']);
  assert.equal(await page.$$eval('#log img, #log b', (nodes) => nodes.length), 0);
  assert.ok((await rowTexts(page)).includes(hostile));
  assert.notEqual(await page.title(), 'pwned');

  // Next / previous through the matches.
  await page.click('#log');
  await page.keyboard.press('n');
  await page.waitForFunction(() => document.querySelector('#matches').textContent === '1 / 5', null, WAIT);
  await page.click('#match-next');
  await page.waitForFunction(() => document.querySelector('#matches').textContent === '2 / 5', null, WAIT);
  // "onerror" holds a match too: the second is the first of the hostile line.
  assert.equal(
    await page.$eval('#log mark.current', (mark) => mark.closest('.row').querySelector('.body').textContent),
    hostile,
  );
  await page.click('#match-prev');
  await page.click('#match-prev');
  await page.waitForFunction(() => document.querySelector('#matches').textContent === '5 / 5', null, WAIT);
  await page.screenshot({ path: join(OUTPUT, 'viewer-grep.png') });

  // Moving to a match paused; G follows again, space pauses, G follows.
  assert.equal(await page.getAttribute('#pause', 'aria-pressed'), 'true');
  await page.keyboard.press('G');
  assert.equal(await page.getAttribute('#pause', 'aria-pressed'), 'false');
  await page.keyboard.press('Space');
  assert.equal(await page.getAttribute('#pause', 'aria-pressed'), 'true');
  await page.keyboard.press('G');
  assert.equal(await page.getAttribute('#pause', 'aria-pressed'), 'false');

  // Downloads: what the view selects, as JSON Lines and as text.
  const expected = (await request(server.url, '/api/sandboxes/app/logs?grep=error')).json.entries;
  const [jsonl] = await Promise.all([page.waitForEvent('download'), page.click('#download-jsonl')]);
  assert.equal(jsonl.suggestedFilename(), 'app.jsonl');
  const downloaded = readFileSync(await jsonl.path(), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(downloaded, expected);
  const [text] = await Promise.all([page.waitForEvent('download'), page.click('#download-text')]);
  const textLines = readFileSync(await text.path(), 'utf8')
    .trimEnd()
    .split('\n');
  assert.equal(textLines.length, 3);
  assert.equal(textLines[2], `${expected[2].t} stdout status: red error`);
  assert.deepEqual(problems, []);
});
