// The differential check: one log directory read by microsandbox (msb logs, the binding's logs() and
// logStream()) and by sandlog (library and CLI), every difference listed. A difference is a string
// naming the query and the first entry that differs.
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLogsSnapshot, streamLogs } from '../../dist/index.js';
import { bindingQueries, logDirOf, msbLogs, parseJsonLines } from './oracle.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli.cjs');

/** One query, in the three spellings: msb's flags, the binding's options, sandlog's options. */
export function query({ sources, tail, since, until, grep }) {
  const args = [];
  const binding = {};
  const sandlog = {};
  if (sources !== undefined) {
    args.push('--source', sources.join(','));
    binding.sources = sources;
    sandlog.sources = sources;
  }
  // sandlog counts --tail after --grep; msb applies --grep to the last N (a documented difference):
  // with both, msb is asked without --tail and its last N kept.
  let keepLast;
  if (tail !== undefined) {
    if (grep === undefined) args.push('--tail', String(tail));
    else keepLast = tail;
    binding.tail = tail;
    sandlog.tail = tail;
  }
  if (since !== undefined) {
    args.push('--since', new Date(since).toISOString());
    binding.sinceMs = since;
    sandlog.since = since;
  }
  if (until !== undefined) {
    args.push('--until', new Date(until).toISOString());
    binding.untilMs = until;
    sandlog.until = until;
  }
  if (grep !== undefined) {
    args.push('--grep', grep);
    sandlog.grep = grep;
  }
  const label = `${args.join(' ') || '(defaults)'}${keepLast === undefined ? '' : ` (last ${keepLast})`}`;
  return { label, args, keepLast, binding, sandlog, grep: grep !== undefined };
}

function sandlogCli(logDir, args) {
  return execFileSync(process.execPath, [CLI, 'logs', '--log-dir', logDir, ...args], {
    maxBuffer: 1 << 28,
    env: { ...process.env, NO_COLOR: '' },
  });
}

function show(value) {
  const text = JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

// The first index where two lists differ under `same`, or -1.
function firstDifference(a, b, same) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i >= a.length || i >= b.length || !same(a[i], b[i])) return i;
  }
  return -1;
}

function listDifference(label, theirs, ours, same, differences) {
  const i = firstDifference(theirs, ours, same);
  if (i >= 0) {
    differences.push(
      `${label}: ${theirs.length} vs ${ours.length} entries; first difference at #${i}:\n  microsandbox ${show(theirs[i])}\n  sandlog      ${show(ours[i])}`,
    );
  }
}

const sameJson = (a, b) => a.t === b.t && a.s === b.s && a.d === b.d && a.id === b.id && a.e === b.e;

/**
 * `msb logs --color never` output with the documented differences applied (README, "Differences from
 * `msb logs`"): control characters other than newline and tab are removed (terminal safety), and with
 * `--timestamps` a body without a final newline is ended before the next entry's timestamp (and a
 * line left empty by the first rule has no prefix).
 */
export function asSandlogShowsIt(output, timestamps) {
  let text = output.toString('utf8').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
  if (timestamps) {
    text = text.replace(/(?<=[^\n])(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t)/g, '\n$1');
    // A continuation line that held only control characters is empty once sanitised: it has no prefix.
    text = text.replace(/^ {24}\t$/gm, '');
    if (text !== '' && !text.endsWith('\n')) text += '\n';
  }
  return text;
}

/**
 * Compares `msb logs --json` with `sandlog logs --json` (every query), and the binding's `logs()`
 * with sandlog's `readLogsSnapshot` (entries and cursors; queries without grep, which the binding
 * lacks), then resumes both engines from a sample of the cursors. `cli` picks the queries whose
 * sandlog CLI output is compared (each costs a process). Returns the differences.
 */
export async function compareSnapshots(home, name, queries, { cli = () => true, text = [] } = {}) {
  const logDir = logDirOf(home, name);
  const differences = [];
  const bindingSide = queries.filter((q) => !q.grep);
  const results = await bindingQueries(
    home,
    name,
    bindingSide.map((q) => ({ kind: 'logs', options: q.binding })),
  );
  for (const [i, q] of queries.entries()) {
    let theirs = parseJsonLines(msbLogs(home, name, ['--json', ...q.args]));
    if (q.keepLast !== undefined) theirs = q.keepLast === 0 ? [] : theirs.slice(-q.keepLast);
    const snapshot = await readLogsSnapshot(logDir, q.sandlog);
    const ours = snapshot.entries.map((entry) => parseJsonLines(Buffer.from(entry.toJsonLine()))[0]);
    listDifference(`msb --json ${q.label} vs readLogs`, theirs, ours, sameJson, differences);
    if (cli(q, i)) {
      listDifference(
        `msb --json ${q.label} vs sandlog --json`,
        theirs,
        parseJsonLines(sandlogCli(logDir, ['--json', ...q.args])),
        sameJson,
        differences,
      );
    }
    if (q.grep) continue;
    const bound = results[bindingSide.indexOf(q)];
    if (bound.error !== undefined) {
      differences.push(`binding logs() ${q.label} failed: ${bound.error}`);
      continue;
    }
    const bindingEntries = bound.entries.map((e) => ({
      ms: e.timestampMs,
      s: e.source,
      d: e.data,
      id: e.sessionId === null ? null : Number(e.sessionId),
      cursor: e.cursor,
    }));
    const oursBinding = snapshot.entries.map((e) => ({
      ms: e.timestamp.getTime(),
      s: e.source,
      d: Buffer.from(e.data).toString('base64'),
      id: e.sessionId === null ? null : Number(e.sessionId),
      cursor: e.cursor,
    }));
    listDifference(
      `binding logs() ${q.label} vs readLogs`,
      bindingEntries,
      oursBinding,
      (a, b) => a.ms === b.ms && a.s === b.s && a.d === b.d && a.id === b.id && a.cursor === b.cursor,
      differences,
    );
  }
  for (const args of text) {
    const theirs = asSandlogShowsIt(msbLogs(home, name, ['--color', 'never', ...args]), args.includes('--timestamps'));
    const ours = sandlogCli(logDir, ['--color', 'never', ...args]).toString('utf8');
    if (theirs !== ours) {
      const a = theirs.split('\n');
      const b = ours.split('\n');
      const i = firstDifference(a, b, (x, y) => x === y);
      differences.push(
        `text ${args.join(' ')}: line ${i + 1}\n  microsandbox ${show(a[i])}\n  sandlog      ${show(b[i])}`,
      );
    }
  }
  return differences;
}

/**
 * Resumes both engines from each of `cursors` (with `sources`) and compares what follows: the
 * binding's logStream({ fromCursor }) against sandlog's streamLogs({ afterCursor }), as sets of
 * entries (a live stream's order across files is the documented difference), and the binding's
 * error against sandlog's.
 */
export async function compareResumes(home, name, sources, cursors) {
  const logDir = logDirOf(home, name);
  const differences = [];
  const results = await bindingQueries(
    home,
    name,
    cursors.map((cursor) => ({ kind: 'stream', options: { sources, fromCursor: cursor, follow: false } })),
  );
  for (const [i, cursor] of cursors.entries()) {
    const ours = [];
    let error;
    try {
      for await (const entry of streamLogs(logDir, { sources, afterCursor: cursor }))
        ours.push(`${entry.timestamp.getTime()} ${entry.source} ${Buffer.from(entry.data).toString('base64')}`);
    } catch (caught) {
      error = caught;
    }
    const theirs = results[i];
    if ((theirs.error !== undefined) !== (error !== undefined)) {
      differences.push(`resume ${cursor}: microsandbox ${theirs.error ?? 'ok'}, sandlog ${error?.message ?? 'ok'}`);
      continue;
    }
    if (error !== undefined) continue;
    const theirList = theirs.entries.map((e) => `${e.timestampMs} ${e.source} ${e.data}`).sort();
    listDifference(
      `resume after ${cursor} (${sources.join(',')})`,
      theirList,
      ours.sort(),
      (a, b) => a === b,
      differences,
    );
  }
  return differences;
}
