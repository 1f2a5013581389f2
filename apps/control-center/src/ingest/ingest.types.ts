import type { DeliveryGap, SeqRange } from '@vigil/contracts';
import type { IngestItem } from '../database/repositories/ingest.repository';
import type { SequenceState } from './sequence-tracker';

/** A validated edge message ready for storage (defined once, beside the statements that store it). */
export type { IngestItem };

/** An invalid message kept for diagnosis: never silently dropped, never allowed to stop the stream. */
export interface DeadLetterRow {
  topic: string;
  code: string;
  /** Dotted path of the first offending field, when a field is at fault. */
  path: string | null;
  reason: string;
  /** The raw payload, truncated to a bounded prefix. */
  payload: Buffer;
  payloadBytes: number;
  receivedAt: Date;
}

/** An edge's announcement of seqs it can no longer deliver (`delivery_gap`); site and node from the topic. */
export interface LossReport {
  siteId: string;
  nodeId: string;
  /** Boot of the announcing process. */
  reporterBootId: string;
  /** The replay request it answers, if any. */
  requestId: string | null;
  /** Edge time of the announcement. */
  ts: string;
  lost: DeliveryGap['lost'];
  receivedAt: Date;
}

/** Seqs of one stream that an announcement closed for the first time. */
export interface RecordedLoss extends StreamKey {
  ranges: SeqRange[];
  /** How many seqs the ranges hold. */
  seqs: number;
}

export interface StreamKey {
  siteId: string;
  nodeId: string;
  bootId: string;
}

export interface CommittedStream extends StreamKey {
  state: SequenceState;
}

export interface CommitResult {
  inserted: number;
  duplicates: number;
  deadLettersEvicted: number;
  /** Delivery state, after this batch, of every stream the batch touched. */
  streams: CommittedStream[];
  /** Announced-lost seqs this batch closed for the first time (a repeated announcement adds none). */
  losses: RecordedLoss[];
}

/**
 * The storage side of ingest, implemented over the database. One call = one transaction: store new items
 * idempotently (on node, boot, seq), store dead letters, merge the batch's seqs and announced losses into the
 * delivery state, and record the newly closed losses.
 */
export abstract class IngestStore {
  abstract commit(
    items: IngestItem[],
    deadLetters: DeadLetterRow[],
    now: Date,
    losses?: LossReport[],
  ): Promise<CommitResult>;
}
