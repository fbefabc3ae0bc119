// The byte-level record encoder against the JSON.stringify-based encoder it
// replaced (kept here as the reference): byte-identical lines for any body —
// random bytes, invalid UTF-8, encoded surrogates, control characters, every
// alignment of body and output — and for every source and session id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { encodeRecord, encodeRecordInto, maxEncodedRecordBytes } from '../../dist/format/record-encoder.js';

const RUNS = Number(process.env.ENCODER_FUZZ_RUNS ?? 2000);

// The encoder before issue 12's capture work, verbatim.
function referenceEncodeRecord(timeText, source, body, sessionId) {
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const text = isUtf8(buffer);
  const d = text ? JSON.stringify(buffer.toString('utf8')) : `"${buffer.toString('base64')}"`;
  const id = sessionId === undefined || sessionId === null ? '' : `,"id":${sessionId}`;
  return Buffer.from(`{"t":"${timeText}","s":"${source}","d":${d}${id}${text ? '' : ',"e":"b64"'}}\n`, 'utf8');
}

const TIME = '2026-12-03T22:59:13.084Z';

// Bytes that make the interesting cases likely: ASCII, controls, quote, backslash, DEL, UTF-8 lead and continuation bytes.
const interestingByte = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.integer({ min: 0, max: 0x1f }),
  fc.constantFrom(0x22, 0x5c, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff),
  fc.integer({ min: 0, max: 255 }),
);
const utf8Text = fc
  .string({ unit: fc.oneof(fc.constant('grapheme'), fc.constant('binary')), maxLength: 400 })
  .map((text) => Buffer.from(text, 'utf8'));
const body = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
  fc.array(interestingByte, { maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
  utf8Text,
  // Valid text with one byte changed: mostly invalid UTF-8 somewhere inside a long body.
  fc.tuple(utf8Text, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([bytes, at, byte]) => {
    const copy = Buffer.from(bytes);
    if (copy.length > 0) copy[at % copy.length] = byte;
    return copy;
  }),
);
const source = fc.constantFrom('stdout', 'stderr', 'output', 'system');
const sessionId = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.nat(),
  fc.bigInt({ min: 0n, max: 18446744073709551615n }),
);

// The body copied to `offset` bytes into a larger buffer, so that its memory starts at any alignment.
function placed(bytes, offset, plain) {
  const backing = Buffer.alloc(bytes.length + offset + 3, 0x41);
  bytes.copy(backing, offset);
  const view = backing.subarray(offset, offset + bytes.length);
  return plain ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : view;
}

test('encodeRecord writes the same bytes as the JSON.stringify encoder for any body', () => {
  fc.assert(
    fc.property(
      body,
      source,
      sessionId,
      fc.integer({ min: 0, max: 7 }),
      fc.boolean(),
      (bytes, src, id, offset, plain) => {
        const input = placed(bytes, offset, plain);
        assert.deepEqual(encodeRecord(TIME, src, input, id), referenceEncodeRecord(TIME, src, input, id));
      },
    ),
    { numRuns: RUNS },
  );
});

test('encodeRecordInto writes the same bytes at any offset of a reused buffer and stays within its bound', () => {
  const out = Buffer.alloc(1 << 16);
  fc.assert(
    fc.property(body, source, sessionId, fc.integer({ min: 0, max: 9 }), (bytes, src, id, at) => {
      out.fill(0xaa);
      const end = encodeRecordInto(out, at, TIME, src, bytes, id);
      const expected = referenceEncodeRecord(TIME, src, bytes, id);
      assert.deepEqual(out.subarray(at, end), expected);
      assert.ok(end - at <= maxEncodedRecordBytes(TIME, bytes.length, id));
      assert.equal(out[end], 0xaa, 'nothing written past the record');
    }),
    { numRuns: RUNS },
  );
});

test('every single byte and every byte pair encode as the reference does', () => {
  for (let a = 0; a < 256; a++) {
    const one = Buffer.from([a]);
    assert.deepEqual(encodeRecord(TIME, 'stdout', one, 1), referenceEncodeRecord(TIME, 'stdout', one, 1));
    for (let b = 0; b < 256; b++) {
      const two = Buffer.from([a, b]);
      assert.deepEqual(encodeRecord(TIME, 'stderr', two, 2), referenceEncodeRecord(TIME, 'stderr', two, 2));
    }
  }
});

test('long bodies with specials at every position of a word encode as the reference does', () => {
  const specials = [0x00, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1b, 0x1f, 0x22, 0x5c, 0x7f];
  for (const special of specials) {
    for (let position = 0; position < 80; position++) {
      for (let offset = 0; offset < 4; offset++) {
        const bytes = Buffer.alloc(80, 0x61);
        bytes[position] = special;
        const input = placed(bytes, offset, false);
        assert.deepEqual(encodeRecord(TIME, 'stdout', input, 3), referenceEncodeRecord(TIME, 'stdout', input, 3));
      }
    }
  }
});

test('a 64 KiB chunk of text, of multi-byte text and of binary encode as the reference does', () => {
  const line = 'capture benchmark: the quick brown fox jumps over the lazy dog 0123456789\n';
  const ascii = Buffer.from(line.repeat(1000)).subarray(0, 65536);
  const unicode = Buffer.from('héllo wörld ✓ 😀 \u2028\u0085\t"\\\n'.repeat(3000)).subarray(0, 65533);
  const binary = Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 7919) & 0xff));
  for (const chunk of [ascii, unicode, binary]) {
    assert.deepEqual(encodeRecord(TIME, 'stdout', chunk, 1), referenceEncodeRecord(TIME, 'stdout', chunk, 1));
  }
  // Surrogates encoded as bytes (CESU-8) are not UTF-8; a lone surrogate in a string becomes U+FFFD first.
  for (const bytes of [
    Buffer.from([0x61, 0xed, 0xa0, 0x80]),
    Buffer.from('x\ud800y\udc00'),
    Buffer.from([0xc0, 0x80]),
  ]) {
    assert.deepEqual(encodeRecord(TIME, 'stdout', bytes, 1), referenceEncodeRecord(TIME, 'stdout', bytes, 1));
  }
  // A multi-byte character cut by the chunk's end is not UTF-8: the whole chunk goes as base64.
  const cut = Buffer.from('ab✓').subarray(0, 4);
  assert.match(encodeRecord(TIME, 'stdout', cut, 1).toString(), /"e":"b64"/);
});
