import { z } from 'zod';
import { EVENT_PHASES } from '../event.schema';
import { IdSchema, TimestampSchema } from '../common.schema';
import { CursorSchema, PageQuerySchema, pageSchema } from './pagination.schema';

/**
 * What an alert is about: a violation the edge detected (one alert per violation event id), or a system condition
 * the centre derived from edge status (camera down, node offline) or delivery (outbox evictions, delivery losses).
 */
export const VIOLATION_ALERT_KINDS = ['parking_violation', 'pedestrian_blocking'] as const;
export const SYSTEM_ALERT_KINDS = ['camera_down', 'node_offline', 'outbox_eviction', 'delivery_loss'] as const;
export const ALERT_KINDS = [...VIOLATION_ALERT_KINDS, ...SYSTEM_ALERT_KINDS] as const;
export const AlertKindSchema = z.enum(ALERT_KINDS);
export type AlertKind = z.infer<typeof AlertKindSchema>;
export type ViolationAlertKind = (typeof VIOLATION_ALERT_KINDS)[number];
export type SystemAlertKind = (typeof SYSTEM_ALERT_KINDS)[number];

export const ALERT_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const AlertSeveritySchema = z.enum(ALERT_SEVERITIES);
export type AlertSeverity = z.infer<typeof AlertSeveritySchema>;

/**
 * Severity per kind, defined once (the centre stamps it on creation, the console sorts and sounds by it). A node
 * offline blinds every camera it serves; a camera down blinds one; a pedestrian blocked is a safety matter; losses
 * and evictions are data gaps to investigate, not emergencies.
 */
export const ALERT_SEVERITY: Readonly<Record<AlertKind, AlertSeverity>> = {
  pedestrian_blocking: 'high',
  parking_violation: 'medium',
  node_offline: 'critical',
  camera_down: 'high',
  outbox_eviction: 'medium',
  delivery_loss: 'medium',
};

/** The operator workflow (`new -> acknowledged -> in_progress -> resolved | false_positive`). */
export const ALERT_STATES = ['new', 'acknowledged', 'in_progress', 'resolved', 'false_positive'] as const;
export const AlertStateSchema = z.enum(ALERT_STATES);
export type AlertState = z.infer<typeof AlertStateSchema>;

/** Workflow actions that move the state. */
export const ALERT_TRANSITION_ACTIONS = ['acknowledge', 'start', 'resolve', 'false_positive'] as const;
export const AlertTransitionActionSchema = z.enum(ALERT_TRANSITION_ACTIONS);
export type AlertTransitionAction = z.infer<typeof AlertTransitionActionSchema>;

/** Every action an alert's history records (transitions, operator actions, and the system's own changes). */
export const ALERT_HISTORY_ACTIONS = [
  'created',
  ...ALERT_TRANSITION_ACTIONS,
  'assign',
  'note',
  'confirm',
  'violation_update',
  'violation_end',
  'occurred',
  'cleared',
] as const;
export const AlertHistoryActionSchema = z.enum(ALERT_HISTORY_ACTIONS);
export type AlertHistoryAction = z.infer<typeof AlertHistoryActionSchema>;

/** The violation's own lifecycle as the edge reports it, shown beside the workflow state. */
export const ViolationStateSchema = z.enum(EVENT_PHASES);
export type ViolationState = z.infer<typeof ViolationStateSchema>;

/** Longest operator note, in characters. */
export const ALERT_NOTE_MAX_CHARS = 2000;
const NoteSchema = z.string().trim().min(1, 'must not be empty').max(ALERT_NOTE_MAX_CHARS);

/** Actor name as recorded in history: a username, or `system` for the centre's own changes. */
const ActorSchema = z.string().min(1).max(128);

export const AlertSchema = z.object({
  /** Monotonic (bigint, as a decimal string): the cursor of the list. */
  id: CursorSchema,
  siteId: IdSchema,
  nodeId: IdSchema,
  cameraId: IdSchema.nullable(),
  kind: AlertKindSchema,
  severity: AlertSeveritySchema,
  /** The violation event id, or the system condition's key. */
  source: z.string().min(1).max(512),
  /** Null for system alerts. */
  violationState: ViolationStateSchema.nullable(),
  state: AlertStateSchema,
  assignee: ActorSchema.nullable(),
  /** Human oversight: the operator who confirmed a parking violation, and when. */
  confirmedBy: ActorSchema.nullable(),
  confirmedAt: TimestampSchema.nullable(),
  /** Bumped by every workflow change; a change must name the version it saw (optimistic concurrency). */
  version: z.int().min(1),
  /** When the violation or condition began (edge time). */
  openedAt: TimestampSchema,
  /** When the violation ended or the condition cleared (null while it lasts). */
  clearedAt: TimestampSchema.nullable(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  details: z.record(z.string(), z.unknown()),
});
export type Alert = z.infer<typeof AlertSchema>;

export const AlertHistoryEntrySchema = z.object({
  alertId: CursorSchema,
  at: TimestampSchema,
  actor: ActorSchema,
  action: AlertHistoryActionSchema,
  fromState: AlertStateSchema.nullable(),
  toState: AlertStateSchema.nullable(),
  note: z.string().max(ALERT_NOTE_MAX_CHARS).nullable(),
});
export type AlertHistoryEntry = z.infer<typeof AlertHistoryEntrySchema>;

/** A query-string value given once or repeated (`?state=new&state=acknowledged`). */
function oneOrMany<T extends z.ZodType>(item: T) {
  return z.union([item, z.array(item).min(1).max(100)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);
}

/**
 * `GET /alerts`: filters, then the page. `order=desc` (default, newest first): `after` is the smallest id held,
 * the page holds older ones. `order=asc`: ids greater than `after` (a console catching up after a reconnect).
 */
export const AlertListQuerySchema = PageQuerySchema.extend({
  siteId: oneOrMany(IdSchema).optional(),
  cameraId: IdSchema.optional(),
  kind: oneOrMany(AlertKindSchema).optional(),
  state: oneOrMany(AlertStateSchema).optional(),
  severity: oneOrMany(AlertSeveritySchema).optional(),
  /** Created at or after. */
  from: TimestampSchema.optional(),
  /** Created before. */
  to: TimestampSchema.optional(),
  order: z.enum(['asc', 'desc']).default('desc'),
}).refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) < Date.parse(q.to), {
  message: 'from must be before to',
  path: ['from'],
});
export type AlertListQuery = z.infer<typeof AlertListQuerySchema>;

export const AlertPageSchema = pageSchema(AlertSchema);

/** `GET /alerts/:id`: the alert and its history, oldest first. */
export const AlertDetailSchema = AlertSchema.extend({ history: z.array(AlertHistoryEntrySchema) });
export type AlertDetail = z.infer<typeof AlertDetailSchema>;

/** `POST /alerts/:id/transitions`. */
export const AlertTransitionBodySchema = z.strictObject({
  action: AlertTransitionActionSchema,
  expectedVersion: z.int().min(1),
  note: NoteSchema.optional(),
});
export type AlertTransitionBody = z.infer<typeof AlertTransitionBodySchema>;

/** `POST /alerts/:id/assign`: null unassigns. */
export const AlertAssignBodySchema = z.strictObject({
  assignee: ActorSchema.nullable(),
  expectedVersion: z.int().min(1),
});
export type AlertAssignBody = z.infer<typeof AlertAssignBodySchema>;

/** `POST /alerts/:id/notes`. */
export const AlertNoteBodySchema = z.strictObject({ note: NoteSchema });
export type AlertNoteBody = z.infer<typeof AlertNoteBodySchema>;

/** `POST /alerts/:id/confirm`: a named operator confirms a parking violation (human oversight). */
export const AlertConfirmBodySchema = z.strictObject({ expectedVersion: z.int().min(1) });
export type AlertConfirmBody = z.infer<typeof AlertConfirmBodySchema>;

/** `GET /alerts/export`: confirmed parking violations whose violation began in [from, to), of one site or all. */
export const ViolationExportQuerySchema = z
  .strictObject({
    format: z.enum(['csv', 'json']).default('csv'),
    from: TimestampSchema.optional(),
    to: TimestampSchema.optional(),
    siteId: IdSchema.optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) < Date.parse(q.to), {
    message: 'from must be before to',
    path: ['from'],
  });
export type ViolationExportQuery = z.infer<typeof ViolationExportQuerySchema>;

/**
 * One confirmed parking violation as exported: who confirmed it and when (human oversight), the evidence image's
 * sha256 (the integrity of the proof) and the model that detected it (traceability), from the stored event.
 */
export const ViolationExportRowSchema = z.object({
  alertId: CursorSchema,
  siteId: IdSchema,
  nodeId: IdSchema,
  cameraId: IdSchema.nullable(),
  eventId: z.string(),
  openedAt: TimestampSchema,
  clearedAt: TimestampSchema.nullable(),
  state: AlertStateSchema,
  confirmedBy: ActorSchema,
  confirmedAt: TimestampSchema,
  evidenceId: z.string().nullable(),
  evidenceSha256: z.string().nullable(),
  modelId: z.string().nullable(),
  modelSha256: z.string().nullable(),
  modelScoreThreshold: z.number().nullable(),
});
export type ViolationExportRow = z.infer<typeof ViolationExportRowSchema>;

/** The CSV export's columns, in order (the JSON export's fields are the same). */
export const VIOLATION_EXPORT_COLUMNS = Object.keys(ViolationExportRowSchema.shape) as (keyof ViolationExportRow)[];
