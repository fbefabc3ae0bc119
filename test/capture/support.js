// Shared by the capture tests: fixture paths, reading a log directory's exec.log chain as records,
// and the output of one session.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

/** Path of a child-process script in test/fixtures. */
export function fixture(name) {
  return join(ROOT, 'test', 'fixtures', name);
}

/** The chain's files, oldest first (exec.log.N … exec.log.1, exec.log). */
export function chainFiles(logDir) {
  const rotated = readdirSync(logDir)
    .filter((name) => /^exec\.log\.[1-9][0-9]*$/.test(name))
    .map((name) => Number(name.slice('exec.log.'.length)))
    .sort((a, b) => b - a)
    .map((index) => join(logDir, `exec.log.${index}`));
  const live = join(logDir, 'exec.log');
  return existsSync(live) ? [...rotated, live] : rotated;
}

/** Every record of the chain, oldest first; fails on a line that is not a whole JSON record. */
export function readRecords(logDir) {
  const records = [];
  for (const path of chainFiles(logDir)) {
    const text = readFileSync(path, 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) throw new Error(`${path} ends with a torn line`);
    for (const line of text.split('\n')) {
      if (line === '') continue;
      records.push(JSON.parse(line));
    }
  }
  return records;
}

/** The bytes a record carries. */
export function recordBytes(record) {
  return record.e === 'b64' ? Buffer.from(record.d, 'base64') : Buffer.from(record.d, 'utf8');
}

/** The bytes of one source of one session, joined in log order. */
export function sessionBytes(records, source, sessionId) {
  return Buffer.concat(records.filter((r) => r.s === source && r.id === sessionId).map(recordBytes));
}

/** The `system` record bodies. */
export function systemTexts(records) {
  return records.filter((r) => r.s === 'system').map((r) => r.d);
}
