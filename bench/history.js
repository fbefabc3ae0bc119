// History pages (`before=<cursor>&limit=200`, what the viewer's scroll-back
// asks for) over the full chain: the newest page, a walk back page by page,
// and a page deep in the oldest file, against the in-process `tail: 200` read
// of the same chain as the peer.
import { fmt, median, report, sized, timeIt, importSandlog } from './lib/common.js';
import { dataset } from './lib/data.js';

const { readHistory, streamLogs } = await importSandlog();
const { logDir } = dataset();
const target = { logDir };
const LIMIT = 200;

const tailMs = [];
const newestMs = [];
for (let i = 0; i < sized(2, 25); i++) {
  tailMs.push(
    (
      await timeIt(async () => {
        let n = 0;
        for await (const batch of streamLogs(target, { tail: LIMIT }).batches()) n += batch.length;
        return n;
      })
    ).ms,
  );
  newestMs.push((await timeIt(() => readHistory(target, { before: 'end', limit: LIMIT }))).ms);
}

// Walk back from the end, page by page.
const walkMs = [];
let page = await readHistory(target, { before: 'end', limit: LIMIT });
for (let i = 0; i < sized(5, 300) && !page.start; i++) {
  const cursor = page.cursor;
  const { ms, value } = await timeIt(() => readHistory(target, { before: cursor, limit: LIMIT }));
  walkMs.push(ms);
  page = value;
}

// A page just after the first retained entry (deep in the oldest file).
let early;
let seen = 0;
for await (const entry of streamLogs(target)) {
  early = entry;
  if (++seen >= 1000) break;
}
const deepMs = [];
for (let i = 0; i < sized(2, 25); i++)
  deepMs.push((await timeIt(() => readHistory(target, { before: early.cursor, limit: LIMIT }))).ms);

report({
  scenario: 'history',
  title: 'history pages of 200 entries before a cursor, over the full chain (in-process)',
  rows: [
    { name: 'peer: streamLogs({ tail: 200 })', value: fmt(median(tailMs), 2), unit: 'ms' },
    { name: 'readHistory({ before: "end", limit: 200 })', value: fmt(median(newestMs), 2), unit: 'ms' },
    { name: `walk back: median page (${walkMs.length} pages)`, value: fmt(median(walkMs), 2), unit: 'ms' },
    { name: 'page before the 1000th retained entry', value: fmt(median(deepMs), 2), unit: 'ms' },
  ],
  bars: [
    {
      bar: 'a history page costs about what a tail read of the same size does (within 3×)',
      measured: `${fmt(median(walkMs) / median(tailMs), 2)}×`,
      met: median(walkMs) <= 3 * median(tailMs),
    },
  ],
  notes: ['each page reads backwards from its cursor: cost follows the page, not the position in the chain'],
});
