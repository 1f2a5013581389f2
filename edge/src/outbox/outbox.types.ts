import type { EvidenceJpegHeader, MessageInputOf } from '@vigil/contracts';

/** Every message kind that goes through the outbox: the sequenced edge kinds (the last will is the one exception). */
export const OUTBOX_KINDS = [
  'heartbeat',
  'count',
  'crossing',
  'camera_status',
  'node_status',
  'evidence_jpeg',
  'evidence',
  'event',
  'config_ack',
] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];
export type OutboxJsonKind = Exclude<OutboxKind, 'evidence_jpeg'>;

/**
 * Eviction classes, lowest first: when the byte bound is reached, the lowest class present loses its oldest entry.
 * Alerts (and the evidence metadata and config acknowledgements that explain them) go last.
 */
export const EVICTION_CLASS: Record<OutboxKind, number> = {
  heartbeat: 0,
  count: 1,
  crossing: 1,
  camera_status: 2,
  node_status: 2,
  evidence_jpeg: 3,
  evidence: 4,
  event: 4,
  config_ack: 4,
};

/** The envelope the outbox adds: `bootId` and `seq` when the entry is first handed to the broker, `ts` at enqueue. */
type Body<K extends OutboxJsonKind> = Omit<MessageInputOf<K>, 'bootId' | 'seq' | 'ts'> & { ts?: string };

/** One message to store: a JSON contract message without its delivery envelope, or an evidence image. */
export type OutboxItem =
  | { [K in OutboxJsonKind]: { kind: K; cameraId: string | null; message: Body<K> } }[OutboxJsonKind]
  | {
      kind: 'evidence_jpeg';
      cameraId: string;
      header: Omit<EvidenceJpegHeader, 'bootId' | 'seq' | 'ts'> & { ts?: string };
      jpeg: Buffer;
    };

export interface EnqueueResult {
  /** Row id (the global publish order); null when the entry was not stored. */
  id: number | null;
  kind: OutboxKind;
  /** False when the byte bound dropped this very entry (it was the least valuable one); counted as an eviction. */
  stored: boolean;
}

/** An entry ready to publish: its identity is fixed once assigned and never changes (resends, replays, restarts). */
export interface PublishableEntry {
  id: number;
  kind: OutboxKind;
  topic: string;
  retain: boolean;
  bootId: string;
  seq: number;
  payload: Buffer;
}

export interface OutboxStats {
  depth: number;
  bytes: number;
  oldestAgeS: number | null;
  /** Evictions by kind since this outbox was opened (this boot). */
  evictedSinceBoot: Record<OutboxKind, number>;
  /** Evictions by kind over the life of the outbox directory (persisted, survives restarts). */
  evictedTotal: Record<OutboxKind, number>;
  /** Of the evictions since boot: entries that had been published (held a seq) and were not committed. */
  lostSinceBoot: number;
  /** Lost seqs still announced to the centre (its commit ack has not passed them yet; persisted). */
  lostOutstanding: number;
}

export type EvictionReason = 'bytes' | 'age';

export interface EvictionReport {
  reason: EvictionReason;
  byKind: Partial<Record<OutboxKind, number>>;
  ids: number[];
}

/** Pino-compatible subset, so the edge's pino logger can be passed as is. */
export interface OutboxLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const noopOutboxLogger: OutboxLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};
