/**
 * `sandlog serve`: the HTTP API and the web viewer over a home's sandboxes,
 * until SIGINT/SIGTERM, which end live streams and exit 0.
 */
import { defaultHome } from '../../files/layout.js';
import { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_MAX_STREAMS, DEFAULT_STALL_TIMEOUT_MS } from '../../server/limits.js';
import { DEFAULT_HOST, DEFAULT_PORT, startServer } from '../../server/server.js';
import { durationFlag, integerFlag, stringFlag, UsageError, type CommandSpec, HOME_OPTION } from '../args.js';
import { EXIT_OK } from '../exit.js';
import { FLEET_OPTIONS } from '../fleet-options.js';

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'Serve the log API (JSON, live event streams) and a web viewer.',
  usage: 'serve [options]',
  options: [
    {
      name: 'host',
      type: 'string',
      value: 'ADDR',
      description: `Address to listen on (default ${DEFAULT_HOST}; anything else needs a token)`,
    },
    {
      name: 'port',
      short: 'p',
      type: 'string',
      value: 'N',
      description: `Port to listen on; 0 picks a free one (default ${DEFAULT_PORT})`,
    },
    HOME_OPTION,
    {
      name: 'token',
      type: 'string',
      value: 'T',
      description: 'Require "Authorization: Bearer T" on /api (prefer SANDLOG_TOKEN: flags show in ps)',
    },
    {
      name: 'max-streams',
      type: 'string',
      value: 'N',
      description: `Live streams served at once; more get 503 + Retry-After (default ${DEFAULT_MAX_STREAMS})`,
    },
    {
      name: 'stall-timeout',
      type: 'string',
      value: 'DURATION',
      description: `Close a connection whose client took nothing it was sent for this long; 0 never (default ${DEFAULT_STALL_TIMEOUT_MS / 1000}s)`,
    },
    {
      name: 'headers-timeout',
      type: 'string',
      value: 'DURATION',
      description: `Time a client has to send its request headers (default ${DEFAULT_HEADERS_TIMEOUT_MS / 1000}s)`,
    },
    ...FLEET_OPTIONS,
  ],
  details: [
    "Prints the viewer's URL on stdout once listening. With a token, open the URL",
    'with "#token=T" appended (the fragment never leaves the browser).',
    'A DURATION is a whole number with a unit: 500ms, 30s, 5m, 1h (bare: seconds).',
    '',
    'Examples:',
    '  sandlog serve',
    '  SANDLOG_TOKEN=$(openssl rand -hex 16) sandlog serve --host 0.0.0.0',
    '  curl -N http://127.0.0.1:7070/api/sandboxes/web-1/logs/stream',
  ].join('\n'),
  async run(args, context) {
    if (args.positionals.length > 0)
      throw new UsageError(`serve takes no arguments, got ${args.positionals.join(' ')}`);
    const port = integerFlag(args, 'port') ?? DEFAULT_PORT;
    if (port > 65535) throw new UsageError(`Expected --port to be at most 65535, got ${port}`);
    const fromEnv = context.env['SANDLOG_TOKEN'];
    const token = stringFlag(args, 'token') ?? (fromEnv === undefined || fromEnv === '' ? undefined : fromEnv);
    if (stringFlag(args, 'nats') !== undefined)
      return (await import('./fleet.js')).runFleetServe(args, context, {
        host: stringFlag(args, 'host') ?? DEFAULT_HOST,
        port,
        ...(token === undefined ? {} : { token }),
      });
    const home = stringFlag(args, 'home') ?? defaultHome(context.env);
    const maxStreams = integerFlag(args, 'max-streams', 1);
    const stallTimeoutMs = durationFlag(args, 'stall-timeout');
    const headersTimeoutMs = durationFlag(args, 'headers-timeout', 1);
    const server = await startServer({
      host: stringFlag(args, 'host') ?? DEFAULT_HOST,
      port,
      home,
      ...(maxStreams === undefined ? {} : { maxStreams }),
      ...(stallTimeoutMs === undefined ? {} : { stallTimeoutMs }),
      ...(headersTimeoutMs === undefined ? {} : { headersTimeoutMs }),
      ...(token === undefined ? {} : { token }),
      onError: (error) =>
        context.stderr.write(
          `sandlog serve: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
        ),
    });
    context.stdout.write(`${server.url}\n`);
    context.stderr.write(
      `sandlog: serving ${home} on ${server.url}${token === undefined ? '' : ' (token required; open the URL with #token=<token>)'}; Ctrl-C stops\n`,
    );
    if (!context.signal.aborted)
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
    await server.close();
    context.stderr.write('sandlog: server stopped\n');
    return EXIT_OK;
  },
};
