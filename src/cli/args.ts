/**
 * Command-line parsing on Node's `util.parseArgs`, driven by one table per
 * command that also generates its `--help`. Parse failures are
 * {@link UsageError}s (exit 2) naming the flag and the value.
 */
import { parseArgs } from 'node:util';
import { SandlogError } from '../errors.js';

/** A bad command line: exit code 2. */
export class UsageError extends SandlogError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** One flag of a command. */
export interface OptionSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: 'boolean' | 'string';
  /** May be given more than once (values are collected). */
  readonly multiple?: boolean;
  /** Placeholder shown in help (`N`, `TIME`…). */
  readonly value?: string;
  readonly description: string;
}

/** What a command gets to run with. */
export interface CommandContext {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM: long-running commands finish cleanly. */
  readonly signal: AbortSignal;
  /**
   * Takes over SIGINT, SIGTERM and SIGHUP: from then on each one is passed to
   * `handler` instead of aborting `signal` (for commands that forward signals
   * to a child).
   */
  readonly claimSignals: (handler: (signal: NodeJS.Signals) => void) => void;
  /** Standard input, for commands that forward it. */
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
}

/** Parsed flags and positionals. */
export interface ParsedArgs {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  /** Positionals before a `--`. */
  readonly positionals: string[];
  /** Everything after a `--` (a command to run). */
  readonly rest: string[];
}

/** One subcommand. */
export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /** Usage line(s) after `sandlog`, e.g. `logs [options] <name>`. */
  readonly usage: string;
  readonly options: readonly OptionSpec[];
  /** Extra help text (examples). */
  readonly details?: string;
  /** Stop parsing flags at the first positional after this many (for `run <name> <cmd…>`). */
  readonly run: (args: ParsedArgs, context: CommandContext) => Promise<number>;
}

/** `--home DIR`, the same for every command that reads or writes under a home. */
export const HOME_OPTION: OptionSpec = {
  name: 'home',
  type: 'string',
  value: 'DIR',
  description: 'Home holding sandboxes/ (default: $MSB_HOME, else ~/.microsandbox)',
};

const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', type: 'boolean', description: 'Show this help' };

/** Parses `argv` (after the command name) against a command's table. */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean }> = {};
  for (const option of [...spec.options, HELP_OPTION]) {
    options[option.name] = {
      type: option.type,
      ...(option.short === undefined ? {} : { short: option.short }),
      ...(option.multiple === true ? { multiple: true } : {}),
    };
  }
  const terminator = argv.indexOf('--');
  const before = terminator < 0 ? [...argv] : argv.slice(0, terminator);
  const rest = terminator < 0 ? [] : argv.slice(terminator + 1);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: before, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`);
  }
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals, rest };
}

/** The generated `--help` of a command. */
export function formatHelp(spec: CommandSpec): string {
  const rows = [...spec.options, HELP_OPTION].map((option) => {
    const flag = `${option.short === undefined ? '    ' : `-${option.short}, `}--${option.name}${option.value === undefined ? '' : ` ${option.value}`}`;
    return [flag, option.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const lines = [
    `Usage: sandlog ${spec.usage}`,
    '',
    spec.summary,
    '',
    'Options:',
    ...rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`),
  ];
  if (spec.details !== undefined) lines.push('', spec.details.trimEnd());
  return `${lines.join('\n')}\n`;
}

/** A string flag's value, if given. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable string flag's values (empty when not given). */
export function listFlag(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];
  if (Array.isArray(value)) return value;
  return typeof value === 'string' ? [value] : [];
}

/** A boolean flag. */
export function booleanFlag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** A non-negative integer flag (`--tail 100`), or undefined when absent. */
export function integerFlag(args: ParsedArgs, name: string, minimum = 0): number | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < minimum) {
    throw new UsageError(`Expected --${name} to be an integer of at least ${minimum}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration flag in milliseconds (`--stall-timeout 30s`), or undefined when
 * absent: a whole number with a unit (`ms`, `s`, `m`, `h`); a bare number is
 * seconds, as in `kubectl --request-timeout`.
 */
export function durationFlag(args: ParsedArgs, name: string, minimumMs = 0): number | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  const match = /^(\d{1,9})(ms|s|m|h)?$/.exec(raw.trim());
  const ms = match === null ? Number.NaN : Number(match[1]) * DURATION_UNITS_MS[match[2] ?? 's']!;
  if (!(ms >= minimumMs)) {
    throw new UsageError(
      `Expected --${name} to be a duration such as 500ms, 30s, 5m or 1h (a bare number is seconds)${minimumMs > 0 ? ` of at least ${minimumMs} ms` : ''}, got ${JSON.stringify(raw)}`,
    );
  }
  return ms;
}
