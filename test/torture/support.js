// Shared by the torture suite: the TORTURE_SCALE multiplier, fast-check
// parameters that print and replay failing seeds, and small helpers for
// reading what an ExecLogWriter really put on disk.
import fc from 'fast-check';

/** Iteration multiplier for soak runs by hand: `TORTURE_SCALE=20 npm test`. */
export const SCALE = (() => {
  const raw = process.env.TORTURE_SCALE;
  if (raw === undefined || raw === '') return 1;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`TORTURE_SCALE must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
})();

/** `base` iterations times the scale (at least 1). */
export function scaled(base) {
  return Math.max(1, Math.round(base * SCALE));
}

/**
 * fast-check parameters for one property. A failure prints the seed and the
 * path; `TORTURE_SEED=<seed> [TORTURE_PATH=<path>]` replays it (the path
 * replays the shrunk counterexample directly).
 */
export function checkParameters(name, numRuns) {
  const seedText = process.env.TORTURE_SEED;
  const seed =
    seedText === undefined || seedText === '' ? (Date.now() ^ (Math.random() * 0x100000000)) | 0 : Number(seedText);
  const path = process.env.TORTURE_PATH;
  return {
    seed,
    ...(path === undefined || path === '' ? {} : { path }),
    numRuns: path === undefined || path === '' ? numRuns : 1,
    // TORTURE_NO_SHRINK=1 reports the first failure as found (faster while investigating).
    endOnFailure: process.env.TORTURE_NO_SHRINK === '1',
    // Shrinking replays whole file-system scenarios: bound it so a failure is reported in reasonable time.
    interruptAfterTimeLimit: 240_000,
    markInterruptAsFailure: false,
    reporter(details) {
      if (!details.failed) return;
      const replay = `TORTURE_SEED=${details.seed} TORTURE_PATH=${JSON.stringify(details.counterexamplePath ?? '')}`;
      process.stderr.write(`\n[torture] property "${name}" failed; replay with: ${replay} node --test <this file>\n`);
      const cause =
        details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      throw new Error(`${fc.defaultReportMessage(details)}\nGot: ${cause}\n[torture] replay: ${replay}`, {
        cause: details.errorInstance,
      });
    },
  };
}

/** Deterministic pseudo-random generator (mulberry32) for the process-level tests, seeded and printable. */
export function randomSource(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int(min, max) {
      return min + Math.floor(next() * (max - min + 1));
    },
    pick(list) {
      return list[Math.floor(next() * list.length)];
    },
  };
}

/** A seed for a process-level test: TORTURE_SEED when replaying, else a fresh one (printed by the caller). */
export function processSeed() {
  const text = process.env.TORTURE_SEED;
  return text === undefined || text === '' ? (Math.random() * 0x100000000) >>> 0 : Number(text) >>> 0;
}
