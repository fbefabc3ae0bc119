/**
 * `--nats` on `logs`, `ls` and `serve`: the same commands over the fleet's
 * stream instead of a home. `logs --nats URL host/name` prints the payloads (what
 * `sandlog logs name` prints on that host), in stream order; `host/*` and
 * `*\/name` merge several sandboxes, each line then prefixed with
 * `host/name` (text) or carrying `host` and `sandbox` keys (JSON). Its
 * cursor is the stream sequence (see src/fleet/read.ts).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { compileGrep } from '../../engine/options.js';
import { sanitizeForTerminal } from '../../format/ansi.js';
import type { LogEntry } from '../../format/entry.js';
import type { LogSource } from '../../format/source.js';
import { resolveSources } from '../../format/source.js';
import { parseTimeArgument } from '../../format/time.js';
import { DEFAULT_STREAM } from '../../ship/broker.js';
import { connectReader, fleetTarget } from '../../fleet/connect.js';
import { parseSandboxPattern } from '../../fleet/pattern.js';
import { startFleetServer } from '../../fleet/server.js';
import { checkServerOptions } from '../../server/server.js';
import { lineForSources, listFleet, readFleet, type FleetEntry } from '../../fleet/read.js';
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
import { readCursorFileText, replaceFile } from '../cursor-file.js';
import { writeOut } from '../output.js';
import { renderText, type RenderOptions } from '../render.js';

/** Opens the connection `--nats` asks for. */
export async function openFleet(args: ParsedArgs, context: CommandContext): Promise<NatsConnection> {
  const token = context.env['SANDLOG_NATS_TOKEN'];
  return connectReader(
    fleetTarget(
      stringFlag(args, 'nats')!,
      token === undefined || token === '' ? undefined : token,
      stringFlag(args, 'creds'),
    ),
  );
}

function streamName(args: ParsedArgs): string {
  return stringFlag(args, 'stream') ?? DEFAULT_STREAM;
}

// A shipped entry as the renderer sees a local one.
function asLogEntry(entry: FleetEntry): LogEntry {
  const { fields } = entry;
  const data = fields.e === 'b64' ? Buffer.from(fields.d, 'base64') : Buffer.from(fields.d, 'utf8');
  return {
    timestamp: new Date(Date.parse(fields.t)),
    source: fields.s,
    sessionId: fields.id,
    data,
    text: () => data.toString('utf8'),
    cursor: fields.cursor,
    // The payload is the shipping host's `--json` line already.
    toJsonLine: () => entry.line,
    writeJsonLine(target: Buffer, at: number): number {
      const line = `${entry.line}\n`;
      if (Buffer.byteLength(line, 'utf8') > target.length - at) return -1;
      return at + target.write(line, at, 'utf8');
    },
    toJSON: () => ({ ...fields }),
  };
}

function jsonLine(entry: FleetEntry, merged: boolean, sources: ReadonlySet<LogSource>): string {
  const line = lineForSources(entry, sources);
  if (!merged) return `${line}\n`;
  return `${line.slice(0, -1)},"host":${JSON.stringify(entry.host)},"sandbox":${JSON.stringify(entry.sandbox)}}\n`;
}

function time(args: ParsedArgs, name: string): number | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  try {
    return parseTimeArgument(raw).getTime();
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`);
  }
}

function grepOf(args: ParsedArgs): RegExp | undefined {
  const raw = stringFlag(args, 'grep');
  if (raw === undefined) return undefined;
  try {
    return compileGrep(raw);
  } catch (error) {
    throw new UsageError(
      `Expected --grep to be a valid regular expression, got ${JSON.stringify(raw)}: ${(error as Error).message}`,
    );
  }
}

/** `sandlog logs --nats URL host/name …`. */
export async function runFleetLogs(args: ParsedArgs, context: CommandContext, render: RenderOptions): Promise<number> {
  if (stringFlag(args, 'log-dir') !== undefined || stringFlag(args, 'home') !== undefined)
    throw new UsageError('--nats reads the fleet: it conflicts with --home and --log-dir');
  if (args.positionals.length !== 1) throw new UsageError('Expected one host/name (either may be *) with --nats');
  const pattern = parseSandboxPattern(args.positionals[0]!);
  const tail = integerFlag(args, 'tail');
  const since = time(args, 'since');
  const until = time(args, 'until');
  const cursorFile = stringFlag(args, 'cursor-file');
  let after = stringFlag(args, 'after-cursor');
  if (after !== undefined && (since !== undefined || tail !== undefined))
    throw new UsageError('--after-cursor conflicts with --since and --tail');
  let start = { tail, since };
  if (cursorFile !== undefined) {
    const stored = readCursorFileText(cursorFile);
    if (stored !== undefined) {
      if (after !== undefined && after !== stored)
        throw new UsageError('--after-cursor conflicts with the cursor stored in --cursor-file');
      after = stored;
      start = { tail: undefined, since: undefined };
    }
  }
  const options = {
    stream: streamName(args),
    pattern,
    sources: resolveSources(listFlag(args, 'source')),
    ...(start.since === undefined ? {} : { since: start.since }),
    ...(until === undefined ? {} : { until }),
    ...(grepOf(args) === undefined ? {} : { grep: grepOf(args)! }),
    ...(start.tail === undefined ? {} : { tail: start.tail }),
    follow: booleanFlag(args, 'follow'),
    ...(after === undefined
      ? {}
      : /^\d{1,15}$/.test(after)
        ? { afterSequence: Number(after) }
        : { afterCursor: after }),
    signal: context.signal,
  };
  const connection = await openFleet(args, context);
  let last: number | undefined;
  const finish = (): void => {
    if (last === undefined) return;
    if (cursorFile !== undefined) replaceFile(cursorFile, `${last}\n`);
    if (booleanFlag(args, 'show-cursor')) context.stderr.write(`-- cursor: ${last}\n`);
  };
  try {
    for await (const batch of readFleet(connection, options)) {
      let out = '';
      for (const entry of batch) {
        if (render.json) out += jsonLine(entry, pattern.merged, options.sources);
        else {
          const text = renderText(asLogEntry(entry), render);
          out += pattern.merged
            ? prefixLines(text, `${sanitizeForTerminal(`${entry.host}/${entry.sandbox}`, false)} | `)
            : text;
        }
      }
      await writeOut(context.stdout, out);
      last = batch[batch.length - 1]!.sequence;
      if (cursorFile !== undefined) replaceFile(cursorFile, `${last}\n`);
    }
  } finally {
    finish();
    await connection.close().catch(() => undefined);
  }
  return EXIT_OK;
}

function prefixLines(text: string, prefix: string): string {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  return `${body
    .split('\n')
    .map((line) => prefix + line)
    .join('\n')}\n`;
}

/** `sandlog ls --nats URL`. */
export async function runFleetLs(args: ParsedArgs, context: CommandContext): Promise<number> {
  if (stringFlag(args, 'home') !== undefined) throw new UsageError('--nats lists the fleet: it conflicts with --home');
  const connection = await openFleet(args, context);
  try {
    const sandboxes = await listFleet(connection, streamName(args));
    if (booleanFlag(args, 'json')) {
      await writeOut(context.stdout, `${JSON.stringify(sandboxes, null, 2)}\n`);
      return EXIT_OK;
    }
    const rows = [
      ['HOST/NAME', 'ENTRIES', 'LAST ENTRY'],
      ...sandboxes.map((s) => [
        sanitizeForTerminal(`${s.host}/${s.name}`, false),
        String(s.entries),
        s.lastEntry ?? '-',
      ]),
    ];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    await writeOut(
      context.stdout,
      `${rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')}\n`,
    );
    return EXIT_OK;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** `sandlog serve --nats URL`: the fleet's viewer and API (src/fleet/server.ts) until SIGINT/SIGTERM. */
export async function runFleetServe(
  args: ParsedArgs,
  context: CommandContext,
  listen: { host: string; port: number; token?: string },
): Promise<number> {
  if (stringFlag(args, 'home') !== undefined) throw new UsageError('--nats serves the fleet: it conflicts with --home');
  // Before connecting: a refused address is a usage error whether or not the broker answers.
  checkServerOptions(listen);
  const connection = await openFleet(args, context);
  try {
    const server = await startFleetServer({ connection, stream: streamName(args), ...listen });
    context.stdout.write(`${server.url}\n`);
    context.stderr.write(
      `sandlog: serving the viewer and API of the fleet (stream ${streamName(args)}) on ${server.url}; Ctrl-C stops\n`,
    );
    if (!context.signal.aborted)
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
    await server.close();
    context.stderr.write('sandlog: server stopped\n');
    return EXIT_OK;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
