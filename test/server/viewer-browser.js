// Headless Chromium for the viewer tests (Debian's package, driven by
// playwright-core): a fresh profile per test, page errors and console errors
// collected as problems, and small helpers to read the list.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { DEADLINE_MS, ROOT } from '../helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
export const NO_CHROMIUM = !existsSync(CHROMIUM) && 'chromium is not installed';
export const OUTPUT = join(ROOT, 'test-output');
export const WAIT = { timeout: DEADLINE_MS };
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** Opens a browser for the test: { context, page, problems, newPage() }. */
export async function openBrowser(t, { acceptDownloads = false } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'sandlog-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: LAUNCH_ARGS,
    viewport: { width: 1280, height: 800 },
    acceptDownloads,
  });
  // The profile is removed only once the browser has stopped writing to it.
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
  });
  const problems = [];
  const watch = (page) => {
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // A refused connection while the server restarts is expected noise; anything else is a problem.
      if (message.type() === 'error' && !/ERR_CONNECTION_REFUSED|Failed to load resource/.test(message.text()))
        problems.push(`console: ${message.text()}`);
    });
    page.setDefaultTimeout(WAIT.timeout);
    return page;
  };
  const page = watch(context.pages()[0] ?? (await context.newPage()));
  return { context, page, problems, newPage: async () => watch(await context.newPage()) };
}

/** Body texts of the rows on screen. */
export function rowTexts(page) {
  return page.$$eval('#log .row .body', (bodies) => bodies.map((body) => body.textContent));
}

/** Waits until a row on screen has body `text`; a timeout says what the page showed instead. */
export async function waitForRowText(page, text, options = WAIT) {
  try {
    return await page.waitForFunction(
      (wanted) => [...document.querySelectorAll('#log .row .body')].some((body) => body.textContent === wanted),
      text,
      options,
    );
  } catch (error) {
    const shown = await page
      .evaluate(() => ({
        rows: [...document.querySelectorAll('#log .row .body')].map((body) => body.textContent).slice(-5),
        status: document.querySelector('#status')?.dataset.state,
        paused: document.querySelector('#pause')?.getAttribute('aria-pressed'),
        loaded: document.querySelector('#count')?.dataset.loaded,
        count: document.querySelector('#count')?.textContent,
        address: location.href,
      }))
      .catch((reason) => ({ unreadable: String(reason) }));
    error.message += `\nwaiting for a row ${JSON.stringify(text)}; the page showed ${JSON.stringify(shown)}`;
    throw error;
  }
}

/**
 * Waits until the address's `at` is the position of the entry at the top of the list (the first row whose bottom is
 * below the scroll top, as the viewer reckons it), read from that row's link: a position written before the last
 * scroll does not count.
 */
export function waitForAddressAtTopRow(page, options = WAIT) {
  return page.waitForFunction(
    () => {
      const log = document.querySelector('#log');
      const row = [...log.children].find((candidate) => candidate.offsetTop + candidate.offsetHeight > log.scrollTop);
      const link = row?.querySelector('a.link');
      const at = new URL(location.href).searchParams.get('at');
      return link !== null && link !== undefined && at !== null && at === new URL(link.href).searchParams.get('at');
    },
    null,
    options,
  );
}

/** Text of the first row at least partly on screen in the list. */
export function topRowText(page) {
  return page.$eval('#log', (log) => {
    const top = log.getBoundingClientRect().top;
    const row = [...log.querySelectorAll('.row')].find(
      (candidate) => candidate.getBoundingClientRect().bottom > top + 1,
    );
    return row?.querySelector('.body').textContent ?? null;
  });
}
