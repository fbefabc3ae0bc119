// --grep decides on the raw bytes of a record's body when the pattern needs a
// literal that is absent: the literal is read from the pattern soundly, and a
// body that spells the literal in escapes (\u0041, or split by other escapes)
// is still matched by the pattern itself, exactly as without the shortcut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readLogs } from '../../dist/index.js';
import { requiredLiteral, requiredLiterals } from '../../dist/engine/grep-literal.js';
import { tempDir, texts, writeLines } from '../helpers.js';

const literal = (pattern) => requiredLiteral(pattern)?.toString('utf8');

test('the required literal is the longest run of plain characters in a top-level sequence', () => {
  assert.equal(literal(/NO-SUCH-TEXT/u), 'NO-SUCH-TEXT');
  assert.equal(literal(/TRACE.*elapsed/u), 'elapsed');
  assert.equal(literal(/colou?r/u), 'colo');
  assert.equal(literal(/ab{0,1}cd/u), 'cd');
  assert.equal(literal(/ab+c/u), 'ab');
  assert.equal(literal(/\d+ms/u), 'ms');
  assert.equal(literal(/(foo)?barbaz/u), 'barbaz');
  assert.equal(literal(/x[abc]yz/u), 'yz');
  assert.equal(literal(/\.json/u), '.json');
  assert.equal(literal(/café ok/u), 'café ok');
});

test('every run of a top-level sequence is required: the longest, then up to two more of 3 bytes or more', () => {
  const all = (pattern) => requiredLiterals(pattern).map(String);
  assert.deepEqual(all(/TRACE.*elapsed/u), ['elapsed', 'TRACE']);
  assert.deepEqual(all(/abc+defg/u), ['defg', 'abc']);
  assert.deepEqual(all(/ab+cde/u), ['cde']);
  assert.deepEqual(all(/a.bc.defg.hijkl.mnopqr/u), ['mnopqr', 'hijkl', 'defg']);
  assert.deepEqual(all(/x.yz/u), ['yz']);
  assert.deepEqual(all(/(abc)def/u), ['def']);
  assert.deepEqual(all(/abc|def/u), []);
});

test('patterns without a sound literal get none', () => {
  assert.equal(literal(/foo|bar/u), undefined, 'alternation');
  assert.equal(literal(/error/i), undefined, 'case-insensitive');
  assert.equal(literal(/\x41/u), undefined, 'code-unit escape');
  assert.equal(literal(/\p{L}/u), undefined, 'property');
  assert.equal(literal(/./u), undefined);
  assert.equal(literal(/a?/u), undefined);
  // Characters a JSON body may write escaped are never part of it.
  assert.equal(literal(/a\/b/u), 'a');
  assert.equal(literal(/a"b/u), 'a');
  assert.equal(literal(/a\\b/u), 'a');
  assert.equal(literal(/x\ny/u), 'x');
});

test('grep with a literal keeps exactly what the pattern matches, however the body spells it', async (t) => {
  const logDir = tempDir(t);
  const bodies = [
    'plain ERROR here',
    'ERROR with newline\\n',
    'spelled \\u0045RROR in an escape',
    'ER\\nROR split by a newline',
    'no match at all\\n',
    'a\\/b slash escaped',
    'tab\\tERROR\\t',
    'quote \\"ERROR\\"',
    'café ERROR ✓',
  ];
  writeLines(
    join(logDir, 'exec.log'),
    bodies.map((d, i) => `{"t":"2026-04-30T20:00:0${i}.000Z","s":"stdout","d":"${d}","id":1}`),
  );
  const all = await readLogs({ logDir });
  for (const pattern of [
    'ERROR',
    'RROR in',
    'R\nR',
    'a/b',
    'é ERROR',
    'NOTHING',
    'ERROR"',
    // Two literals: bodies with one of them only, or one spelled in a \u escape.
    'spelled.*escape',
    'plain.*here',
    'spell.*ERROR',
    'ERROR.*with',
    'café.*✓',
    'no.*all',
  ]) {
    const expected = texts(all).filter((text) => new RegExp(pattern, 'u').test(text));
    assert.deepEqual(texts(await readLogs({ logDir }, { grep: pattern })), expected, pattern);
  }
  assert.equal(texts(await readLogs({ logDir }, { grep: 'ERROR' })).length, 6);
});
