/**
 * The `sandlog` command: dispatch to a subcommand, turn errors into one line
 * on stderr and an exit code, end quietly when stdout is closed early (a pipe
 * into `head`), and turn SIGINT/SIGTERM into an abort the commands honour.
 *
 * Subcommands are loaded on demand, so `sandlog logs` does not pay for the
 * server or the process capture at start-up.
 */
import { formatHelp, parseCommandArgs, UsageError, type CommandContext, type CommandSpec } from './args.js';
import { EXIT_OK, EXIT_USAGE, exitCodeFor, messageFor } from './exit.js';

/** Subcommands: name → summary and loader. */
const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<CommandSpec> }>> = {
  logs: {
    summary: "Show (and follow) a sandbox's logs",
    load: async () => (await import('./commands/logs.js')).logsCommand,
  },
  ls: { summary: 'List the sandboxes under the home', load: async () => (await import('./commands/ls.js')).lsCommand },
  run: {
    summary: "Run a command and record its output in a sandbox's logs",
    load: async () => (await import('./commands/run.js')).runCommand,
  },
  ship: {
    summary: 'Ship every sandbox into NATS JetStream, exactly once',
    load: async () => (await import('./commands/ship.js')).shipCommand,
  },
  serve: {
    summary: 'Serve the log API and a web viewer',
    load: async () => (await import('./commands/serve.js')).serveCommand,
  },
};

/** sandlog's version, for `--version`. */
export const VERSION = '0.1.0';

function topHelp(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((name) => name.length));
  return [
    'Usage: sandlog <command> [options]',
    '',
    'Capture, keep and follow the output of sandboxed programs (microsandbox-compatible logs).',
    '',
    'Commands:',
    ...names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name]!.summary}`),
    '',
    "Run `sandlog <command> --help` for a command's options.",
    '',
  ].join('\n');
}

/** Runs the CLI with `argv` (without `node` and the script); resolves to the exit code. */
export async function main(argv: readonly string[], context: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    context.stdout.write(topHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-V') {
    context.stdout.write(`sandlog ${VERSION}\n`);
    return EXIT_OK;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    context.stderr.write(
      `sandlog: unknown command ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(', ')})\n`,
    );
    return EXIT_USAGE;
  }
  try {
    const spec = await entry.load();
    const args = parseCommandArgs(spec, rest);
    if (args.values['help'] === true) {
      context.stdout.write(formatHelp(spec));
      return EXIT_OK;
    }
    return await spec.run(args, context);
  } catch (error) {
    // The reader of our output went away (`| head`): nothing is wrong.
    if ((error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') return EXIT_OK;
    context.stderr.write(`sandlog: ${messageFor(error, context.env)}\n`);
    if (error instanceof UsageError) context.stderr.write(`Run 'sandlog ${name} --help' for usage.\n`);
    return exitCodeFor(error);
  }
}
