// The token encoding of host and sandbox names (subjects and KV keys), message ids and the
// record digest: pure functions, checked against their documented definitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  checkpointKey,
  decodeToken,
  encodeToken,
  entryMessageId,
  entrySubject,
  parseEntrySubject,
} from '../../dist/ship/naming.js';
import { recordDigest } from '../../dist/format/record-digest.js';

test('names become one subject token and one KV key part, reversibly', () => {
  assert.equal(encodeToken('web-1_a'), 'web-1_a');
  assert.equal(encodeToken('web.1'), 'web=2E1');
  assert.equal(encodeToken('a b*>%='), 'a=20b=2A=3E=25=3D');
  assert.equal(encodeToken('é'), '=C3=A9');
  assert.equal(entrySubject('host.a', 'web 1', 'stderr'), 'sandlog.host=2Ea.web=201.stderr');
  assert.deepEqual(parseEntrySubject('sandlog.host=2Ea.web=201.stderr'), {
    host: 'host.a',
    sandbox: 'web 1',
    source: 'stderr',
  });
  assert.equal(checkpointKey('h.1', 'x y'), 'h=2E1.x=20y');
  assert.equal(decodeToken('=c3=a9'), undefined, 'only the canonical (upper-case) form decodes');
  fc.assert(
    fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), (name) => {
      const token = encodeToken(name);
      assert.match(token, /^[-_=A-Za-z0-9]+$/);
      assert.equal(decodeToken(token), Buffer.from(name, 'utf8').toString('utf8'));
    }),
  );
});

test('message ids are <host>/<sandbox>/<cursor>/<digest>; the digest is SHA-256 of the record line, 12 bytes, base64url', () => {
  const line = Buffer.from('{"t":"2026-04-30T20:00:00.000Z","s":"stdout","d":"hi\\n","id":1}');
  const expected = createHash('sha256').update(line).digest().subarray(0, 12).toString('base64url');
  assert.equal(recordDigest(line), expected);
  assert.equal(recordDigest(line).length, 16);
  assert.equal(entryMessageId('h', 'web', 'AQ==', expected), `h/web/AQ==/${expected}`);
});
