import { z } from 'zod';

/** Road-user classes Vigil reasons about; detectors map their own class ids onto these. */
export const OBJECT_CLASSES = ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck'] as const;
export const ObjectClassSchema = z.enum(OBJECT_CLASSES);
export type ObjectClass = z.infer<typeof ObjectClassSchema>;

/** Classes that count as a vehicle for parking / blocking rules and cross-class NMS. */
export const VEHICLE_CLASSES: readonly ObjectClass[] = ['car', 'motorcycle', 'bus', 'truck'];

/** Ids used in topics: MQTT-safe (no wildcards, no slash), short and human-readable. */
export const IdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'must be letters, digits, "_" or "-" (no "/", "+", "#")');

/** ISO-8601 timestamp with offset (UTC "Z" recommended). */
export const TimestampSchema = z.iso.datetime({ offset: true });

/** Normalised coordinate in [0, 1] relative to the frame, so zones survive resolution changes. */
export const UnitSchema = z.number().min(0).max(1);

export const PointSchema = z.tuple([UnitSchema, UnitSchema]);

/** Box in normalised frame coordinates: [x1, y1, x2, y2], x1 <= x2, y1 <= y2. */
export const BoxSchema = z
  .tuple([UnitSchema, UnitSchema, UnitSchema, UnitSchema])
  .refine(([x1, y1, x2, y2]) => x1 <= x2 && y1 <= y2, 'box must be [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2');

export const ScoreSchema = z.number().min(0).max(1);
export const Sha256Schema = z.string().regex(/^[a-f0-9]{64}$/, 'must be a lowercase hex sha256');

export const CountSchema = z.int().nonnegative();
export const UuidSchema = z.uuid();

/**
 * Delivery envelope carried by every sequenced edge message. `seq` restarts at 1 for every boot of the edge
 * process and grows by one per message across all of that node's topics, so the centre can detect gaps per
 * (node, boot) and the edge can drop outbox entries once a commit acknowledgement covers them.
 */
export const DeliverySchema = z.object({
  bootId: UuidSchema,
  seq: z.int().min(1),
  /** When the edge created the message. */
  ts: TimestampSchema,
});
export type Delivery = z.infer<typeof DeliverySchema>;
