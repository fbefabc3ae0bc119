// The error types: one base class with a stable code, a distinct subclass per
// case a caller handles differently, messages that name the offending value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvalidCursorError,
  InvalidSandboxNameError,
  InvalidStateError,
  MissedRotationError,
  OptionsError,
  SandboxNotFoundError,
  SandlogError,
  decodeCursor,
  streamLogs,
} from '../../dist/index.js';
import { resolveSources } from '../../dist/format/source.js';
import { parseTimeArgument } from '../../dist/format/time.js';

test('each expected failure is its own SandlogError subclass with a stable code', () => {
  const errors = [
    [new SandboxNotFoundError('x'), 'SANDBOX_NOT_FOUND'],
    [new InvalidSandboxNameError('x'), 'INVALID_SANDBOX_NAME'],
    [new InvalidCursorError('x'), 'INVALID_CURSOR'],
    [new MissedRotationError('exec.log', 12n, 345), 'MISSED_ROTATION'],
    [new OptionsError('x'), 'INVALID_OPTIONS'],
  ];
  const classes = new Set(errors.map(([error]) => error.constructor));
  assert.equal(classes.size, errors.length);
  for (const [error, code] of errors) {
    assert.ok(error instanceof SandlogError);
    assert.ok(error instanceof Error);
    assert.equal(error.code, code);
    assert.equal(error.name, error.constructor.name);
  }
});

test('MissedRotationError says how far the reader had got', () => {
  const error = new MissedRotationError('exec.log', 12n, 345);
  assert.equal(error.offset, 345);
  assert.equal(error.generation, 12n);
  assert.match(error.message, /offset 345/);
  assert.ok(!error.message.includes('\n'));
});

test('option errors name the value that was wrong', () => {
  assert.throws(
    () => resolveSources(['stdout', 'stdin']),
    (error) => error instanceof OptionsError && /"stdin"/.test(error.message),
  );
  assert.throws(
    () => parseTimeArgument('last tuesday'),
    (error) => error instanceof OptionsError && /"last tuesday"/.test(error.message),
  );
  assert.throws(() => decodeCursor('%%%'), InvalidCursorError);
});

test('time arguments: RFC 3339 with offsets and fractions, and relative durations back from now', () => {
  assert.equal(parseTimeArgument('2026-04-30T20:32:59.688Z').toISOString(), '2026-04-30T20:32:59.688Z');
  assert.equal(parseTimeArgument('2026-04-30T22:32:59+02:00').toISOString(), '2026-04-30T20:32:59.000Z');
  const now = Date.UTC(2026, 3, 30, 12, 0, 0);
  assert.equal(parseTimeArgument('30s', now).getTime(), now - 30_000);
  assert.equal(parseTimeArgument('5m', now).getTime(), now - 300_000);
  assert.equal(parseTimeArgument('2h', now).getTime(), now - 7_200_000);
  assert.equal(parseTimeArgument('1d', now).getTime(), now - 86_400_000);
  for (const bad of ['', '5', 'm5', '5 m', '-5m', '2026-02-30T00:00:00Z', '2026-04-30T20:32:59']) {
    assert.throws(() => parseTimeArgument(bad), OptionsError, bad);
  }
});

test('iterating a log stream a second time is an InvalidStateError, whatever the first did', async () => {
  const stream = streamLogs({ logDir: '/nonexistent/sandlog-errors-test' });
  await stream
    .batches()
    [Symbol.asyncIterator]()
    .next()
    .catch(() => undefined);
  await assert.rejects(
    stream.batches()[Symbol.asyncIterator]().next(),
    (error) => error instanceof InvalidStateError && error.code === 'INVALID_STATE' && /only once/.test(error.message),
  );
});
