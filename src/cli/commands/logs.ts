/**
 * `sandlog logs`: show a sandbox's logs — microsandbox's `msb logs` flags,
 * plus journalctl-style cursors (`--after-cursor`, `--show-cursor`,
 * `--cursor-file`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OptionsError } from '../../errors.js';
import { BOOT_ERROR_FILE, resolveTarget, type LogTarget } from '../../files/layout.js';
import { sanitizeForTerminal } from '../../format/ansi.js';
import { encodeBootErrorJson } from '../../format/record.js';
import { resolveSources } from '../../format/source.js';
import { parseTimeArgument } from '../../format/time.js';
import { streamLogs } from '../../engine/read.js';
import { booleanFlag, integerFlag, listFlag, stringFlag, UsageError, type CommandSpec, type CommandContext, type ParsedArgs, HOME_OPTION } from '../args.js';
import { EXIT_OK } from '../exit.js';
import { saveCursorFile, writeOut } from '../output.js';
import { renderBatch, type RenderOptions } from '../render.js';
import { FLEET_OPTIONS } from '../fleet-options.js';

export const logsCommand: CommandSpec = {
  name: 'logs',
  summary: "Show a sandbox's captured output; follow it live; resume after a cursor.",
  usage: 'logs [options] <name>\n       sandlog logs [options] --log-dir DIR',
  options: [
    { name: 'tail', short: 'n', type: 'string', value: 'N', description: 'Show only the last N entries (after --source and --grep)' },
    { name: 'since', type: 'string', value: 'TIME', description: 'Entries at or after TIME (RFC 3339, or relative: 30s, 5m, 2h, 1d)' },
    { name: 'until', type: 'string', value: 'TIME', description: 'Entries strictly before TIME (same forms)' },
    { name: 'follow', short: 'f', type: 'boolean', description: 'Keep following new entries, across rotations, until Ctrl-C' },
    { name: 'timestamps', short: 't', type: 'boolean', description: "Prefix each line with the entry's timestamp" },
    { name: 'source', type: 'string', multiple: true, value: 'S', description: 'stdout, stderr, output, system or all; repeat or comma-separate (default: stdout,stderr,output)' },
    { name: 'grep', type: 'string', value: 'REGEX', description: 'Only entries whose text matches REGEX (JavaScript syntax)' },
    { name: 'json', type: 'boolean', description: 'One JSON object per line: t, s, d, id, e, cursor' },
    { name: 'color', type: 'string', value: 'WHEN', description: 'auto (colour on terminals), always, or never' },
    { name: 'no-color', type: 'boolean', description: 'Same as --color never (NO_COLOR in the environment too)' },
    { name: 'show-id', type: 'boolean', description: 'Prefix each line with its exec session id' },
    { name: 'color-sessions', type: 'boolean', description: 'Colour each session distinctly (implies --show-id)' },
    { name: 'after-cursor', type: 'string', value: 'C', description: 'Start strictly after cursor C' },
    { name: 'show-cursor', type: 'boolean', description: 'Print "-- cursor: C" on stderr at exit for the last entry shown' },
    { name: 'cursor-file', type: 'string', value: 'F', description: 'Resume after the cursor in F if it exists; store the last cursor in F' },
    HOME_OPTION,
    { name: 'log-dir', type: 'string', value: 'DIR', description: 'Read this log directory directly (no name needed)' },
    ...FLEET_OPTIONS,
  ],
  details: [
    'Examples:',
    '  sandlog logs web-1 --tail 100 -f --timestamps',
    '  sandlog logs web-1 --source all --since 10m --json',
    '  sandlog logs web-1 -f --cursor-file /tmp/web-1.cursor',
    '  sandlog logs --nats nats://127.0.0.1:4222 host-a/web-1 -f   (host/* and */name merge)',
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
    if (mode !== undefined && mode !== 'never') throw new UsageError('--no-color conflicts with --color ' + mode);
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

function readCursorFile(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OptionsError(`cannot read --cursor-file ${path}: ${(error as Error).message}`);
  }
  const cursor = text.trim();
  return cursor === '' ? undefined : cursor;
}

async function showBootError(logDir: string, name: string | undefined, json: boolean, context: CommandContext): Promise<void> {
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

async function runLogs(args: ParsedArgs, context: CommandContext): Promise<number> {
  const logDirFlag = stringFlag(args, 'log-dir');
  const home = stringFlag(args, 'home') ?? undefined;
  if (args.positionals.length > 1) throw new UsageError(`Expected one sandbox name, got ${args.positionals.length}: ${args.positionals.join(' ')}`);
  const name = args.positionals[0];
  if (name === undefined && logDirFlag === undefined) throw new UsageError('Expected a sandbox name (or --log-dir DIR)');
  if (name !== undefined && logDirFlag !== undefined) throw new UsageError('Give either a sandbox name or --log-dir, not both');
  const target: LogTarget = logDirFlag !== undefined ? { logDir: logDirFlag } : { name: name!, ...(home === undefined ? {} : { home }) };

  const tail = integerFlag(args, 'tail');
  const since = resolveTime(args, 'since');
  const until = resolveTime(args, 'until');
  const sources = resolveSources(listFlag(args, 'source'));
  const grep = stringFlag(args, 'grep');
  const json = booleanFlag(args, 'json');
  const render: RenderOptions = {
    json,
    color: !json && resolveColor(args, context),
    timestamps: booleanFlag(args, 'timestamps'),
    showId: booleanFlag(args, 'show-id'),
    colorSessions: booleanFlag(args, 'color-sessions'),
  };
  if (stringFlag(args, 'nats') !== undefined) return (await import('./fleet.js')).runFleetLogs(args, context, render);
  const cursorFile = stringFlag(args, 'cursor-file');
  let afterCursor = stringFlag(args, 'after-cursor');
  if (afterCursor !== undefined && since !== undefined) throw new UsageError('--after-cursor conflicts with --since');
  if (afterCursor !== undefined && tail !== undefined) throw new UsageError('--after-cursor conflicts with --tail');
  // A stored cursor wins over --tail and --since, which only shape the first run (as with journalctl).
  let start: { since?: Date; tail?: number } = { ...(since === undefined ? {} : { since }), ...(tail === undefined ? {} : { tail }) };
  if (cursorFile !== undefined) {
    const stored = readCursorFile(cursorFile);
    if (stored !== undefined) {
      if (afterCursor !== undefined && afterCursor !== stored) throw new UsageError('--after-cursor conflicts with the cursor stored in --cursor-file');
      afterCursor = stored;
      start = {};
    }
  }

  const located = await resolveTarget(target, home);
  const stream = streamLogs(target, {
    sources,
    ...start,
    ...(until === undefined ? {} : { until }),
    ...(grep === undefined ? {} : { grep }),
    ...(afterCursor === undefined ? {} : { afterCursor }),
    follow: booleanFlag(args, 'follow'),
    signal: context.signal,
    onWarning: (warning) => {
      // Malformed records are summed up once at the end rather than one line each.
      if (warning.code !== 'MALFORMED_RECORD') context.stderr.write(`sandlog: warning: ${warning.message}\n`);
    },
  });

  let lastCursor: string | undefined;
  const finish = (): void => {
    const cursor = lastCursor ?? (afterCursor === undefined ? stream.cursor : undefined);
    if (cursorFile !== undefined && cursor !== undefined) saveCursorFile(cursorFile, cursor);
    if (booleanFlag(args, 'show-cursor') && cursor !== undefined) context.stderr.write(`-- cursor: ${cursor}\n`);
    if (stream.malformed > 0) context.stderr.write(`sandlog: skipped ${stream.malformed} malformed record(s)\n`);
  };
  try {
    await showBootError(located.logDir, located.name, json, context);
    for await (const batch of stream.batches()) {
      await writeOut(context.stdout, renderBatch(batch, render));
      lastCursor = batch[batch.length - 1]!.cursor;
      if (cursorFile !== undefined) saveCursorFile(cursorFile, lastCursor);
    }
  } catch (error) {
    finish();
    throw error;
  }
  finish();
  return EXIT_OK;
}
