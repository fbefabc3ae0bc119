// Random log directories for the differential fuzzer, from a seed: an exec.log rotation chain (one to
// five files, all four sources, text and b64 bodies, unicode, SGR colours, multi-line bodies, bodies
// without a newline, equal timestamps within and across files, time written in every form microsandbox
// accepts, the odd and malformed lines of issue 9), and runtime.log / kernel.log with and without time
// prefixes and a chosen mtime. exec.log records are in time order, as writers make them; text logs are
// not (lines without a prefix take the mtime).
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A small seeded PRNG (mulberry32): the same seed, the same corpus. */
export function prng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const random = {
    next,
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)],
  };
  return random;
}

export const BASE_TIME = Date.parse('2026-04-30T20:00:00.000Z');
const SOURCES = ['stdout', 'stderr', 'output', 'system'];
const WORDS = [
  'alpha',
  'beta',
  'gamma',
  'délta',
  'ε',
  '😀',
  '日本語',
  'tab\there',
  'x',
  'error',
  'warn',
  'ok',
  '"quoted"',
  'back\\slash',
  'end',
];
const SGR = ['\u001b[31m', '\u001b[1;32m', '\u001b[0m', '\u001b[38;5;208m', '\u001b[m'];
// Control characters microsandbox prints and sandlog removes (the terminal-safety difference).
const CONTROLS = ['\u0000', '\u0007', '\u007f', '\r'];

function body(random) {
  const parts = [];
  const count = 1 + random.int(6);
  for (let i = 0; i < count; i++) {
    const roll = random.next();
    if (roll < 0.6) parts.push(random.pick(WORDS));
    else if (roll < 0.75) parts.push(random.pick(SGR));
    else if (roll < 0.85) parts.push('\n');
    else if (roll < 0.9) parts.push(random.pick(CONTROLS));
    else parts.push(' ');
    if (random.chance(0.5)) parts.push(' ');
  }
  // A body without a final newline still holds something printable (see the text comparison).
  let text = `${parts.join('')}w`;
  if (random.chance(0.8)) text += '\n';
  return text;
}

/** `ms` written in one of the forms microsandbox accepts for `t` (every one naming exactly `ms`). */
function timeText(random, ms) {
  const iso = new Date(ms).toISOString();
  const roll = random.next();
  if (roll < 0.6) return iso;
  if (roll < 0.66 && ms % 1000 === 0) return iso.replace('.000Z', 'Z');
  if (roll < 0.72 && ms % 100 === 0) return iso.replace(/\.(\d)00Z$/, '.$1Z');
  if (roll < 0.78) return iso.replace('Z', '000000Z');
  if (roll < 0.84) return iso.replace('T', 't').replace('Z', 'z');
  if (roll < 0.88) return iso.replace('T', ' ');
  // An offset zone: the same instant written in local time.
  const offsetMinutes = random.pick([120, -330, 0, 45, -600]);
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

function sessionId(random) {
  const roll = random.next();
  if (roll < 0.85) return String(1 + random.int(5));
  return random.pick(['0', '9007199254740993', '18446744073709551615', '4294967296']);
}

// A record line the normal way (keys in writer order, body JSON-escaped), or base64.
function recordLine(random, ms, source) {
  const t = timeText(random, ms);
  const id = source === 'system' && random.chance(0.8) ? undefined : sessionId(random);
  const idPart = id === undefined ? '' : `,"id":${id}`;
  const roll = random.next();
  if (roll < 0.12) {
    // Any bytes but ESC and C2 (the lead byte of C1 controls): escape sequences cut at random are
    // stripped by two different parsers, which is not what this compares. It ends printable (see body()).
    const bytes = Buffer.from([
      ...Array.from({ length: random.int(12) }, () => random.int(256)).map((b) =>
        b === 0x1b || b === 0xc2 ? 0x41 : b,
      ),
      0x41,
    ]);
    return `{"t":"${t}","s":"${source}","d":"${bytes.toString('base64')}"${idPart},"e":"b64"}`;
  }
  if (roll < 0.16) return `{"t":"${t}","s":"${source}","d":"not base64!"${idPart},"e":"b64"}`;
  if (roll < 0.22)
    return `{"e":null${idPart},"d":${JSON.stringify(body(random))},"x":[1,{"y":"z"}],"s":"${source}","t":"${t}"}`;
  if (roll < 0.25) return ` { "t" : "${t}" , "s" : "${source}" , "d" : ${JSON.stringify(body(random))} ${idPart} }  `;
  return `{"t":"${t}","s":"${source}","d":${JSON.stringify(body(random))}${idPart}}`;
}

// Lines microsandbox skips, or reads in an unusual way (issue 9's list), at time `ms`.
function oddLine(random, ms) {
  const t = new Date(ms).toISOString();
  return random.pick([
    `{"t":"${t}","s":"stdout","d":"dup","d":"again","id":1}`,
    `{"t":"${t}","s":"stdout","d":"dup id","id":1,"id":2}`,
    `{"t":"${t}","s":"stdout","d":"dup unknown","x":1,"x":2}`,
    `{"t":"${t}","s":"stdout","d":"lone \\ud800 high","id":1}`,
    `{"t":"${t}","s":"stdout","d":"lone \\udc00 low","id":1}`,
    `{"t":"${t}","s":"stdout","d":"pair \\ud83d\\ude00","id":1}`,
    `{"t":"${t}","s":"stdout","d":"nul \\u0000 in body\\n","id":1}`,
    `{"t":"${t}","s":"stdout","d":"float id","id":1.0}`,
    `{"t":"${t}","s":"stdout","d":"negative id","id":-1}`,
    `{"t":"${t}","s":"stdout","d":"string id","id":"1"}`,
    `{"t":"${t}","s":"stdout","d":"null id","id":null}`,
    `{"t":"${t}","s":"stdout","d":"too big","id":18446744073709551616}`,
    `{"t":"${t}","s":"stdout","id":3}`,
    `{"t":"${t}","d":"no source"}`,
    `{"t":"${t}","s":"stdin","d":"unknown source"}`,
    `{"t":"${t}","s":"stdout","d":"unknown e","e":"hex"}`,
    `{"t":"${t}","s":"stdout","d":"trailing comma",}`,
    `{"t":"${t}","s":"stdout","d":"crlf\\n","id":2}\r`,
    '',
    '   ',
    'not json at all',
    `{"t":"${t}","s":"stdout","d":"deep","x":${'['.repeat(3000)}${']'.repeat(3000)}}`,
    `{"t":"2026-02-30T20:00:00.000Z","s":"stdout","d":"impossible date"}`,
    `{"t":"2026-04-30T24:00:00.000Z","s":"stdout","d":"hour 24"}`,
    `{"t":"${t}","s":"stdout","d":"key \\u0074 twice","\\u0074":"${t}"}`,
    '{"t":"', // torn in the middle of a file
  ]);
}

const INVALID_UTF8 = Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x20]);

function textLogLines(random, times) {
  const lines = [];
  for (const ms of times) {
    const roll = random.next();
    const message = body(random).replace(/\n/g, ' ').replace(/\r/g, '');
    if (roll < 0.55) lines.push(Buffer.from(`${new Date(ms).toISOString()} ${message}\n`));
    else if (roll < 0.6) lines.push(Buffer.from(`${new Date(ms).toISOString().replace('Z', '123456Z')}  ${message}\n`));
    else if (roll < 0.75) lines.push(Buffer.from(`no time prefix: ${message}\n`));
    else if (roll < 0.8)
      lines.push(Buffer.from(`${new Date(ms).toISOString().replace('Z', 'z')} lower-case zone ${message}\n`));
    else if (roll < 0.84) lines.push(Buffer.from(`2026-13-45T99:00:00.000Z unparsable token\n`));
    else if (roll < 0.87) lines.push(Buffer.from(`   ${new Date(ms).toISOString()} indented\n`));
    else if (roll < 0.9) lines.push(Buffer.from(`${new Date(ms).toISOString()} crlf line\r\n`));
    else if (roll < 0.93) lines.push(Buffer.from('\n'));
    else if (roll < 0.96) lines.push(Buffer.concat([INVALID_UTF8, Buffer.from(`${message}\n`)]));
    else lines.push(Buffer.from(`\u001b[2m${new Date(ms).toISOString()}\u001b[0m coloured prefix ${message}\n`));
  }
  return Buffer.concat(lines);
}

/**
 * Writes one random corpus into `logDir`. Returns a summary: the time range (for since/until
 * queries) and whether every body ends in a newline (`--timestamps` text is compared only then).
 */
export function writeCorpus(random, logDir) {
  const files = 1 + random.int(5);
  let ms = BASE_TIME + random.int(1000) * 1000;
  const start = ms;
  const execTimes = [];
  for (let f = files - 1; f >= 0; f--) {
    const lines = [];
    const records = random.int(25);
    for (let i = 0; i < records; i++) {
      // Equal timestamps often: within a file, and (below) across files.
      if (!random.chance(0.3)) ms += random.chance(0.5) ? random.int(1000) : 1000 * (1 + random.int(5));
      execTimes.push(ms);
      lines.push(random.chance(0.12) ? oddLine(random, ms) : recordLine(random, ms, random.pick(SOURCES)));
    }
    const name = f === 0 ? 'exec.log' : `exec.log.${f}`;
    writeFileSync(join(logDir, name), lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  }
  const end = ms + 1000;
  for (const name of ['runtime.log', 'kernel.log']) {
    if (!random.chance(0.7)) continue;
    const count = random.int(15);
    const times = Array.from({ length: count }, () =>
      execTimes.length > 0 && random.chance(0.3) ? random.pick(execTimes) : start + random.int(end - start),
    );
    times.sort((a, b) => a - b);
    const mtime = start + random.int(end - start + 2000);
    const path = join(logDir, name);
    writeFileSync(path, textLogLines(random, times));
    // Whole seconds: the binding sees the mtime through the file system as it is stored.
    const seconds = new Date(Math.floor(mtime / 1000) * 1000);
    utimesSync(path, seconds, seconds);
  }
  return { start, end };
}
