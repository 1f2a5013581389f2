import type { DeliveryGap, SeqRange } from '@vigil/contracts';
import type { IngestItem } from '../database/repositories/ingest.repository';
import type { SequenceState } from './sequence-tracker';

/** A validated edge message ready for storage (defined once, beside the statements that store it). */
export type { IngestItem };

/** The place in its stream of a refused message: site and node from the topic, boot and seq from the payload. */
export interface SeqSlot {
  siteId: string;
  nodeId: string;
  bootId: string;
  seq: number;
}

/** An invalid message kept for diagnosis: never silently dropped, never allowed to stop the stream. */
export interface DeadLetter {
  topic: string;
  code: string;
  /** Dotted path of the first offending field, when a field is at fault. */
  path: string | null;
  reason: string;
  /** The raw payload, truncated to a bounded prefix. */
  payload: Buffer;
  payloadBytes: number;
  receivedAt: Date;
  /**
   * Where the refused message sat in its stream, when its envelope was readable: the commit closes that seq as
   * rejected, so the acknowledgement moves past it and no replay is asked for it.
   */
  slot?: SeqSlot | null;
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

/** Seqs of one stream that refused messages closed for the first time (a redelivered refusal adds none). */
export interface RecordedRejection extends StreamKey {
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
  /** Seqs this batch closed as rejected for the first time (dead letters with a readable envelope). */
  rejected: RecordedRejection[];
  /** Valid items the tables refused (e.g. older than retention): dead-lettered, not stored. */
  notStored?: IngestItem[];
}

/**
 * The storage side of ingest, implemented over the database. One call = one transaction: store new items
 * idempotently (on node, boot, seq), store dead letters, merge the batch's seqs, the seqs of its refused messages
 * and announced losses into the delivery state, and record the newly closed losses and rejections.
 */
export abstract class IngestStore {
  abstract commit(
    items: IngestItem[],
    deadLetters: DeadLetter[],
    now: Date,
    losses?: LossReport[],
  ): Promise<CommitResult>;
}
