/**
 * `sandlog ship`: every sandbox of this host into NATS JetStream, exactly
 * once, until SIGINT/SIGTERM (which flush, store checkpoints and exit 0).
 * The work is in src/ship/; this file turns flags into its options.
 */
import { hostname } from 'node:os';
import { defaultHome } from '../../files/layout.js';
import { sandboxNameProblem } from '../../format/name.js';
import { resolveSources } from '../../format/source.js';
import { DEFAULT_STREAM, DUPLICATE_WINDOW_MS } from '../../ship/broker.js';
import { parseNatsUrls } from '../../ship/nats.js';
import { ship } from '../../ship/shipper.js';
import { booleanFlag, integerFlag, listFlag, stringFlag, UsageError, type CommandSpec, HOME_OPTION } from '../args.js';
import { EXIT_OK } from '../exit.js';

/** Stream names NATS accepts: no whitespace, `.`, `*`, `>`, or path separators. */
const STREAM_NAME = /^[^\s.*>/\\\u0000-\u001f]{1,255}$/;

export const shipCommand: CommandSpec = {
  name: 'ship',
  summary: 'Ship every sandbox of this host into NATS JetStream, exactly once, resuming from checkpoints.',
  usage: 'ship --nats URL[,URL…] [options]',
  options: [
    { name: 'nats', type: 'string', value: 'URLS', description: 'NATS server(s), comma-separated (nats://host:4222)' },
    HOME_OPTION,
    {
      name: 'host',
      type: 'string',
      value: 'NAME',
      description: "This host's name in subjects and headers (default: the machine's hostname)",
    },
    {
      name: 'stream',
      type: 'string',
      value: 'NAME',
      description: `JetStream stream (default ${DEFAULT_STREAM}; created when missing)`,
    },
    {
      name: 'replicas',
      type: 'string',
      value: 'N',
      description: 'Replicas of the stream and checkpoint bucket when created (default 1)',
    },
    {
      name: 'source',
      type: 'string',
      multiple: true,
      value: 'S',
      description: 'stdout, stderr, output, system or all (default: all)',
    },
    {
      name: 'token',
      type: 'string',
      value: 'T',
      description: 'NATS auth token (prefer SANDLOG_NATS_TOKEN: flags show in ps)',
    },
    { name: 'creds', type: 'string', value: 'FILE', description: 'NATS credentials file' },
    { name: 'stats', type: 'boolean', description: 'Print a one-line summary on stderr periodically' },
    { name: 'stats-interval', type: 'string', value: 'S', description: 'Seconds between --stats lines (default 10)' },
  ],
  details: [
    'Subjects: sandlog.<host>.<sandbox>.<source>; names are encoded into one token',
    '(A-Z a-z 0-9 - _ kept, any other byte as =XX). Message id: <host>/<sandbox>/<cursor>/<digest>.',
    `Checkpoints: KV bucket sandlog-checkpoints. Duplicate window of a created stream: ${DUPLICATE_WINDOW_MS / 1000} s.`,
    '',
    'Examples:',
    '  sandlog ship --nats nats://127.0.0.1:4222',
    '  sandlog ship --nats nats://n1:4222,nats://n2:4222,nats://n3:4222 --replicas 3 --stats',
    '',
    'Exit status: 0 after SIGINT/SIGTERM, 1 runtime error, 2 usage error.',
  ].join('\n'),
  async run(args, context) {
    if (args.positionals.length > 0) throw new UsageError(`ship takes no arguments, got ${args.positionals.join(' ')}`);
    const natsFlag = stringFlag(args, 'nats');
    if (natsFlag === undefined) throw new UsageError('Expected --nats URL (the NATS server to ship to)');
    const servers = parseNatsUrls(natsFlag);
    const host = stringFlag(args, 'host') ?? hostname();
    const hostProblem = sandboxNameProblem(host);
    if (hostProblem !== undefined) throw new UsageError(`Expected --host to be a valid name: ${hostProblem}`);
    const stream = stringFlag(args, 'stream') ?? DEFAULT_STREAM;
    if (!STREAM_NAME.test(stream))
      throw new UsageError(
        `Expected --stream to be a stream name (no spaces, '.', '*', '>', '/' or '\\'), got ${JSON.stringify(stream)}`,
      );
    const replicas = integerFlag(args, 'replicas', 1) ?? 1;
    if (replicas > 5) throw new UsageError(`Expected --replicas to be between 1 and 5, got ${replicas}`);
    const sourceList = listFlag(args, 'source');
    const sources = resolveSources(sourceList.length === 0 ? ['all'] : sourceList);
    const fromEnv = context.env['SANDLOG_NATS_TOKEN'];
    const token = stringFlag(args, 'token') ?? (fromEnv === undefined || fromEnv === '' ? undefined : fromEnv);
    const credsFile = stringFlag(args, 'creds');
    if (token !== undefined && credsFile !== undefined)
      throw new UsageError('Give either --token or --creds, not both');
    const statsSeconds = integerFlag(args, 'stats-interval', 1);
    if (statsSeconds !== undefined && !booleanFlag(args, 'stats'))
      throw new UsageError('--stats-interval needs --stats');
    await ship({
      servers,
      ...(token === undefined ? {} : { token }),
      ...(credsFile === undefined ? {} : { credsFile }),
      home: stringFlag(args, 'home') ?? defaultHome(context.env),
      host,
      stream,
      replicas,
      sources,
      ...(booleanFlag(args, 'stats') ? { statsIntervalMs: (statsSeconds ?? 10) * 1000 } : {}),
      signal: context.signal,
      log: (line) => context.stderr.write(`${line}\n`),
    });
    return EXIT_OK;
  },
};
