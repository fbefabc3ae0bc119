/**
 * The flags `--nats` adds to `logs`, `ls` and `serve`, kept apart from the
 * fleet commands themselves so that a local read never loads the NATS
 * client (commands/fleet.ts is imported only when `--nats` is given).
 */
import { DEFAULT_STREAM } from '../ship/naming.js';
import type { OptionSpec } from './args.js';

/** The flags `--nats` adds to a reading command. */
export const FLEET_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'nats',
    type: 'string',
    value: 'URLS',
    description: 'Read the fleet from NATS JetStream (host/name) instead of a home',
  },
  { name: 'stream', type: 'string', value: 'NAME', description: `With --nats: the stream (default ${DEFAULT_STREAM})` },
  {
    name: 'creds',
    type: 'string',
    value: 'FILE',
    description: 'With --nats: NATS credentials file (a token: SANDLOG_NATS_TOKEN)',
  },
];
