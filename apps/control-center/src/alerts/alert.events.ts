import type { Alert, AlertHistoryAction } from '@vigil/contracts';

/** `alert.created`: a new alert is committed (emitted after the commit, so a push never shows an unstored alert). */
export interface AlertCreatedEvent {
  alert: Alert;
}

/** `alert.updated`: a committed change to an alert (its state after the change, and what changed, by whom). */
export interface AlertUpdatedEvent {
  alert: Alert;
  action: AlertHistoryAction;
  /** A username, or `system` for the centre's own changes. */
  actor: string;
}
