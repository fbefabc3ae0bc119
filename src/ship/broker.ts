/**
 * What sandlog ship needs on the broker: the stream that takes every entry
 * (`SANDLOG`, subjects `sandlog.>`, file storage) and the KV bucket of
 * checkpoints, each created when missing and used as it is otherwise.
 *
 * Duplicate window: 2 minutes (JetStream's default). A checkpoint is stored
 * at most 100 ms after its entry was acknowledged, so a shipper that crashes
 * re-publishes at most ~100 ms (plus what was in flight) of entries; they are
 * dropped as duplicates when it restarts within the window. A restart after
 * a longer outage can repeat those few entries (never lose any).
 */
import {
  jetstreamManager,
  StorageType,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { SandlogError } from '../errors.js';
import { SUBJECT_PREFIX } from './naming.js';

export { DEFAULT_STREAM } from './naming.js';
/** KV bucket of checkpoints. */
export const CHECKPOINT_BUCKET = 'sandlog-checkpoints';
/** The duplicate window of a stream sandlog creates. */
export const DUPLICATE_WINDOW_MS = 120_000;
/** Subjects of the stream. */
export const STREAM_SUBJECTS = `${SUBJECT_PREFIX}.>`;

/** The broker holds something sandlog cannot use (a stream with other subjects…): retrying would not help. */
export class BrokerSetupError extends SandlogError {
  constructor(message: string) {
    super('BROKER_SETUP', message);
  }
}

function isNotFound(error: unknown): boolean {
  return /not found/i.test((error as Error | undefined)?.message ?? '');
}

/** The stream `name`, created (with `replicas`, file storage, the duplicate window above) when missing. */
export async function ensureStream(jsm: JetStreamManager, name: string, replicas: number): Promise<StreamInfo> {
  for (let attempt = 0; ; attempt++) {
    try {
      const info = await jsm.streams.info(name);
      const subjects = info.config.subjects ?? [];
      if (!subjects.includes(STREAM_SUBJECTS) && !subjects.includes('>')) {
        throw new BrokerSetupError(
          `stream ${name} exists but does not take ${STREAM_SUBJECTS} (its subjects: ${subjects.join(', ') || 'none'})`,
        );
      }
      return info;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    try {
      return await jsm.streams.add({
        name,
        subjects: [STREAM_SUBJECTS],
        storage: StorageType.File,
        num_replicas: replicas,
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        discard: DiscardPolicy.Old,
      });
    } catch (error) {
      // Another shipper created it meanwhile: use it.
      if (attempt === 0 && /already in use|exists/i.test((error as Error).message)) continue;
      if (/overlap/i.test((error as Error).message))
        throw new BrokerSetupError(`cannot create stream ${name}: ${(error as Error).message}`);
      throw error;
    }
  }
}

/** The checkpoint bucket, created with `replicas` when missing. */
export async function openCheckpoints(js: JetStreamClient, replicas: number): Promise<KV> {
  return new Kvm(js).create(CHECKPOINT_BUCKET, { replicas, history: 1, storage: StorageType.File });
}

/** A JetStream manager (fails while JetStream does not answer). */
export function manager(connection: NatsConnection): Promise<JetStreamManager> {
  return jetstreamManager(connection, { timeout: 5_000 });
}
