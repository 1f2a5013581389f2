import type { IngestCommittedEvent } from '../ingest/ingest.events';

/**
 * Every in-process event of the centre: name -> payload (immich's `EventMap`). A producer owns its payload type;
 * listing it here is what makes `emit` and `on` type-checked end to end.
 */
export interface EventMap {
  /** A batch is durably committed (messages, dead letters, delivery state) and its acknowledgements are sent. */
  'ingest.committed': IngestCommittedEvent;
}

export type EventName = keyof EventMap;
