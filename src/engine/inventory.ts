/**
 * The sandboxes under a home, with what their logs hold: size on disk, the
 * time of the last entry, and an estimate of the entry count (from the
 * average record size near the end, so listing stays cheap on full logs).
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RotationChain } from '../files/chain.js';
import { LOG_FILES, isWithin, sandboxesDir } from '../files/layout.js';
import { openLogFile } from '../files/log-file.js';
import { sandboxNameProblem } from '../format/name.js';
import { lastEntryTime, linesBackward } from './backward.js';
import { endOfWholeLines } from './line-reader.js';

/** One sandbox and its logs. */
export interface SandboxSummary {
  readonly name: string;
  readonly logDir: string;
  /** Bytes of all log files (rotated ones included). */
  readonly bytes: number;
  /** Log files present. */
  readonly files: number;
  /** Time of the newest entry, or null when the logs are empty. */
  readonly lastEntry: Date | null;
  /** Approximate number of entries across all files. */
  readonly entriesEstimate: number;
}

const SAMPLE_LINES = 64;

async function summarize(name: string, logDir: string): Promise<SandboxSummary> {
  let bytes = 0;
  let files = 0;
  let lastEntry: number | undefined;
  let entriesEstimate = 0;
  for (const spec of LOG_FILES) {
    const chain = new RotationChain(logDir, spec.fileName);
    const members = spec.rotates ? await chain.scan() : [{ index: 0, generation: 0n }];
    let sampledLineBytes = 0;
    let sampledLines = 0;
    let specBytes = 0;
    for (const member of members) {
      const file = await openLogFile(chain.path(member.index)).catch(() => undefined);
      if (file === undefined) continue;
      try {
        const size = Number((await file.handle.stat({ bigint: true })).size);
        files += 1;
        specBytes += size;
        if (size === 0) continue;
        const end = await endOfWholeLines(file, size);
        if (lastEntry === undefined || sampledLines === 0) {
          const time = await lastEntryTime(file, end, spec.format);
          if (time !== undefined && (lastEntry === undefined || time > lastEntry)) lastEntry = time;
        }
        if (sampledLines < SAMPLE_LINES) {
          for await (const line of linesBackward(file, end)) {
            sampledLineBytes += line.endOffset - line.startOffset;
            sampledLines += 1;
            if (sampledLines >= SAMPLE_LINES) break;
          }
        }
      } finally {
        await file.handle.close().catch(() => undefined);
      }
    }
    bytes += specBytes;
    if (sampledLines > 0) entriesEstimate += Math.round(specBytes / (sampledLineBytes / sampledLines));
  }
  return {
    name,
    logDir,
    bytes,
    files,
    lastEntry: lastEntry === undefined ? null : new Date(Math.floor(lastEntry)),
    entriesEstimate,
  };
}

/** The sandboxes under `home` (directories with a valid name), sorted by name. */
export async function listSandboxes(home: string): Promise<SandboxSummary[]> {
  let names: string[];
  try {
    names = await readdir(sandboxesDir(home));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const summaries: SandboxSummary[] = [];
  const realHome = await realpath(home).catch(() => home);
  for (const name of names.sort()) {
    if (sandboxNameProblem(name) !== undefined) continue;
    const sandboxDir = join(sandboxesDir(home), name);
    const info = await stat(sandboxDir).catch(() => undefined);
    if (info === undefined || !info.isDirectory()) continue;
    // As `logs` does, leave out a sandbox whose logs lead outside the home through a link: not ours to read.
    const realLogDir = await realpath(join(sandboxDir, 'logs')).catch(() => undefined);
    if (realLogDir !== undefined && !isWithin(realHome, realLogDir)) continue;
    summaries.push(await summarize(name, join(sandboxDir, 'logs')));
  }
  return summaries;
}
