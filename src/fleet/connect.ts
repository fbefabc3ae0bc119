/**
 * Connecting a reader (`logs`, `ls`, `serve` with `--nats`) to the fleet's
 * stream. Unlike the shipper, a reader fails fast: a broker that does not
 * answer within a few seconds is a runtime error (exit 1), said in one line.
 */
import { connect, credsAuthenticator, type NatsConnection, type ConnectionOptions } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';
import { OptionsError, SandlogError } from '../errors.js';
import { parseNatsUrls, type NatsTarget } from '../ship/nats.js';

/** The broker could not be reached or does not hold the stream. */
export class FleetUnavailableError extends SandlogError {
  constructor(message: string) {
    super('FLEET_UNAVAILABLE', message);
  }
}

/** `--nats`, `--token`/SANDLOG_NATS_TOKEN and `--creds` into a target. */
export function fleetTarget(urls: string, token: string | undefined, credsFile: string | undefined): NatsTarget {
  return {
    servers: parseNatsUrls(urls),
    ...(token === undefined ? {} : { token }),
    ...(credsFile === undefined ? {} : { credsFile }),
  };
}

/** Connects (reconnecting forever once up, for followers). */
export async function connectReader(target: NatsTarget): Promise<NatsConnection> {
  const options: ConnectionOptions = {
    servers: [...target.servers],
    name: 'sandlog reader',
    timeout: 5_000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  };
  if (target.token !== undefined) options.token = target.token;
  if (target.credsFile !== undefined) {
    try {
      options.authenticator = credsAuthenticator(readFileSync(target.credsFile));
    } catch (error) {
      throw new OptionsError(`cannot read --creds ${target.credsFile}: ${(error as Error).message}`);
    }
  }
  try {
    return await connect(options);
  } catch (error) {
    throw new FleetUnavailableError(
      `cannot connect to NATS at ${target.servers.join(',')}: ${(error as Error).message}`,
    );
  }
}
