/**
 * `sandlog logs` over several sandboxes: `logs web-1 web-2`, `logs 'web-*'`,
 * `logs --all`. Entries of every matched sandbox merged by time, each line
 * prefixed with its sandbox (`--json`: a `sandbox` field), every filter per
 * sandbox. Following a pattern reports sandboxes appearing (`+ name`) and
 * going away (`- name`) on stderr. `--cursor-file` holds one cursor per
 * sandbox as a JSON object; `--after-cursor` takes a multi-cursor. A single
 * plain name never comes here (./logs.ts keeps that output as it was).
 */
import { SandboxNotFoundError } from '../../errors.js';
import { sanitizeForTerminal } from '../../format/ansi.js';
import { streamManyLogs } from '../../engine/multi-stream.js';
import { isPattern, resolveSelection, type SandboxSelection } from '../../engine/selection.js';
import { decodeMultiCursor } from '../../format/multi-cursor.js';
import { resolveSources } from '../../format/source.js';
import { defaultHome } from '../../files/layout.js';
import {
  booleanFlag,
  integerFlag,
  listFlag,
  stringFlag,
  UsageError,
  type CommandContext,
  type ParsedArgs,
} from '../args.js';
import { EXIT_OK } from '../exit.js';
import { isSingleSandboxPlace, readCursorFileText, replaceFile } from '../cursor-file.js';
import { writeOut } from '../output.js';
import type { RenderOptions } from '../render.js';
import { renderManyJson, renderManyText, SandboxPrefixes } from '../render-many.js';

/** The flag helpers `logs` shares with this module (passed in, so that neither module imports the other). */
export interface LogsHelpers {
  resolveColor(args: ParsedArgs, context: CommandContext): boolean;
  resolveTime(args: ParsedArgs, name: string): Date | undefined;
}

/** Whether a `logs` command line names more than one sandbox (several names, a pattern, or --all). */
export function wantsManySandboxes(args: ParsedArgs): boolean {
  return args.positionals.length > 1 || booleanFlag(args, 'all') || args.positionals.some(isPattern);
}

// A cursor file of several sandboxes: `{ "name": "cursor", … }`. Absent or empty: no cursor yet.
function readMultiCursorFile(path: string): Map<string, string> | undefined {
  const text = readCursorFileText(path);
  if (text === undefined) return undefined;
  if (!text.startsWith('{') || isSingleSandboxPlace(parseQuietly(text))) {
    throw new UsageError(
      `--cursor-file ${path} holds a single sandbox's cursor, not one per sandbox (a JSON object): use another file for several sandboxes`,
    );
  }
  try {
    return decodeMultiCursor(text);
  } catch (error) {
    throw new UsageError(`--cursor-file ${path}: ${(error as Error).message}`);
  }
}

function saveMultiCursorFile(path: string, cursor: string): void {
  replaceFile(path, `${JSON.stringify(Object.fromEntries(decodeMultiCursor(cursor)))}\n`);
}

function parseQuietly(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Runs `logs` over several sandboxes. */
export async function runManyLogs(args: ParsedArgs, context: CommandContext, helpers: LogsHelpers): Promise<number> {
  const all = booleanFlag(args, 'all');
  if (stringFlag(args, 'log-dir') !== undefined)
    throw new UsageError('--log-dir reads one directory: it does not combine with several names, patterns or --all');
  if (all && args.positionals.length > 0)
    throw new UsageError(`--all conflicts with sandbox names (${args.positionals.join(' ')})`);
  const home = stringFlag(args, 'home') ?? defaultHome();
  const selection: SandboxSelection = all ? { all: true } : args.positionals;
  const description = resolveSelection(selection).description;

  const tail = integerFlag(args, 'tail');
  const holdGenerations = integerFlag(args, 'hold-generations');
  const since = helpers.resolveTime(args, 'since');
  const until = helpers.resolveTime(args, 'until');
  const sources = resolveSources(listFlag(args, 'source'));
  const grep = stringFlag(args, 'grep');
  const json = booleanFlag(args, 'json');
  const follow = booleanFlag(args, 'follow');
  const render: RenderOptions = {
    json,
    color: !json && helpers.resolveColor(args, context),
    timestamps: booleanFlag(args, 'timestamps'),
    showId: booleanFlag(args, 'show-id'),
    colorSessions: booleanFlag(args, 'color-sessions'),
  };
  const cursorFile = stringFlag(args, 'cursor-file');
  const afterFlag = stringFlag(args, 'after-cursor');
  if (afterFlag !== undefined && since !== undefined) throw new UsageError('--after-cursor conflicts with --since');
  if (afterFlag !== undefined && tail !== undefined) throw new UsageError('--after-cursor conflicts with --tail');
  let afterCursor: Map<string, string> | undefined = afterFlag === undefined ? undefined : decodeMultiCursor(afterFlag);
  // A stored cursor resumes the sandboxes it names; --tail and --since still shape those it does not (new ones).
  if (cursorFile !== undefined) {
    const stored = readMultiCursorFile(cursorFile);
    if (stored !== undefined) {
      if (afterCursor !== undefined)
        throw new UsageError('--after-cursor conflicts with the cursors stored in --cursor-file');
      afterCursor = stored;
    }
  }

  let prefixes: SandboxPrefixes | undefined;
  const stream = streamManyLogs(selection, {
    home,
    sources,
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(tail === undefined ? {} : { tail }),
    ...(holdGenerations === undefined ? {} : { holdGenerations }),
    ...(grep === undefined ? {} : { grep }),
    ...(afterCursor === undefined ? {} : { afterCursor: Object.fromEntries(afterCursor) }),
    follow,
    signal: context.signal,
    onWarning: (warning) => {
      if (warning.code !== 'MALFORMED_RECORD') context.stderr.write(`sandlog: warning: ${warning.message}\n`);
    },
    onSandboxAdded: (name) => context.stderr.write(`+ ${sanitizeForTerminal(name, false)}\n`),
    onSandboxRemoved: (name) => context.stderr.write(`- ${sanitizeForTerminal(name, false)}\n`),
  });

  const finish = (): void => {
    const cursor = stream.cursor;
    if (cursorFile !== undefined) saveMultiCursorFile(cursorFile, cursor);
    if (booleanFlag(args, 'show-cursor')) context.stderr.write(`-- cursor: ${cursor}\n`);
    if (stream.malformed > 0) context.stderr.write(`sandlog: skipped ${stream.malformed} malformed record(s)\n`);
  };
  await stream.open();
  if (stream.sandboxes.length === 0) {
    await stream.close();
    throw new SandboxNotFoundError(all ? `no sandboxes under ${home}` : `no sandbox matches ${description}`);
  }
  try {
    prefixes = new SandboxPrefixes(stream.sandboxes, render.color);
    for await (const batch of stream.batches()) {
      prefixes.update(stream.sandboxes);
      await writeOut(context.stdout, json ? renderManyJson(batch) : renderManyText(batch, prefixes, render));
      if (cursorFile !== undefined) saveMultiCursorFile(cursorFile, batch[batch.length - 1]!.cursor);
    }
  } catch (error) {
    finish();
    throw error;
  }
  finish();
  return EXIT_OK;
}
