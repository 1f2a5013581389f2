import type { EdgeKind, ParsedMessage } from '@vigil/contracts';
import type { SequenceState } from './sequence-tracker';

type EdgeParsed = Extract<ParsedMessage, { kind: EdgeKind }>;

/** A validated edge message ready for storage; identity comes from the topic. */
export interface IngestItem {
  kind: EdgeParsed['kind'];
  siteId: string;
  nodeId: string;
  cameraId: string | null;
  message: EdgeParsed['message'];
  receivedAt: Date;
}

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
}

/**
 * The storage side of ingest, implemented over the database. One call = one transaction: store new items
 * idempotently (on node, boot, seq), store dead letters, and merge the batch's seqs into the delivery state.
 */
export abstract class IngestStore {
  abstract commit(items: IngestItem[], deadLetters: DeadLetterRow[], now: Date): Promise<CommitResult>;
}
