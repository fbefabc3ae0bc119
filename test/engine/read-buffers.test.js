// The line reader reads into two buffers it reuses; the file reader moves the
// lines it keeps out of them (or keeps a buffer it mostly uses). Entries
// handed out early must still hold their own bytes after many later reads,
// whatever share of each block a filter keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { streamLogs } from '../../dist/index.js';
import { READ_BLOCK_BYTES } from '../../dist/engine/line-reader.js';
import { at, recordLine, tempDir, writeLines } from '../helpers.js';

function build(logDir) {
  const lines = [];
  const expected = [];
  let bytes = 0;
  for (let i = 0; bytes < READ_BLOCK_BYTES * 6; i++) {
    // Mostly stdout; every seventh stderr; varied lengths so lines straddle block ends.
    const source = i % 7 === 3 ? 'stderr' : 'stdout';
    const body = `line ${i} ${'x'.repeat((i * 37) % 900)}${i % 5 === 0 ? '\u001b[31mred\u001b[0m' : ''}\n`;
    const line = recordLine(at(i / 1000), source, body, (i % 3) + 1);
    lines.push(line);
    expected.push({ source, line, text: body });
    bytes += line.length + 1;
  }
  writeLines(join(logDir, 'exec.log'), lines);
  return expected;
}

async function collect(logDir, sources) {
  const stream = streamLogs({ logDir }, { sources });
  const entries = [];
  for await (const batch of stream.batches()) for (const entry of batch) entries.push(entry);
  return entries;
}

for (const sources of [['stderr'], ['stdout', 'stderr']]) {
  test(`entries keep their own bytes after later reads (sources ${sources.join(',')})`, async (t) => {
    const logDir = tempDir(t);
    const expected = build(logDir).filter((record) => sources.includes(record.source));
    const entries = await collect(logDir, sources);
    assert.equal(entries.length, expected.length);
    for (const [i, entry] of entries.entries()) {
      assert.equal(entry.text(), expected[i].text, `entry ${i}`);
      assert.equal(Buffer.from(entry.recordLine).toString('utf8'), expected[i].line, `entry ${i} line`);
      const json = JSON.parse(entry.toJsonLine());
      assert.equal(json.d, expected[i].text, `entry ${i} json`);
      assert.equal(json.cursor, entry.cursor);
    }
  });
}

// A text log is held whole for sorting: its entries keep only their lines and parse body and time
// again when asked. Lines with and without a time (those take the file's mtime), with colour, with a
// CR, and out of order, over several read blocks.
test('text-log entries held whole give their own body and time after every later read', async (t) => {
  const logDir = tempDir(t);
  const lines = [];
  let bytes = 0;
  for (let i = 0; bytes < READ_BLOCK_BYTES * 4; i++) {
    const seconds = i % 11 === 5 ? i / 100 - 3 : i / 100;
    const stamp = new Date(Date.UTC(2026, 0, 1) + seconds * 1000).toISOString().replace('Z', `${i % 1000}Z`.slice(-4));
    const message = `msg ${i} ${'y'.repeat((i * 53) % 700)}${i % 4 === 0 ? ' \u001b[32mok\u001b[0m' : ''}${i % 9 === 0 ? '\r' : ''}`;
    lines.push(i % 13 === 7 ? `no time here ${i}` : `${stamp} ${message}`);
    bytes += lines.at(-1).length + 1;
  }
  writeLines(join(logDir, 'runtime.log'), lines);
  const entries = await collect(logDir, ['system']);
  assert.equal(entries.length, lines.length);
  const expected = lines.map((line, i) => {
    const timed = i % 13 !== 7;
    const body = `${(timed ? line.slice(line.indexOf(' ') + 1) : line).replace(/\u001b\[[0-9;]*m/g, '')}\n`;
    return { i, body, time: timed ? line.slice(0, 23) + 'Z' : undefined };
  });
  const byBody = new Map(expected.map((item) => [item.body, item]));
  const seen = new Set();
  for (const entry of entries) {
    const item = byBody.get(entry.text());
    assert.ok(item !== undefined, `an entry with a body no line has: ${JSON.stringify(entry.text().slice(0, 60))}`);
    seen.add(item.i);
    const json = JSON.parse(entry.toJsonLine());
    assert.equal(json.d, item.body);
    assert.equal(Buffer.from(entry.data).toString('utf8'), item.body);
    if (item.time !== undefined) assert.equal(json.t, item.time, `line ${item.i}`);
    else assert.equal(json.t, entry.timestamp.toISOString(), `line ${item.i} (the file's mtime)`);
  }
  assert.equal(seen.size, lines.length);
  for (let i = 1; i < entries.length; i++) assert.ok(entries[i - 1].time <= entries[i].time, 'sorted by time');
});
