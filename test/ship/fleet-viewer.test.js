// `serve --nats` serves the web viewer over the fleet: the routes the viewer calls (sandbox ids
// `host/name`, cursors the stream sequence, history pages, merged reads, a stream that resumes
// with Last-Event-ID), checked against the fleet's own `/api/hosts/…` route, and the page itself in
// headless Chromium — grouped by host, the entries of the route, a live entry shipped while it is open.
// Two homes shipped as two hosts into one real nats-server; the server is the real CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, waitFor } from '../helpers.js';
import { exited, openEventStream, request, startServeProcess } from '../server/http.js';
import { NO_CHROMIUM, OUTPUT, WAIT, openBrowser, rowTexts, waitForRowText } from '../server/viewer-browser.js';
import { NatsNode, freePort, subjectCount } from './nats-support.js';
import { appendRecords, localJsonLines, makeSandbox, startShipper, stopShipper } from './support.js';

const SANDBOXES = { h1: ['api', 'db'], h2: ['web'] };

let dir;
let node;
const homes = {};
const shippers = [];
let server;
let base;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sandlog-fleet-viewer-'));
  node = new NatsNode(dir, { port: await freePort() });
  await node.start();
  const { connect } = await import('@nats-io/transport-node');
  const nc = await connect({ servers: node.url });
  for (const [host, names] of Object.entries(SANDBOXES)) {
    homes[host] = join(dir, host);
    names.forEach((name, i) => {
      makeSandbox(homes[host], name, 60 + 40 * i);
    });
    shippers.push(
      startShipper({ after: () => undefined }, ['--nats', node.url, '--home', homes[host], '--host', host]),
    );
    for (const name of names) {
      const local = await localJsonLines(homes[host], name);
      await waitFor(async () => (await subjectCount(nc, `sandlog.${host}.${name}.*`)) >= local.length, {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: `${host}/${name} shipped`,
      });
    }
  }
  await nc.close();
  server = await startServeProcess(['--nats', node.url, '--port', '0']);
  base = server.url.replace(/\/$/, '');
});

after(async () => {
  if (server !== undefined) {
    server.child.kill('SIGTERM');
    await exited(server.child);
  }
  for (const shipper of shippers) await stopShipper(shipper).catch(() => undefined);
  await node?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const id = (host, name) => encodeURIComponent(`${host}/${name}`);
const texts = (entries) => entries.map((entry) => entry.d);

async function json(path) {
  const response = await request(base, path);
  assert.equal(response.status, 200, `${path}: ${response.body}`);
  return response.json;
}

test('the viewer routes name sandboxes host/name and give the entries of /api/hosts/…, cursors being stream sequences', async () => {
  const list = await json('/api/sandboxes');
  assert.deepEqual(
    list.map((sandbox) => [sandbox.id, sandbox.host, sandbox.name]),
    [
      ['h1/api', 'h1', 'api'],
      ['h1/db', 'h1', 'db'],
      ['h2/web', 'h2', 'web'],
    ],
  );
  assert.ok(list.every((sandbox) => sandbox.entries > 0 && typeof sandbox.lastEntry === 'string'));

  for (const [host, name] of [
    ['h1', 'db'],
    ['h2', 'web'],
  ]) {
    const fleet = await json(`/api/hosts/${host}/sandboxes/${name}/logs?source=all`);
    const viewer = await json(`/api/sandboxes/${id(host, name)}/logs?source=all`);
    assert.deepEqual(texts(viewer.entries), texts(fleet.entries));
    assert.deepEqual(
      viewer.entries.map((entry) => [entry.cursor, entry.sandbox, entry.host, entry.name, entry.hostCursor]),
      fleet.entries.map((entry) => [String(entry.seq), `${host}/${name}`, host, name, entry.cursor]),
    );
    // The cursor sits after everything read (the stream's last sequence then), not only after the last entry kept.
    assert.ok(Number(viewer.cursor) >= Number(fleet.cursor));
    assert.deepEqual((await json(`/api/sandboxes/${id(host, name)}/logs?after=${viewer.cursor}`)).entries, []);

    // The newest N (read backwards), then pages back to the start: the whole log, no gap, no repeat.
    const tail = await json(`/api/sandboxes/${id(host, name)}/logs?source=all&tail=7`);
    assert.deepEqual(texts(tail.entries), texts(fleet.entries.slice(-7)));
    assert.ok(Number(tail.cursor) >= Number(fleet.cursor));
    let page = await json(`/api/sandboxes/${id(host, name)}/logs?source=all&before=end&limit=25`);
    const walked = [...page.entries];
    while (!page.start) {
      page = await json(`/api/sandboxes/${id(host, name)}/logs?source=all&before=${page.cursor}&limit=25`);
      assert.ok(page.entries.length > 0);
      walked.unshift(...page.entries);
    }
    assert.deepEqual(texts(walked), texts(fleet.entries));
    const middle = fleet.entries[20].seq;
    const after = await json(`/api/sandboxes/${id(host, name)}/logs?source=all&after=${middle}`);
    assert.deepEqual(texts(after.entries), texts(fleet.entries.slice(21)));
  }

  // Merged reads: explicit ids or a pattern (over the id with a `/`, over the name without), in stream order.
  const everything = await json('/api/hosts/*/sandboxes/*/logs');
  const pick = (wanted) => everything.entries.filter((entry) => wanted(entry.host, entry.sandbox));
  const two = await json(`/api/logs?sandbox=${id('h1', 'api')}&sandbox=${id('h2', 'web')}`);
  assert.deepEqual(
    two.entries.map((entry) => `${entry.sandbox} ${entry.d}`),
    pick((h, s) => (h === 'h1' && s === 'api') || (h === 'h2' && s === 'web')).map(
      (e) => `${e.host}/${e.sandbox} ${e.d}`,
    ),
  );
  const ofHost = await json(`/api/logs?pattern=${encodeURIComponent('h1/*')}&before=end&limit=10000`);
  assert.deepEqual(texts(ofHost.entries), texts(pick((h) => h === 'h1')));
  assert.equal(ofHost.start, true);
  const byName = await json('/api/logs?pattern=w*');
  assert.deepEqual(texts(byName.entries), texts(pick((_, s) => s === 'web')));

  // The histogram counts what the same read returns: in all, and bucket by bucket.
  const histogram = await json(`/api/histogram?pattern=${encodeURIComponent('h1/*')}&buckets=5`);
  const sum = (bucket) => Object.values(bucket.counts).reduce((a, b) => a + b, 0);
  assert.ok(histogram.buckets.length >= 1 && histogram.buckets.length <= 5);
  assert.equal(
    histogram.buckets.map(sum).reduce((a, b) => a + b, 0),
    pick((h) => h === 'h1').length,
  );
  for (const bucket of histogram.buckets) {
    const until = new Date(Date.parse(bucket.t) + histogram.bucketMs).toISOString();
    const read = await json(`/api/logs?pattern=${encodeURIComponent('h1/*')}&since=${bucket.t}&until=${until}`);
    assert.equal(sum(bucket), read.entries.length, bucket.t);
  }
  const nothing = await json('/api/histogram?pattern=nobody');
  assert.deepEqual(nothing, { from: null, to: null, bucketMs: 0, buckets: [] });

  // What is not valid says so in JSON.
  const badCursor = await request(base, `/api/sandboxes/${id('h1', 'db')}/logs?after=ASoAAAAA`);
  assert.equal(badCursor.status, 400);
  assert.equal(badCursor.json.error, 'INVALID_CURSOR');
  const badId = await request(base, '/api/sandboxes/no-host/logs');
  assert.equal(badId.status, 400);
  const unknown = await request(base, '/api/sandboxes/h1%2Fdb/logs?nonsense=1');
  assert.equal(unknown.status, 400);
});

test('the viewer is served with the local server headers, the Host check applies to it too, and no other address without a token', async () => {
  const page = await request(base, '/');
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'], /^text\/html/);
  assert.match(page.headers['content-security-policy'], /script-src 'self'/);
  assert.equal(page.headers['x-frame-options'], 'DENY');
  const script = await request(base, '/app.js');
  assert.equal(script.status, 200);
  assert.match(script.headers['content-type'], /^text\/javascript/);
  assert.equal((await request(base, '/nothing.js')).status, 404);
  assert.equal((await request(base, '/', { headers: { host: 'evil.example' } })).status, 403);
  const open = await runCli(['serve', '--nats', node.url, '--host', '0.0.0.0', '--port', '0']);
  assert.equal(open.code, 2);
  assert.match(open.stderr, /refusing to listen on 0\.0\.0\.0 without a token/);
});

test('a viewer stream resumes exactly after Last-Event-ID, then follows live entries', async () => {
  const path = `/api/sandboxes/${id('h1', 'api')}/logs/stream?source=all`;
  const all = (await json(`/api/sandboxes/${id('h1', 'api')}/logs?source=all`)).entries;
  const first = await openEventStream(base, path);
  assert.equal(first.status, 200);
  await first.waitForEvents(all.length);
  assert.deepEqual(
    first.events.slice(0, all.length).map((event) => event.id),
    all.map((entry) => entry.cursor),
  );
  const lastId = first.events[14].id;
  first.close();
  const resumed = await openEventStream(base, path, { headers: { 'last-event-id': lastId } });
  await resumed.waitForEvents(all.length - 15);
  assert.deepEqual(
    resumed.events.map((event) => JSON.parse(event.data).d),
    texts(all.slice(15)),
  );
  appendRecords(join(homes.h1, 'sandboxes', 'api', 'logs'), 'streamed live', 2);
  await resumed.waitFor((client) => client.events.some((event) => JSON.parse(event.data).d === 'streamed live 1\n'), {
    what: 'the live entries',
  });
  resumed.close();

  // A stream that starts after the stream's newest entry (nothing to catch up on) delivers what comes next.
  const newest = (await json('/api/logs?all=1&source=all')).cursor;
  // (The second batch is shipped once the stream surely reads live: nats-server 2.9 counted one message too many
  // left on messages stored after a consumer was made, and the stream waited for it.)
  const caughtUp = await openEventStream(base, `${path}&after=${newest}`);
  appendRecords(join(homes.h1, 'sandboxes', 'api', 'logs'), 'after the newest', 1);
  await caughtUp.waitFor((client) => client.events.length >= 1, { what: 'the first entry after the newest' });
  appendRecords(join(homes.h1, 'sandboxes', 'api', 'logs'), 'live after the newest', 3);
  await caughtUp.waitFor((client) => client.events.length >= 4, { what: 'the live entries after the newest' });
  assert.deepEqual(
    caughtUp.events.map((event) => JSON.parse(event.data).d),
    ['after the newest 0\n', 'live after the newest 0\n', 'live after the newest 1\n', 'live after the newest 2\n'],
  );
  caughtUp.close();

  // A pattern's stream says when a sandbox that had shipped nothing appears, before its first entry.
  const web = (await json(`/api/sandboxes/${id('h2', 'web')}/logs`)).entries;
  const pattern = await openEventStream(base, `/api/logs/stream?pattern=${encodeURIComponent('h2/*')}`);
  await pattern.waitForEvents(web.length);
  // One more started after the stream's newest entry: it has nothing to catch up on when the sandbox appears.
  const newestNow = (await json('/api/logs?all=1&source=all')).cursor;
  const fromNewest = await openEventStream(
    base,
    `/api/logs/stream?pattern=${encodeURIComponent('h2/*')}&after=${newestNow}`,
  );
  makeSandbox(homes.h2, 'late', 5);
  await fromNewest.waitFor(
    (client) =>
      client.events.some((event) => event.event !== 'sandbox-added' && JSON.parse(event.data).d === 'late 4 xxxx\n'),
    { what: 'the entries of the new sandbox, after the newest' },
  );
  assert.deepEqual(JSON.parse(fromNewest.events[0].data), { sandbox: 'h2/late' });
  fromNewest.close();
  await pattern.waitFor((client) => client.events.some((event) => JSON.parse(event.data).d === 'late 4 xxxx\n'), {
    what: 'the entries of the new sandbox',
  });
  const added = pattern.events.findIndex((event) => event.event === 'sandbox-added');
  assert.deepEqual(JSON.parse(pattern.events[added].data), { sandbox: 'h2/late' });
  assert.equal(pattern.events.filter((event) => event.event === 'sandbox-added').length, 1);
  assert.equal(JSON.parse(pattern.events[added + 1].data).sandbox, 'h2/late');
  assert.ok(pattern.events.slice(0, added).every((event) => JSON.parse(event.data).sandbox === 'h2/web'));
  pattern.close();
});

test('the page in --nats mode lists sandboxes by host, shows a sandbox’s entries and follows new ones live', {
  timeout: 180_000,
  skip: NO_CHROMIUM,
}, async (t) => {
  const { page, problems, newPage } = await openBrowser(t);
  await page.goto(server.url);
  await page.waitForSelector('li.host[data-host="h2"] button.sandbox[data-name="h2/web"]', WAIT);
  const groups = await page.$$eval('#sandboxes > li.host', (hosts) =>
    hosts.map((host) => [
      host.dataset.host,
      [...host.querySelectorAll('button.sandbox')].map((button) => button.dataset.name),
    ]),
  );
  assert.deepEqual(groups, [
    ['h1', ['h1/api', 'h1/db']],
    ['h2', ['h2/late', 'h2/web']],
  ]);
  assert.equal(await page.textContent('#current'), 'no sandbox selected');

  // The viewer's default sources are stdout, stderr and output: the route's own default.
  const expected = (await json('/api/hosts/h1/sandboxes/db/logs')).entries.map((entry) => entry.d.replace(/\n$/, ''));
  await page.click('button.sandbox[data-name="h1/db"]');
  await page.waitForSelector('#status[data-state="live"]', WAIT);
  await page.waitForFunction((count) => document.querySelectorAll('#log .row').length === count, expected.length, WAIT);
  assert.deepEqual(await rowTexts(page), expected);
  assert.equal(new URL(page.url()).searchParams.get('sandbox'), 'h1/db');
  // The histogram above counts the same entries.
  await page.waitForFunction(
    (count) =>
      [...document.querySelectorAll('#histogram .bar')]
        .map((bar) => Number(bar.dataset.stdout) + Number(bar.dataset.stderr) + Number(bar.dataset.output))
        .reduce((a, b) => a + b, 0) === count,
    expected.length,
    WAIT,
  );

  appendRecords(join(homes.h1, 'sandboxes', 'db', 'logs'), 'shown live', 3);
  await waitForRowText(page, 'shown live 2');
  const rows = await rowTexts(page);
  assert.deepEqual(rows.slice(-3), ['shown live 0', 'shown live 1', 'shown live 2']);
  assert.equal(rows.length, expected.length + 3);
  await page.screenshot({ path: join(OUTPUT, 'fleet-viewer.png') });

  // An entry's link opens the view at that entry (its `at` is the stream sequence), paused, all around it loaded.
  const link = await page.$eval('#log .row:nth-child(30) a.link', (anchor) => anchor.href);
  const targetText = await page.$eval('#log .row:nth-child(30) .body', (body) => body.textContent);
  assert.match(new URL(link).searchParams.get('at'), /^\d+$/);
  const copy = await newPage();
  await copy.goto(link);
  await copy.waitForSelector('#log .row.target', WAIT);
  assert.equal(await copy.$eval('#log .row.target .body', (body) => body.textContent), targetText);
  assert.equal(await copy.getAttribute('#pause', 'aria-pressed'), 'true');
  await copy
    .waitForFunction((count) => document.querySelector('#count').dataset.loaded === String(count), rows.length, WAIT)
    .catch(async (error) => {
      const loaded = await copy.$eval('#count', (count) => [count.dataset.loaded, count.textContent]);
      const texts = await copy.$$eval('#log .row .body', (bodies) => bodies.map((body) => body.textContent));
      error.message += `\nexpected ${rows.length} loaded, the page says ${JSON.stringify(loaded)}; rows ${JSON.stringify(texts)} vs ${JSON.stringify(rows)}`;
      throw error;
    });
  await copy.close();
  // A tab behind another is hidden, and a hidden page draws no frames (the list draws new rows in one).
  await page.bringToFront();
  await page.waitForFunction(() => document.visibilityState === 'visible', null, WAIT);

  // Ticking a sandbox of the other host merges them: each row names its host/name.
  await page.check('li[data-name="h2/web"] input.pick');
  await page.waitForFunction(() => new URL(location.href).searchParams.getAll('sandbox').length === 2, null, WAIT);
  await page.waitForFunction(
    () => [...document.querySelectorAll('#log .row .sbx')].some((name) => name.textContent === 'h2/web'),
    null,
    WAIT,
  );
  const names = new Set(await page.$$eval('#log .row .sbx', (cells) => cells.map((cell) => cell.textContent)));
  assert.deepEqual([...names].sort(), ['h1/db', 'h2/web']);
  await page.waitForSelector('#status[data-state="live"]', WAIT);

  // A pattern over one host's ids: a sandbox that appears there joins the view and the list.
  await page.fill('#pattern', 'h1/*');
  await page.press('#pattern', 'Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('pattern') === 'h1/*', null, WAIT);
  await page.waitForSelector('#status[data-state="live"]', WAIT);
  makeSandbox(homes.h1, 'later', 5);
  await page.waitForSelector('li.host[data-host="h1"] button.sandbox[data-name="h1/later"]', WAIT);
  await waitForRowText(page, 'later 4 xxxx');
  const joined = new Set(await page.$$eval('#log .row .sbx', (cells) => cells.map((cell) => cell.textContent)));
  assert.deepEqual([...joined].sort(), ['h1/api', 'h1/db', 'h1/later']);
  await page.screenshot({ path: join(OUTPUT, 'fleet-viewer-pattern.png') });
  assert.deepEqual(problems, []);
});

test('with a token, the page needs none, /api needs it (the stream also in its URL), and the page takes it from #token=', {
  timeout: 180_000,
}, async (t) => {
  const token = 'fleet-secret';
  const guarded = await startServeProcess(['--nats', node.url, '--port', '0'], { env: { SANDLOG_TOKEN: token } });
  t.after(async () => {
    guarded.child.kill('SIGTERM');
    await exited(guarded.child);
  });
  const url = guarded.url.replace(/\/$/, '');
  assert.equal((await request(url, '/')).status, 200);
  assert.equal((await request(url, '/api/sandboxes')).status, 401);
  assert.equal((await request(url, `/api/sandboxes/${id('h2', 'web')}/logs`)).status, 401);
  assert.equal((await request(url, `/api/sandboxes/${id('h2', 'web')}/logs?token=${token}`)).status, 401);
  const bearer = { authorization: `Bearer ${token}` };
  assert.equal((await request(url, '/api/sandboxes', { headers: bearer })).status, 200);
  const stream = await openEventStream(url, `/api/logs/stream?pattern=h2/*&token=${token}`);
  assert.equal(stream.status, 200);
  await stream.waitForEvents(1);
  stream.close();
  if (NO_CHROMIUM) return;
  const { page, problems } = await openBrowser(t);
  await page.goto(`${guarded.url}?sandbox=${encodeURIComponent('h2/web')}#token=${token}`);
  await waitForRowText(page, 'web 1 x');
  await page.waitForSelector('li.host[data-host="h2"] button.sandbox[data-name="h2/web"][aria-current="true"]', WAIT);
  assert.equal(new URL(page.url()).hash, '');
  assert.deepEqual(problems, []);
});
