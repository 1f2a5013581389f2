import type { MessageOf } from '@vigil/contracts';
import type { StoredEdgeKind } from '../database/repositories/ingest.repository';
import type { DeadLetter, IngestItem, RecordedLoss } from './ingest.types';

/** An item of one kind, its message typed accordingly (`itemsOfKind`). */
export type IngestItemOf<K extends StoredEdgeKind> = IngestItem & { kind: K; message: MessageOf<K> };

/**
 * `ingest.committed`: what one committed batch holds. Site, node and camera of every item come from its topic.
 * `items` are the batch's stored messages: stored by this commit or, for a replay or redelivery, already stored before
 * (`duplicates` counts those), so consumers key on message identity (e.g. an event's `eventId`).
 */
export interface IngestCommittedEvent {
  /** Centre clock when the transaction committed. */
  committedAt: Date;
  items: readonly IngestItem[];
  /** Messages refused at validation, now in the dead-letter table. */
  deadLetters: readonly DeadLetter[];
  /** Seqs that edges announced lost, closed for the first time by this commit. */
  losses: readonly RecordedLoss[];
  inserted: number;
  duplicates: number;
}

/** The committed items of one kind, e.g. `itemsOfKind(e.items, 'event')` for detection events. */
export function itemsOfKind<K extends StoredEdgeKind>(items: readonly IngestItem[], kind: K): IngestItemOf<K>[] {
  return items.filter((i): i is IngestItemOf<K> => i.kind === kind);
}
