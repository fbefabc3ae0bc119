// The benchmark data set: a realistic exec.log chain (exec.log.4 … exec.log,
// each filled to the rotation size, as a busy sandbox leaves it) and a
// runtime.log, generated deterministically and cached under bench/.data/.
//
// Records are what a capture of real programs looks like: mixed sources
// (stdout, stderr, pty output, system markers), chunk bodies of 20–400 bytes
// with log lines, ANSI colour, some unicode, embedded newlines and partial
// lines, a few non-UTF-8 chunks stored as base64; timestamps advance 0–9 ms
// per record. runtime.log interleaves with the chain in time.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR, MIB, TINY } from './common.js';

const VERSION = 3;

/** Mulberry32: a small deterministic PRNG, so every run reads the same bytes. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'request',
  'handled',
  'user',
  'cache',
  'miss',
  'hit',
  'worker',
  'queue',
  'job',
  'done',
  'retry',
  'connection',
  'timeout',
  'ok',
  'GET',
  'POST',
  '/api/v1/items',
  'compiled',
  'module',
  'warning',
  'deprecated',
  'listening',
  'port',
  '8080',
  'batch',
  'flushed',
  'bytes',
  'elapsed',
];
const UNICODE = [
  'café',
  'naïve',
  'über',
  '日本語のログ',
  'Ω≈ç√',
  '✓ passed',
  '✗ failed',
  '→',
  '🚀 deployed',
  'émoji 🎉',
  'Привет',
  'ελληνικά',
];
const ANSI = ['\u001b[32m', '\u001b[31m', '\u001b[33m', '\u001b[1m', '\u001b[36m', '\u001b[2m'];
const LEVELS = ['INFO', 'DEBUG', 'WARN', 'ERROR', 'TRACE'];
const SYSTEM = [
  'sandbox started\n',
  'exec session started\n',
  'exec session exited with code 0\n',
  'memory pressure: reclaiming\n',
  'network attached\n',
];

function logLine(random, time) {
  let words = '';
  const count = 2 + Math.floor(random() * 10);
  for (let i = 0; i < count; i++) words += `${i === 0 ? '' : ' '}${WORDS[Math.floor(random() * WORDS.length)]}`;
  const roll = random();
  if (roll < 0.12) words += ` ${UNICODE[Math.floor(random() * UNICODE.length)]}`;
  const level = LEVELS[Math.floor(random() * LEVELS.length)];
  if (roll > 0.8) return `${ANSI[Math.floor(random() * ANSI.length)]}${level}\u001b[0m ${words}`;
  if (roll > 0.6) return `${time} ${level} ${words} id=${Math.floor(random() * 1e6)}`;
  return `[${level}] ${words}`;
}

/** One chunk body of about `target` characters: whole lines, sometimes ending mid-line. */
function body(random, target, time) {
  let text = '';
  while (text.length < target) text += `${logLine(random, time)}\n`;
  if (text.length > target + 40 && random() < 0.3) text = text.slice(0, target); // a partial line
  return text.length > 400 ? text.slice(0, 400) : text;
}

/** Generates the chain into `logDir`; returns a summary. */
export function generateChain(logDir, { fileBytes, files = 5, runtimeBytes, seed = 7 }) {
  mkdirSync(logDir, { recursive: true });
  const random = rng(seed);
  const startMs = Date.UTC(2026, 3, 30, 20, 0, 0);
  let time = startMs;
  let records = 0;
  const counts = { stdout: 0, stderr: 0, output: 0, system: 0 };
  const fileTimes = [];
  for (let f = files - 1; f >= 0; f--) {
    const parts = [];
    let size = 0;
    const first = time;
    for (;;) {
      time += Math.floor(random() * 10);
      const t = new Date(time).toISOString();
      const roll = random();
      const source = roll < 0.55 ? 'stdout' : roll < 0.8 ? 'stderr' : roll < 0.95 ? 'output' : 'system';
      let line;
      if (source === 'system') {
        line = `{"t":"${t}","s":"system","d":${JSON.stringify(SYSTEM[Math.floor(random() * SYSTEM.length)])}}\n`;
      } else {
        const id = 1 + Math.floor(random() * 8);
        if (random() < 0.01) {
          const bytes = Buffer.alloc(20 + Math.floor(random() * 200));
          for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
          bytes[0] = 0xff; // never valid UTF-8
          line = `{"t":"${t}","s":"${source}","d":"${bytes.toString('base64')}","id":${id},"e":"b64"}\n`;
        } else {
          const target = 20 + Math.floor(random() * random() * 380);
          line = `{"t":"${t}","s":"${source}","d":${JSON.stringify(body(random, target, t))},"id":${id}}\n`;
        }
      }
      const bytes = Buffer.byteLength(line);
      if (size + bytes > fileBytes) {
        time -= 1;
        break;
      }
      parts.push(line);
      size += bytes;
      records += 1;
      counts[source] += 1;
    }
    const name = f === 0 ? 'exec.log' : `exec.log.${f}`;
    writeFileSync(join(logDir, name), parts.join(''));
    fileTimes.push({ name, first: new Date(first).toISOString(), last: new Date(time).toISOString(), bytes: size });
  }
  // runtime.log: microsecond timestamps spread over the same span, some ANSI, some lines without a timestamp.
  const lines = [];
  let size = 0;
  const span = time - startMs;
  const perLine = span / (runtimeBytes / 90);
  let runtimeTime = startMs;
  while (size < runtimeBytes) {
    runtimeTime += perLine * (0.5 + random());
    const micros = String(Math.floor(random() * 1000)).padStart(3, '0');
    const iso = new Date(Math.min(runtimeTime, time)).toISOString().replace('Z', `${micros}Z`);
    const line =
      random() < 0.02
        ? `  continuation of a backtrace line ${Math.floor(random() * 100)}\n`
        : `${iso}  ${random() < 0.2 ? '\u001b[32mINFO\u001b[0m' : 'INFO'} msb::vm: ${logLine(random, iso)}\n`;
    lines.push(line);
    size += Buffer.byteLength(line);
  }
  writeFileSync(join(logDir, 'runtime.log'), lines.join(''));
  return {
    records,
    counts,
    files: fileTimes,
    endTime: new Date(time).toISOString(),
    startTime: new Date(startMs).toISOString(),
  };
}

/**
 * The shared read-only data set for this size, generated once: `{ home, name,
 * logDir, chainBytes, summary }`. Scenarios must not write into it.
 */
export function dataset() {
  const size = TINY ? 'tiny' : 'full';
  const home = join(DATA_DIR, `chain-${size}`);
  const name = 'bench';
  const logDir = join(home, 'sandboxes', name, 'logs');
  const marker = join(home, `done-v${VERSION}.json`);
  if (!existsSync(marker)) {
    // Built aside and renamed into place: scenarios running side by side may all get here.
    const building = `${home}.${process.pid}.tmp`;
    const summary = generateChain(
      join(building, 'sandboxes', name, 'logs'),
      TINY ? { fileBytes: 64 * 1024, runtimeBytes: 16 * 1024 } : { fileBytes: 10 * MIB, runtimeBytes: 2 * MIB },
    );
    writeFileSync(join(building, `done-v${VERSION}.json`), JSON.stringify(summary));
    try {
      renameSync(building, home);
    } catch {
      if (existsSync(marker)) {
        rmSync(building, { recursive: true, force: true }); // another process finished first
      } else {
        rmSync(home, { recursive: true, force: true }); // data of an older generator
        renameSync(building, home);
      }
    }
  }
  const summary = JSON.parse(readFileSync(marker, 'utf8'));
  const execFiles = ['exec.log.4', 'exec.log.3', 'exec.log.2', 'exec.log.1', 'exec.log'].map((file) =>
    join(logDir, file),
  );
  const chainBytes = execFiles.reduce((sum, file) => sum + statSync(file).size, 0);
  const runtimeBytes = statSync(join(logDir, 'runtime.log')).size;
  return { home, name, logDir, execFiles, chainBytes, runtimeBytes, summary };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const data = dataset();
  process.stdout.write(
    `${JSON.stringify({ logDir: data.logDir, chainBytes: data.chainBytes, runtimeBytes: data.runtimeBytes, ...data.summary }, null, 2)}\n`,
  );
}
