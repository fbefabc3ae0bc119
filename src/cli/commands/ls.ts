/**
 * `sandlog ls`: the sandboxes under the home, with the size of their logs,
 * an entry-count estimate and the time of their last entry.
 */
import { defaultHome } from '../../files/layout.js';
import { sanitizeForTerminal } from '../../format/ansi.js';
import { listSandboxes } from '../../engine/inventory.js';
import { booleanFlag, stringFlag, UsageError, type CommandSpec, HOME_OPTION } from '../args.js';
import { EXIT_OK } from '../exit.js';
import { writeOut } from '../output.js';
import { FLEET_OPTIONS } from '../fleet-options.js';

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export const lsCommand: CommandSpec = {
  name: 'ls',
  summary: 'List the sandboxes under the home and what their logs hold.',
  usage: 'ls [options]',
  options: [
    {
      name: 'json',
      type: 'boolean',
      description: 'A JSON array: name, logDir, bytes, files, lastEntry, entriesEstimate',
    },
    HOME_OPTION,
    ...FLEET_OPTIONS,
  ],
  async run(args, context) {
    if (args.positionals.length > 0) throw new UsageError(`ls takes no arguments, got ${args.positionals.join(' ')}`);
    if (stringFlag(args, 'nats') !== undefined) return (await import('./fleet.js')).runFleetLs(args, context);
    const sandboxes = await listSandboxes(stringFlag(args, 'home') ?? defaultHome(context.env));
    if (booleanFlag(args, 'json')) {
      await writeOut(context.stdout, `${JSON.stringify(sandboxes, null, 2)}\n`);
      return EXIT_OK;
    }
    const rows = [
      ['NAME', 'LOG SIZE', 'ENTRIES', 'LAST ENTRY'],
      ...sandboxes.map((sandbox) => [
        // Directory names are not trusted either.
        sanitizeForTerminal(sandbox.name, false),
        formatBytes(sandbox.bytes),
        `~${sandbox.entriesEstimate}`,
        sandbox.lastEntry === null ? '-' : sandbox.lastEntry.toISOString(),
      ]),
    ];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    const text = rows
      .map((row) =>
        row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '),
      )
      .join('\n');
    await writeOut(context.stdout, `${text}\n`);
    return EXIT_OK;
  },
};
