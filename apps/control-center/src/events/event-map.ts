import type { AlertCreatedEvent, AlertUpdatedEvent } from '../alerts/alert.events';
import type { IngestCommittedEvent } from '../ingest/ingest.events';

/**
 * Every in-process event of the centre: name -> payload (immich's `EventMap`). A producer owns its payload type;
 * listing it here is what makes `emit` and `on` type-checked end to end.
 */
export interface EventMap {
  /** A batch is durably committed (messages, dead letters, delivery state) and its acknowledgements are sent. */
  'ingest.committed': IngestCommittedEvent;
  /** An alert is committed (pushes hang on this). */
  'alert.created': AlertCreatedEvent;
  /** A committed change to an alert: workflow, assignee, note, confirmation, violation state, condition cleared. */
  'alert.updated': AlertUpdatedEvent;
}

export type EventName = keyof EventMap;
