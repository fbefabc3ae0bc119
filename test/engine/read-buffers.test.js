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
