/**
 * `sandlog logs`: show a sandbox's logs — microsandbox's `msb logs` flags,
 * plus journalctl-style cursors (`--after-cursor`, `--show-cursor`,
 * `--cursor-file`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OptionsError } from '../../errors.js';
import { BOOT_ERROR_FILE, resolveTarget, type LogTarget } from '../../files/layout.js';
import { sanitizeForTerminal } from '../../format/ansi.js';
import { encodeBootErrorJson } from '../../format/json-line.js';
import { resolveSources } from '../../format/source.js';
import { parseTimeArgument } from '../../format/time.js';
import { streamLogs, type LogStreamHandle } from '../../engine/read.js';
import type { Checkpoint } from '../../format/checkpoint.js';
import { decodeCursor } from '../../format/cursor.js';
import {
  booleanFlag,
  integerFlag,
  listFlag,
  stringFlag,
  UsageError,
  type CommandSpec,
  type CommandContext,
  type ParsedArgs,
  HOME_OPTION,
} from '../args.js';
import { EXIT_OK } from '../exit.js';
import { readCursorFile, writeCursorFile } from '../cursor-file.js';
import { writeOut } from '../output.js';
import { releaseRendered, renderBatch, type RenderOptions } from '../render.js';
import { runManyLogs, wantsManySandboxes } from './logs-many.js';
import { FLEET_OPTIONS } from '../fleet-options.js';

export const logsCommand: CommandSpec = {
  name: 'logs',
  summary: "Show a sandbox's captured output; follow it live; resume after a cursor.",
  usage:
    'logs [options] <name|pattern>...\n       sandlog logs [options] --all\n       sandlog logs [options] --log-dir DIR',
  options: [
    {
      name: 'tail',
      short: 'n',
      type: 'string',
      value: 'N',
      description: 'Show only the last N entries (after --source and --grep)',
    },
    {
      name: 'since',
      type: 'string',
      value: 'TIME',
      description: 'Entries at or after TIME (RFC 3339, or relative: 30s, 5m, 2h, 1d)',
    },
    { name: 'until', type: 'string', value: 'TIME', description: 'Entries strictly before TIME (same forms)' },
    {
      name: 'follow',
      short: 'f',
      type: 'boolean',
      description: 'Keep following new entries, across rotations, until Ctrl-C',
    },
    { name: 'timestamps', short: 't', type: 'boolean', description: "Prefix each line with the entry's timestamp" },
    {
      name: 'source',
      type: 'string',
      multiple: true,
      value: 'S',
      description: 'stdout, stderr, output, system or all; repeat or comma-separate (default: stdout,stderr,output)',
    },
    {
      name: 'grep',
      type: 'string',
      value: 'REGEX',
      description: 'Only entries whose text matches REGEX (JavaScript syntax)',
    },
    { name: 'json', type: 'boolean', description: 'One JSON object per line: t, s, d, id, e, cursor' },
    { name: 'color', type: 'string', value: 'WHEN', description: 'auto (colour on terminals), always, or never' },
    { name: 'no-color', type: 'boolean', description: 'Same as --color never (NO_COLOR in the environment too)' },
    { name: 'show-id', type: 'boolean', description: 'Prefix each line with its exec session id' },
    { name: 'color-sessions', type: 'boolean', description: 'Colour each session distinctly (implies --show-id)' },
    { name: 'after-cursor', type: 'string', value: 'C', description: 'Start strictly after cursor C' },
    {
      name: 'show-cursor',
      type: 'boolean',
      description: 'Print "-- cursor: C" on stderr at exit for the last entry shown',
    },
    {
      name: 'cursor-file',
      type: 'string',
      value: 'F',
      description:
        'Resume after the place stored in F if it exists (a place that left retention fails); store the last place in F',
    },
    { name: 'all', type: 'boolean', description: 'Every sandbox under the home (with -f, also those created later)' },
    {
      name: 'hold-generations',
      type: 'string',
      value: 'N',
      description:
        'While following, keep up to N exec.log files past retention open for a reader that fell behind (default 4)',
    },
    HOME_OPTION,
    { name: 'log-dir', type: 'string', value: 'DIR', description: 'Read this log directory directly (no name needed)' },
    ...FLEET_OPTIONS,
  ],
  details: [
    'Examples:',
    '  sandlog logs web-1 --tail 100 -f --timestamps',
    '  sandlog logs web-1 --source all --since 10m --json',
    '  sandlog logs web-1 -f --cursor-file /tmp/web-1.cursor',
    "  sandlog logs 'web-*' -f --tail 10          # several sandboxes: merged, each line prefixed",
    '  sandlog logs --all -f --cursor-file /tmp/all.cursors',
    '  sandlog logs --nats nats://127.0.0.1:4222 host-a/web-1 -f   (host/* and */name merge)',
    '',
    'Several names, a shell-style pattern (* ? [..]) or --all read many sandboxes at once: entries',
    'merged by time, each filter (--tail too) applied per sandbox, "+ name" / "- name" on stderr',
    'when a followed pattern picks up or loses a sandbox; --cursor-file then holds one cursor per',
    'sandbox (a JSON object), and --after-cursor takes the multi-cursor of a --json line.',
    '',
    'Exit status: 0 success (also Ctrl-C while following), 1 runtime error, 2 usage error.',
  ].join('\n'),
  run: runLogs,
};

function resolveColor(args: ParsedArgs, context: CommandContext): boolean {
  const mode = stringFlag(args, 'color');
  if (mode !== undefined && !['auto', 'always', 'never'].includes(mode)) {
    throw new UsageError(`Expected --color to be auto, always or never, got ${JSON.stringify(mode)}`);
  }
  if (booleanFlag(args, 'no-color')) {
    if (mode !== undefined && mode !== 'never') throw new UsageError(`--no-color conflicts with --color ${mode}`);
    return false;
  }
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  const noColor = context.env['NO_COLOR'];
  if (noColor !== undefined && noColor !== '') return false;
  return context.stdout.isTTY === true;
}

function resolveTime(args: ParsedArgs, name: string): Date | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  try {
    return parseTimeArgument(raw);
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as OptionsError).message}`);
  }
}

async function showBootError(
  logDir: string,
  name: string | undefined,
  json: boolean,
  context: CommandContext,
): Promise<void> {
  let record: unknown;
  try {
    record = JSON.parse(readFileSync(join(logDir, BOOT_ERROR_FILE), 'utf8'));
  } catch {
    return; // absent or unreadable: nothing to show, as microsandbox does
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return;
  const fields = record as Record<string, unknown>;
  if (json) {
    await writeOut(context.stdout, `${encodeBootErrorJson(fields)}\n`);
    return;
  }
  const text = (value: unknown): string => sanitizeForTerminal(String(value ?? ''), false).replace(/\n/g, ' ');
  const label = name === undefined ? logDir : name;
  context.stderr.write(
    `error: failed to start ${JSON.stringify(text(label))}\n` +
      `  → ${text(fields['stage'] ?? 'other')}: ${text(fields['message'])}\n` +
      `  → run \`sandlog logs --source system ${text(label)}\` for full diagnostics\n\n`,
  );
}

function renderOptions(args: ParsedArgs, context: CommandContext): RenderOptions {
  const json = booleanFlag(args, 'json');
  return {
    json,
    color: !json && resolveColor(args, context),
    timestamps: booleanFlag(args, 'timestamps'),
    showId: booleanFlag(args, 'show-id'),
    colorSessions: booleanFlag(args, 'color-sessions'),
  };
}

async function runLogs(args: ParsedArgs, context: CommandContext): Promise<number> {
  const logDirFlag = stringFlag(args, 'log-dir');
  const home = stringFlag(args, 'home') ?? undefined;
  // Names under --nats are `host/name` patterns of the fleet, read from the stream rather than a home.
  if (stringFlag(args, 'nats') !== undefined)
    return (await import('./fleet.js')).runFleetLogs(args, context, renderOptions(args, context));
  if (wantsManySandboxes(args)) return runManyLogs(args, context, { resolveColor, resolveTime });
  const name = args.positionals[0];
  if (name === undefined && logDirFlag === undefined)
    throw new UsageError('Expected a sandbox name (or --log-dir DIR)');
  if (name !== undefined && logDirFlag !== undefined)
    throw new UsageError('Give either a sandbox name or --log-dir, not both');
  const target: LogTarget =
    logDirFlag !== undefined ? { logDir: logDirFlag } : { name: name!, ...(home === undefined ? {} : { home }) };

  const tail = integerFlag(args, 'tail');
  const holdGenerations = integerFlag(args, 'hold-generations');
  const since = resolveTime(args, 'since');
  const until = resolveTime(args, 'until');
  const sources = resolveSources(listFlag(args, 'source'));
  const grep = stringFlag(args, 'grep');
  const json = booleanFlag(args, 'json');
  const render = renderOptions(args, context);
  const cursorFile = stringFlag(args, 'cursor-file');
  let afterCursor = stringFlag(args, 'after-cursor');
  if (afterCursor !== undefined && since !== undefined) throw new UsageError('--after-cursor conflicts with --since');
  if (afterCursor !== undefined && tail !== undefined) throw new UsageError('--after-cursor conflicts with --tail');
  // A stored cursor wins over --tail and --since, which only shape the first run (as with journalctl).
  let start: { since?: Date; tail?: number } = {
    ...(since === undefined ? {} : { since }),
    ...(tail === undefined ? {} : { tail }),
  };
  let afterCheckpoint: Checkpoint | undefined;
  if (cursorFile !== undefined) {
    const stored = readCursorFile(cursorFile);
    if (stored !== undefined) {
      const storedCursor = 'cursor' in stored ? stored.cursor : stored.checkpoint.cursor;
      if (afterCursor !== undefined && afterCursor !== storedCursor)
        throw new UsageError('--after-cursor conflicts with the cursor stored in --cursor-file');
      if ('cursor' in stored) {
        afterCursor = stored.cursor;
      } else {
        afterCursor = undefined;
        afterCheckpoint = stored.checkpoint;
      }
      start = {};
    }
  }
  const resumed = afterCursor !== undefined || afterCheckpoint !== undefined;

  const located = await resolveTarget(target, home);
  const stream = streamLogs(target, {
    sources,
    ...start,
    ...(until === undefined ? {} : { until }),
    ...(grep === undefined ? {} : { grep }),
    ...(afterCursor === undefined ? {} : { afterCursor }),
    ...(afterCheckpoint === undefined ? {} : { afterCheckpoint }),
    follow: booleanFlag(args, 'follow'),
    ...(holdGenerations === undefined ? {} : { holdGenerations }),
    signal: context.signal,
    onWarning: (warning) => {
      // Malformed records are summed up once at the end rather than one line each.
      if (warning.code !== 'MALFORMED_RECORD') context.stderr.write(`sandlog: warning: ${warning.message}\n`);
    },
  });

  let lastCursor: string | undefined;
  let lastCheckpoint: Checkpoint | undefined;
  const finish = async (): Promise<void> => {
    const cursor = lastCursor ?? (resumed ? undefined : stream.cursor);
    if (cursorFile !== undefined && cursor !== undefined) {
      writeCursorFile(
        cursorFile,
        lastCheckpoint?.cursor === cursor ? lastCheckpoint : await checkpointOf(stream, cursor),
      );
    }
    if (booleanFlag(args, 'show-cursor') && cursor !== undefined) context.stderr.write(`-- cursor: ${cursor}\n`);
    if (stream.malformed > 0) context.stderr.write(`sandlog: skipped ${stream.malformed} malformed record(s)\n`);
  };
  try {
    await showBootError(located.logDir, located.name, json, context);
    for await (const batch of stream.batches()) {
      const cursor = batch[batch.length - 1]!.cursor;
      // Taken before writing out, while the files the batch came from are as the stream read them.
      const checkpoint = cursorFile === undefined ? undefined : await checkpointOf(stream, cursor);
      await writeOut(context.stdout, renderBatch(batch, render), releaseRendered);
      lastCursor = cursor;
      lastCheckpoint = checkpoint;
      if (cursorFile !== undefined) writeCursorFile(cursorFile, checkpoint!);
    }
  } catch (error) {
    await finish();
    throw error;
  }
  await finish();
  return EXIT_OK;
}

/**
 * The checkpoint of `cursor`. When the files cannot be read any more (the log directory went away), its
 * digests are null, which a resume takes as "already lost": it fails rather than resume unchecked.
 */
async function checkpointOf(stream: LogStreamHandle, cursor: string): Promise<Checkpoint> {
  try {
    return await stream.checkpoint(cursor);
  } catch {
    return { cursor, digests: decodeCursor(cursor).map(() => null) };
  }
}
