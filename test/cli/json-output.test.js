// `--json` over many arbitrary records in one run: every line is valid JSON
// with the record's exact time text, source, body (or base64 of its bytes),
// id, and a cursor that resumes right after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeCursor } from '../../dist/index.js';
import { START_POSITION } from '../../dist/format/cursor.js';
import { runCli, tempSandbox } from '../helpers.js';

const record = fc.record({
  ms: fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }),
  s: fc.constantFrom('stdout', 'stderr', 'output', 'system'),
  d: fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
    fc.constantFrom('', '"\\\n\t', '\u0000\u001f'),
  ),
  id: fc.option(fc.integer({ min: 0, max: 99_999 }), { nil: undefined }),
  binary: fc.option(fc.uint8Array({ minLength: 1, maxLength: 20 }), { nil: undefined, freq: 4 }),
  reordered: fc.boolean(),
});

test('--json prints one exact, parseable line per record, whatever the record holds', async (t) => {
  const records = fc.sample(fc.array(record, { minLength: 300, maxLength: 300 }), { numRuns: 1, seed: 20260430 })[0];
  records.sort((a, b) => a.ms - b.ms);
  const lines = records.map((r) => {
    const fields = [
      ['t', new Date(r.ms).toISOString()],
      ['s', r.s],
      ['d', r.binary === undefined ? r.d : Buffer.from(r.binary).toString('base64')],
    ];
    if (r.id !== undefined) fields.push(['id', r.id]);
    if (r.binary !== undefined) fields.push(['e', 'b64']);
    if (r.reordered) fields.reverse();
    return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}\n`;
  });
  const { home, logDir } = tempSandbox(t);
  const path = join(logDir, 'exec.log');
  writeFileSync(path, lines.join(''));
  const inode = statSync(path, { bigint: true }).ino;
  const result = await runCli(['logs', 'box', '--home', home, '--json', '--source', 'all']);
  assert.equal(result.code, 0, result.stderr);
  const out = result.stdout.trimEnd().split('\n');
  assert.equal(out.length, records.length);
  let offset = 0;
  out.forEach((text, i) => {
    const r = records[i];
    const object = JSON.parse(text);
    assert.deepEqual(Object.keys(object), ['t', 's', 'd', 'id', 'e', 'cursor']);
    assert.equal(object.t, new Date(r.ms).toISOString());
    assert.equal(object.s, r.s);
    assert.equal(object.id, r.id ?? null);
    if (r.binary !== undefined && !isUtf8(r.binary)) {
      assert.equal(object.e, 'b64');
      assert.deepEqual(Buffer.from(object.d, 'base64'), Buffer.from(r.binary));
    } else {
      // Text, or base64 on disk whose bytes are UTF-8 after all: shown as text.
      assert.equal(object.e, null);
      assert.equal(
        object.d,
        r.binary === undefined ? Buffer.from(r.d, 'utf8').toString('utf8') : Buffer.from(r.binary).toString('utf8'),
      );
    }
    offset += Buffer.byteLength(lines[i]);
    assert.deepEqual(decodeCursor(object.cursor), [{ generation: inode, offset }, START_POSITION, START_POSITION]);
  });
});
