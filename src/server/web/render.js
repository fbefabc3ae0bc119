// One log entry as one row: time, source, session, sandbox name (in a merged
// view), the text with its colours and grep matches, a level colour when the
// line carries one (ERROR, WARN, INFO, DEBUG…), and a link that opens the
// view at this entry. Text goes in through ./ansi.js, never as markup.

import { appendLogText, matchRanges, plainText } from './ansi.js';

const SOURCES = new Set(['stdout', 'stderr', 'output', 'system']);
const LEVELS = [
  [
    /\b(?:FATAL|PANIC|CRIT(?:ICAL)?|ERROR|ERR)\b|\blevel[=:]"?(?:fatal|error|err|critical)\b|"level":"(?:fatal|error)"/i,
    'error',
  ],
  [/\bWARN(?:ING)?\b|\blevel[=:]"?warn(?:ing)?\b|"level":"warn(?:ing)?"/i, 'warn'],
  [/\bINFO\b|\blevel[=:]"?info\b|"level":"info"/i, 'info'],
  [/\b(?:DEBUG|TRACE)\b|\blevel[=:]"?(?:debug|trace)\b|"level":"(?:debug|trace)"/i, 'debug'],
];
// A level word is looked for near the start only: a long line that mentions "error" deep inside is not an error line.
const LEVEL_PREFIX_CHARS = 160;

/** The entry's text, decoded, without its line ending. */
export function bodyText(entry) {
  if (entry.body !== undefined) return entry.body;
  let text = entry.d;
  if (entry.e === 'b64') {
    const binary = atob(entry.d);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    text = new TextDecoder('utf-8').decode(bytes);
  }
  text = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
  // Kept on the entry: rows are built again as the window moves.
  Object.defineProperty(entry, 'body', { value: text, enumerable: false });
  return text;
}

/** The level a line carries ('error', 'warn', 'info', 'debug') or ''. */
export function levelOf(text) {
  const head = text.length > LEVEL_PREFIX_CHARS ? text.slice(0, LEVEL_PREFIX_CHARS) : text;
  for (const [pattern, level] of LEVELS) if (pattern.test(head)) return level;
  return '';
}

/** Matches of the grep in the entry's shown text (counted once per entry and pattern). */
export function matchCount(entry, pattern) {
  if (pattern === null) return 0;
  if (entry.matchesFor !== pattern) {
    Object.defineProperty(entry, 'matchesFor', { value: pattern, writable: true, enumerable: false });
    Object.defineProperty(entry, 'matches', {
      value: matchRanges(pattern, plainText(bodyText(entry))).length,
      writable: true,
      enumerable: false,
    });
  }
  return entry.matches;
}

/** A stable colour slot (0–7) for a sandbox name. */
export function nameColour(name) {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) >>> 0;
  return hash % 8;
}

/**
 * Builds the row of one entry. `options`: { merged, pattern (global RegExp or
 * null), linkFor(entry) → address of the view at this entry }.
 */
export function renderRow(entry, options) {
  const row = document.createElement('div');
  const source = SOURCES.has(entry.s) ? entry.s : 'system';
  const session = Number.isInteger(entry.id) ? entry.id : null;
  const text = bodyText(entry);
  const level = levelOf(text);
  let className = `row src-${source}`;
  if (session !== null) className += ` session-${session % 8}`;
  if (level !== '') className += ` level-${level}`;
  row.className = className;
  const link = document.createElement('a');
  link.className = 'link';
  link.href = options.linkFor(entry);
  link.title = 'Copy a link to this entry';
  link.textContent = '¶';
  const time = document.createElement('span');
  time.className = 'time';
  time.textContent = String(entry.t);
  row.append(link, time);
  if (options.merged) {
    const name = document.createElement('span');
    name.className = `sbx sbx-${nameColour(String(entry.sandbox ?? ''))}`;
    name.textContent = String(entry.sandbox ?? '');
    row.append(name);
  }
  const label = document.createElement('span');
  label.className = 'src';
  label.textContent = source;
  const id = document.createElement('span');
  id.className = 'sid';
  id.textContent = session === null ? '' : `#${session}`;
  const body = document.createElement('span');
  body.className = 'body';
  appendLogText(body, text, options.pattern);
  row.append(label, id, body);
  return row;
}
