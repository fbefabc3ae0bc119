// The public API is what src/index.ts exports, and nothing else: a name that
// appears or disappears here is a change to what users may rely on, and must
// be made on purpose (docs/library.md lists them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as sandlog from '../../dist/index.js';

const PUBLIC = [
  'ALL_SOURCES',
  'CommandStartError',
  'DEFAULT_MAX_FILE_BYTES',
  'DEFAULT_MAX_ROTATED_FILES',
  'DEFAULT_SOURCES',
  'EXEC_LOG',
  'ExecLogWriter',
  'HistoryGoneError',
  'HttpError',
  'InvalidCursorError',
  'InvalidSandboxNameError',
  'InvalidStateError',
  'KERNEL_LOG',
  'LogFileError',
  'MissedRotationError',
  'OptionsError',
  'PtyUnavailableError',
  'RUNTIME_LOG',
  'SandboxNotFoundError',
  'SandlogError',
  'TextLogWriter',
  'WriterLockedError',
  'assertSandboxName',
  'captureProcess',
  'createApp',
  'decodeCursor',
  'decodeMultiCursor',
  'defaultHome',
  'encodeCursor',
  'encodeMultiCursor',
  'listSandboxes',
  'readHistogram',
  'readHistory',
  'readLogs',
  'readLogsSnapshot',
  'readManyHistory',
  'recordDigest',
  'sandboxLogDir',
  'sanitizeForTerminal',
  'startServer',
  'streamLogs',
  'streamManyLogs',
];

test('the package exports exactly the public API', () => {
  assert.deepEqual(Object.keys(sandlog).sort(), [...PUBLIC].sort());
});

test('every error class the package exports is a SandlogError with a stable code', () => {
  for (const [name, value] of Object.entries(sandlog)) {
    if (typeof value !== 'function' || !name.endsWith('Error') || name === 'SandlogError') continue;
    assert.ok(value.prototype instanceof sandlog.SandlogError, `${name} extends SandlogError`);
  }
});
