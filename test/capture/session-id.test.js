// Choosing the next session id from what the chain retains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nextSessionId } from '../../dist/capture/session-id.js';
import { recordLine, tempDir, writeLines, at } from '../helpers.js';

test('an empty or missing log directory starts at 1', (t) => {
  const logDir = tempDir(t);
  assert.equal(nextSessionId(logDir), 1);
  assert.equal(nextSessionId(join(logDir, 'missing')), 1);
});

test('the next id is one more than the highest anywhere in the retained chain, not the last', (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log.1'), [recordLine(at(0), 'stdout', 'old', 40)]);
  writeLines(join(logDir, 'exec.log'), [
    recordLine(at(1), 'stdout', 'a', 7),
    recordLine(at(2), 'stdout', 'b', 9),
    recordLine(at(3), 'stderr', 'c', 8),
  ]);
  // exec.log.1 holds session 40 (an older, long-running session that a newer one outlived in exec.log).
  assert.equal(nextSessionId(logDir), 41);
  writeLines(join(logDir, 'exec.log.1'), [recordLine(at(0), 'stdout', 'old', 4)]);
  assert.equal(nextSessionId(logDir), 10);
});

test('newest files holding only system records are looked past', (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log.3'), [recordLine(at(0), 'stdout', 'x', 3)]);
  writeLines(join(logDir, 'exec.log.2'), [recordLine(at(1), 'output', 'y', 12), recordLine(at(2), 'system', 'boot\n')]);
  writeLines(join(logDir, 'exec.log.1'), [recordLine(at(3), 'system', 'kernel said hi\n')]);
  writeFileSync(join(logDir, 'exec.log'), '');
  assert.equal(nextSessionId(logDir), 13);
});

test("sandlog's own markers count, so a session that printed nothing is not reused", (t) => {
  const logDir = tempDir(t);
  writeLines(join(logDir, 'exec.log'), [
    recordLine(at(0), 'stdout', 'out', 4),
    recordLine(at(1), 'system', 'exec session 5 started (pid 12): true\n'),
    recordLine(at(2), 'system', 'exec session 5 exited with code 0 (pid 12)\n'),
  ]);
  assert.equal(nextSessionId(logDir), 6);
});

test('"id" inside a body, other key orders, spaces and a torn last line are handled', (t) => {
  const logDir = tempDir(t);
  writeFileSync(
    join(logDir, 'exec.log'),
    [
      recordLine(at(0), 'stdout', '{"id":999}', 2),
      recordLine(at(1), 'stdout', 'exec session 998 started', 2),
      '{"id": 3, "t":"2026-04-30T20:00:00.000Z","s":"stdout","d":"x"}',
      '{"t":"2026-04-30T20:00:01.000Z","s":"stdout","d":"torn","id":4',
    ].join('\n'),
  );
  assert.equal(nextSessionId(logDir), 5);
});

test('an id whose key straddles a read block boundary is found', (t) => {
  const logDir = tempDir(t);
  for (let shift = 0; shift < 40; shift += 3) {
    // Put `"id":77` across the 1 MiB boundary at a different place each time.
    const record = recordLine(at(0), 'stdout', 'z', 77);
    const keyAt = record.indexOf('"id":');
    const padding = 1024 * 1024 - keyAt - shift;
    writeFileSync(
      join(logDir, 'exec.log'),
      `${recordLine(at(0), 'stdout', 'p'.repeat(padding - 60), 1).padEnd(padding - 1, ' ')}\n${record}\n`,
    );
    assert.equal(nextSessionId(logDir), 78, `shift ${shift}`);
  }
});
