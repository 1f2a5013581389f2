import { z } from 'zod';
import {
  BoxSchema,
  DeliverySchema,
  IdSchema,
  ObjectClassSchema,
  ScoreSchema,
  Sha256Schema,
  TextSchema,
  TimestampSchema,
  UInt4Schema,
  UuidSchema,
} from './common.schema';

export const EVENT_KINDS = ['parking_violation', 'pedestrian_blocking'] as const;
export const EventKindSchema = z.enum(EVENT_KINDS);
export type EventKind = z.infer<typeof EventKindSchema>;

export const EVENT_PHASES = ['start', 'update', 'end'] as const;
export const EventPhaseSchema = z.enum(EVENT_PHASES);
export type EventPhase = z.infer<typeof EventPhaseSchema>;

/**
 * Which model and settings produced a decision, so every automated decision can be explained later
 * (AI Act: traceability of high-risk-adjacent automated processing).
 */
export const ModelProvenanceSchema = z.object({
  modelId: TextSchema.min(1).max(128),
  sha256: Sha256Schema,
  scoreThreshold: ScoreSchema,
  nmsIou: ScoreSchema,
  /** Per-class score thresholds where they differ from `scoreThreshold`. */
  classThresholds: z.record(TextSchema.max(64), ScoreSchema).optional(),
  trackerId: TextSchema.min(1).max(64).optional(),
});
export type ModelProvenance = z.infer<typeof ModelProvenanceSchema>;

export const EvidenceRefSchema = z.object({
  evidenceId: UuidSchema,
  sha256: Sha256Schema,
});

/**
 * A rule's detection event, Frigate-style: one stable `eventId` for the whole lifecycle
 * `start -> update* -> end`. A vehicle that drops out of tracking and reappears in place continues the same event.
 */
export const DetectionEventSchema = DeliverySchema.extend({
  eventId: UuidSchema,
  phase: EventPhaseSchema,
  kind: EventKindSchema,
  ruleId: IdSchema,
  zoneId: IdSchema,
  objectClass: ObjectClassSchema,
  /** Tracker id of the object now (may change over the event's life if the object was re-acquired). */
  trackId: UInt4Schema,
  score: ScoreSchema,
  maxScore: ScoreSchema,
  box: BoxSchema,
  startedAt: TimestampSchema,
  /** Set on `end` only. */
  endedAt: TimestampSchema.nullable(),
  endReason: z.enum(['departed', 'schedule_ended', 'lost', 'rule_removed', 'shutdown']).nullable(),
  dwellSeconds: z.number().min(0),
  /** Pedestrians present in or next to the zone (pedestrian blocking); null for other kinds. */
  pedestriansPresent: UInt4Schema.nullable(),
  evidence: EvidenceRefSchema.nullable(),
  model: ModelProvenanceSchema,
})
  .refine((e) => (e.phase === 'end') === (e.endedAt !== null), {
    message: 'endedAt is required on "end" and must be null otherwise',
    path: ['endedAt'],
  })
  .refine((e) => (e.phase === 'end') === (e.endReason !== null), {
    message: 'endReason is required on "end" and must be null otherwise',
    path: ['endReason'],
  })
  .refine((e) => e.maxScore >= e.score, { message: 'maxScore must be >= score', path: ['maxScore'] });
export type DetectionEvent = z.infer<typeof DetectionEventSchema>;
