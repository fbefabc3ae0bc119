// The web viewer in headless Chromium (Debian's package, driven by
// playwright-core): pick a sandbox, see live lines arrive, colours rendered
// and markup left as text, filter by source, toggle timestamps, survive a
// server restart with nothing lost or repeated, and take 100,000 entries
// without freezing. Screenshots go to test-output/ for a person to look at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ExecLogWriter } from '../../dist/index.js';
import { stripAnsi } from '../../dist/format/ansi.js';
import { DEADLINE_MS, tempSandbox, withTimeout } from '../helpers.js';
import { exited, request, startServeProcess } from './http.js';
import { NO_CHROMIUM, OUTPUT, WAIT, openBrowser, rowTexts, waitForRowText } from './viewer-browser.js';

test('the viewer follows a sandbox live, filters, renders colour safely and resumes after a server restart', {
  timeout: 180_000,
  skip: NO_CHROMIUM,
}, async (t) => {
  const { home, logDir } = tempSandbox(t, 'demo');
  mkdirSync(join(home, 'sandboxes', 'quiet', 'logs'), { recursive: true });
  // Small files, so that the writes while the server is down rotate the log.
  const writer = new ExecLogWriter(logDir, { maxBytes: 4096 });
  t.after(() => writer.close());
  writer.write('stdout', 'starting the demo\n', 1);
  writer.write('stderr', 'warning: disk almost full\n', 1);
  writer.write(
    'stdout',
    'status: \u001b[31mred\u001b[0m and \u001b[1;32mbold green\u001b[0m and \u001b[38;5;208morange\u001b[0m\n',
    1,
  );
  writer.write('stdout', '<img src=x onerror="document.title=\'pwned\'"><b>not bold</b>\n', 2);
  writer.flush();

  let server = await startServeProcess(['--port', '0', '--home', home]);
  t.after(() => server.child.kill('SIGKILL'));
  const port = server.port;
  const { page, problems } = await openBrowser(t);
  await page.goto(server.url);
  await page.click('button.sandbox[data-name="demo"]');
  await page.waitForFunction(() => document.querySelectorAll('#log .row').length === 4, null, WAIT);
  await page.waitForSelector('#status[data-state="live"]', WAIT);

  // Live lines arrive.
  writer.write('stdout', 'live line 1\n', 3);
  writer.write('stderr', 'live error 1\n', 3);
  writer.flush();
  await waitForRowText(page, 'live error 1');

  // Colour comes from SGR; markup in the log stays text.
  assert.equal(await page.$eval('#log .fg1', (span) => span.textContent), 'red');
  assert.equal(await page.$eval('#log .fg2.bold', (span) => span.textContent), 'bold green');
  assert.equal(
    await page.$eval('#log .body span[style]', (span) => [span.textContent, span.style.color].join('|')),
    'orange|rgb(255, 135, 0)',
  );
  assert.equal(await page.$$eval('#log img, #log b', (nodes) => nodes.length), 0);
  assert.ok((await rowTexts(page)).includes('<img src=x onerror="document.title=\'pwned\'"><b>not bold</b>'));
  assert.notEqual(await page.title(), 'pwned');
  mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: join(OUTPUT, 'viewer-live.png') });

  // Source toggles: stderr alone, then everything back.
  await page.uncheck('input[name=source][value=stdout]');
  await page.waitForFunction(
    () => {
      const rows = [...document.querySelectorAll('#log .row')];
      return rows.length === 2 && rows.every((row) => row.classList.contains('src-stderr'));
    },
    null,
    WAIT,
  );
  assert.deepEqual(await rowTexts(page), ['warning: disk almost full', 'live error 1']);
  await page.check('input[name=source][value=stdout]');
  await page.waitForFunction(() => document.querySelectorAll('#log .row').length === 6, null, WAIT);
  await page.waitForSelector('#status[data-state="live"]', WAIT);

  // Timestamps off and on.
  await page.uncheck('#timestamps');
  assert.equal(await page.$eval('#log .row .time', (time) => getComputedStyle(time).display), 'none');
  await page.check('#timestamps');
  assert.notEqual(await page.$eval('#log .row .time', (time) => getComputedStyle(time).display), 'none');

  // The server goes away; the log goes on (rotating); a new server comes up on the same port.
  const rotationsBefore = writer.rotations;
  server.child.kill('SIGTERM');
  assert.deepEqual(await exited(server.child), { code: 0, signal: null });
  await page.waitForSelector('#status[data-state="reconnecting"]', WAIT);
  for (let i = 0; i < 60; i++) writer.write(i % 3 === 0 ? 'stderr' : 'stdout', `while the server was down ${i}\n`, 4);
  writer.flush();
  assert.ok(writer.rotations > rotationsBefore, 'the log rotated while the server was down');
  server = await startServeProcess(['--port', String(port), '--home', home]);
  for (let i = 0; i < 5; i++) writer.write('stdout', `after the restart ${i}\n`, 4);
  writer.flush();
  await waitForRowText(page, 'after the restart 4');
  await page.waitForSelector('#status[data-state="live"]', WAIT);

  // Exactly the log: the API's snapshot of the same sources, in the same order, once each.
  const expected = (await request(server.url, '/api/sandboxes/demo/logs')).json.entries.map((entry) =>
    stripAnsi(entry.d).replace(/\n$/, ''),
  );
  assert.equal(expected.length, 6 + 60 + 5);
  assert.deepEqual(await rowTexts(page), expected);
  assert.equal(await page.$eval('#count', (count) => count.dataset.shown), String(expected.length));

  // Pause and jump to bottom.
  await page.click('#pause');
  assert.equal(await page.$eval('#pause', (button) => button.getAttribute('aria-pressed')), 'true');
  await page.click('#bottom');
  assert.equal(await page.$eval('#pause', (button) => button.getAttribute('aria-pressed')), 'false');

  await page.screenshot({ path: join(OUTPUT, 'viewer-after-restart.png') });
  assert.deepEqual(problems, []);
  server.child.kill('SIGTERM');
  await exited(server.child);
});

test('the viewer takes 100,000 live entries without freezing: the DOM keeps the newest rows', {
  timeout: 240_000,
  skip: NO_CHROMIUM,
}, async (t) => {
  const { home, logDir } = tempSandbox(t, 'flood');
  const writer = new ExecLogWriter(logDir);
  t.after(() => writer.close());
  writer.write('stdout', 'before the flood\n', 1);
  writer.flush();
  const server = await startServeProcess(['--port', '0', '--home', home]);
  t.after(() => server.child.kill('SIGKILL'));
  const { page, problems } = await openBrowser(t);
  await page.goto(server.url);
  await page.click('button.sandbox[data-name="flood"]');
  await page.waitForSelector('#status[data-state="live"]', WAIT);

  const total = 100_000;
  for (let i = 0; i < total; i++) {
    writer.write(
      i % 10 === 0 ? 'stderr' : 'stdout',
      `flood entry ${i} \u001b[3${i % 8}mcolour ${i % 8}\u001b[0m\n`,
      1 + (i % 5),
    );
    if (i % 5000 === 4999) writer.flush();
  }
  writer.flush();
  await page.waitForFunction((count) => Number(document.querySelector('#count').dataset.received) >= count, total + 1, {
    timeout: 180_000,
    polling: 500,
  });
  await waitForRowText(page, `flood entry ${total - 1} colour ${(total - 1) % 8}`);
  // The page still answers, and holds a bounded number of rows.
  const shown = await withTimeout(
    page.$$eval('#log .row', (rows) => rows.length),
    DEADLINE_MS,
    'the page answering after the flood',
  );
  assert.ok(shown <= 5000, `${shown} rows in the DOM`);
  assert.ok(shown >= 1000, `${shown} rows in the DOM`);
  assert.match(await page.$eval('#count', (count) => count.textContent), /entries shown of 100,001 loaded/);
  await page.screenshot({ path: join(OUTPUT, 'viewer-100k.png') });
  assert.deepEqual(problems, []);
});

test('the viewer asks for a token, takes one from the URL fragment, and says so when its place in the log is gone', {
  timeout: 180_000,
  skip: NO_CHROMIUM,
}, async (t) => {
  const { home, logDir } = tempSandbox(t, 'guarded');
  const writer = new ExecLogWriter(logDir, { maxBytes: 2048, maxFiles: 1 });
  t.after(() => writer.close());
  writer.write('stdout', 'first line\n', 1);
  writer.flush();
  const token = 'viewer-test-token';
  let server = await startServeProcess(['--port', '0', '--home', home], { env: { SANDLOG_TOKEN: token } });
  t.after(() => server.child.kill('SIGKILL'));
  const port = server.port;
  const { page, problems } = await openBrowser(t);

  // No token: the page loads (it holds no data) and asks for one.
  await page.goto(server.url);
  await page.waitForSelector('#auth:not([hidden])', WAIT);
  await page.fill('#token', 'wrong-token');
  await page.click('#auth button[type=submit]');
  await page.waitForSelector('#auth:not([hidden])', WAIT);

  // The token in the fragment: used, kept for the tab, and taken out of the address bar.
  await page.goto(`${server.url}#token=${token}`);
  await page.click('button.sandbox[data-name="guarded"]');
  await waitForRowText(page, 'first line');
  await page.waitForSelector('#status[data-state="live"]', WAIT);
  assert.equal(new URL(page.url()).hash, '');
  writer.write('stdout', 'second line\n', 1);
  writer.flush();
  await waitForRowText(page, 'second line');

  // While the server is away, the file holding the page's place rotates out of retention.
  server.child.kill('SIGTERM');
  await exited(server.child);
  await page.waitForSelector('#status[data-state="reconnecting"]', WAIT);
  for (let i = 0; i < 100; i++) writer.write('stdout', `lost while away ${i}\n`, 2);
  writer.flush();
  server = await startServeProcess(['--port', String(port), '--home', home], { env: { SANDLOG_TOKEN: token } });
  await page.waitForSelector('#status[data-state="stopped"]', WAIT);
  assert.match(await page.$eval('#message-text', (text) => text.textContent), /The stream stopped: invalid cursor/);
  await page.screenshot({ path: join(OUTPUT, 'viewer-stopped.png') });
  // Starting again from the end works.
  await page.click('#restart');
  await page.waitForSelector('#status[data-state="live"]', WAIT);
  await waitForRowText(page, 'lost while away 99');
  writer.write('stdout', 'back again\n', 3);
  writer.flush();
  await waitForRowText(page, 'back again');
  await page.screenshot({ path: join(OUTPUT, 'viewer-token.png') });
  // 401s while the wrong token was tried are expected console noise.
  assert.deepEqual(
    problems.filter((problem) => !/401/.test(problem)),
    [],
  );
  server.child.kill('SIGTERM');
  await exited(server.child);
});
