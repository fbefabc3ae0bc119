/**
 * `sandlog ship` as a library: connect to NATS (retrying until it answers),
 * make sure the stream and the checkpoint bucket exist, then ship every
 * sandbox under the home — those there at start and those created later —
 * each with its own {@link SandboxShipper}, until the signal aborts. Stops
 * shipping a sandbox whose directory went away (and drops its checkpoint).
 *
 * Every change of state (NATS reachable or not, publishing failing or
 * working again) is told once through `log`, never once per attempt.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { sandboxesDir } from '../files/layout.js';
import { sandboxNameProblem } from '../format/name.js';
import type { LogSource } from '../format/source.js';
import { BrokerSetupError, ensureStream, manager, openCheckpoints } from './broker.js';
import { connectWithRetry, sleep, type NatsState, type NatsTarget } from './nats.js';
import { SandboxShipper, type ShipContext, type ShipStats } from './sandbox-shipper.js';
import { PublishWindow } from './window.js';

/** Options of {@link ship}. */
export interface ShipOptions extends NatsTarget {
  readonly home: string;
  readonly host: string;
  readonly stream: string;
  readonly replicas: number;
  readonly sources: ReadonlySet<LogSource>;
  /** Print a summary line every this many ms (none when undefined). */
  readonly statsIntervalMs?: number;
  /** Publishes in flight across all sandboxes. */
  readonly window?: number;
  readonly signal: AbortSignal;
  /** One line for stderr (without the newline). */
  readonly log: (line: string) => void;
}

/** Publishes in flight by default. */
export const DEFAULT_WINDOW = 256;
/** How often the sandboxes directory is listed (new and removed sandboxes). */
const SCAN_INTERVAL_MS = 500;
/** At most one checkpoint store per sandbox this often. */
export const CHECKPOINT_INTERVAL_MS = 100;
/** How long shutdown waits for unacknowledged publishes. */
const SHUTDOWN_FLUSH_MS = 10_000;
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

function describe(error: unknown): string {
  return ((error as Error | undefined)?.message ?? String(error)).replace(/\s+/g, ' ');
}

/** One line about the counters. */
export function formatStats(stats: ShipStats, shippers: readonly SandboxShipper[]): string {
  let worst: { name: string; ms: number; entries: number } | undefined;
  let inFlight = 0;
  const now = Date.now();
  for (const shipper of shippers) {
    const lag = shipper.lag(now);
    inFlight += lag.entries;
    if (worst === undefined || lag.ms > worst.ms) worst = { name: shipper.name, ...lag };
  }
  const megabytes = (stats.bytes / (1024 * 1024)).toFixed(1);
  const lag =
    worst === undefined || worst.ms === 0 ? 'lag 0 s' : `lag ${(worst.ms / 1000).toFixed(1)} s (${worst.name})`;
  return `${shippers.length} sandbox(es), ${stats.published} published, ${stats.duplicates} duplicate(s), ${megabytes} MB, ${stats.gaps} gap(s), ${stats.oversized} oversized, ${inFlight} in flight, ${lag}`;
}

/** Ships until `options.signal` aborts; resolves to the counters. */
export async function ship(options: ShipOptions): Promise<ShipStats> {
  const stats: ShipStats = { published: 0, duplicates: 0, bytes: 0, gaps: 0, oversized: 0 };
  const log = (line: string): void => options.log(`sandlog ship: ${line}`);
  const connection = await connectWithRetry(
    options,
    `sandlog ship ${options.host}`,
    options.signal,
    (state: NatsState) => {
      if (state.kind === 'unreachable') log(`NATS unreachable (${state.reason}); retrying`);
      else if (state.kind === 'connected') log(`connected to NATS at ${state.server}`);
      else if (state.kind === 'disconnected')
        log('lost the connection to NATS; reconnecting (nothing is skipped meanwhile)');
      else log(`reconnected to NATS at ${state.server}`);
    },
  );
  if (connection === undefined) return stats;
  try {
    await shipOver(connection, options, stats, log);
  } finally {
    await connection.drain().catch(() => connection.close().catch(() => undefined));
  }
  return stats;
}

async function shipOver(
  connection: NatsConnection,
  options: ShipOptions,
  stats: ShipStats,
  log: (line: string) => void,
): Promise<void> {
  let failing = false;
  const onPublishFailure = (error: unknown): void => {
    if (failing) return;
    failing = true;
    log(`JetStream does not acknowledge (${describe(error)}); retrying`);
  };
  const onPublishSuccess = (): void => {
    if (!failing) return;
    failing = false;
    log('JetStream acknowledges again');
  };

  const js = jetstream(connection, { timeout: 5_000 });
  let kv: Awaited<ReturnType<typeof openCheckpoints>>;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
    if (options.signal.aborted) return;
    try {
      const jsm = await manager(connection);
      await ensureStream(jsm, options.stream, options.replicas);
      kv = await openCheckpoints(js, options.replicas);
      onPublishSuccess();
      break;
    } catch (error) {
      if (error instanceof BrokerSetupError) throw error;
      onPublishFailure(error);
      await sleep(delay, options.signal);
    }
  }

  const context: ShipContext = {
    js,
    kv,
    host: options.host,
    home: options.home,
    sources: options.sources,
    window: new PublishWindow(options.window ?? DEFAULT_WINDOW),
    stats,
    maxPayload: connection.info?.max_payload ?? DEFAULT_MAX_PAYLOAD,
    onPublishFailure,
    onPublishSuccess,
    onNotice: log,
  };
  const shippers = new Map<string, SandboxShipper>();
  const refused = new Set<string>();
  const stopping: Promise<void>[] = [];

  const scan = async (): Promise<void> => {
    const names = await sandboxNames(options.home, refused, log);
    for (const name of names) {
      if (shippers.has(name)) continue;
      const shipper = new SandboxShipper(context, name);
      shippers.set(name, shipper);
      shipper.start();
    }
    for (const [name, shipper] of shippers) {
      if (names.has(name)) continue;
      shippers.delete(name);
      shipper.removed = true;
      stopping.push(shipper.stop(Date.now() + SHUTDOWN_FLUSH_MS));
    }
  };

  const checkpointTimer = setInterval(() => {
    for (const shipper of shippers.values()) void shipper.storeCheckpoint();
  }, CHECKPOINT_INTERVAL_MS);
  const statsTimer =
    options.statsIntervalMs === undefined
      ? undefined
      : setInterval(() => log(formatStats(stats, [...shippers.values()])), options.statsIntervalMs);
  try {
    while (!options.signal.aborted) {
      await scan().catch((error: unknown) => log(`cannot list ${sandboxesDir(options.home)}: ${describe(error)}`));
      await sleep(SCAN_INTERVAL_MS, options.signal);
    }
  } finally {
    clearInterval(checkpointTimer);
    if (statsTimer !== undefined) clearInterval(statsTimer);
    const deadline = Date.now() + SHUTDOWN_FLUSH_MS;
    await Promise.all([...stopping, ...[...shippers.values()].map((shipper) => shipper.stop(deadline))]);
    log(`stopped: ${formatStats(stats, [])}`);
  }
}

// The valid sandbox names that have a logs directory.
async function sandboxNames(home: string, refused: Set<string>, log: (line: string) => void): Promise<Set<string>> {
  let entries: string[];
  try {
    entries = await readdir(sandboxesDir(home));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw error;
  }
  const names = new Set<string>();
  for (const name of entries) {
    const problem = sandboxNameProblem(name);
    if (problem !== undefined) {
      if (!refused.has(name)) log(`skipping ${JSON.stringify(name)}: ${problem}`);
      refused.add(name);
      continue;
    }
    const logs = await stat(join(sandboxesDir(home), name, 'logs')).catch(() => undefined);
    if (logs?.isDirectory() === true) names.add(name);
  }
  return names;
}
