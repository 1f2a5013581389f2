import { z } from 'zod';
import {
  CountSchema,
  DeliverySchema,
  IdSchema,
  INT4_MAX,
  ObjectClassSchema,
  PointSchema,
  ScoreSchema,
  TimestampSchema,
  UInt4Schema,
  UuidSchema,
} from './common.schema';

/**
 * Direction of a crossing relative to the configured line `start -> end`. Side A is to the left of that arrow as
 * drawn on the image (y grows downwards): for a line drawn left to right, side A is above it. Each direction has a
 * human label in the line's configuration (e.g. "northbound").
 */
export const DIRECTIONS = ['a_to_b', 'b_to_a'] as const;
export const DirectionSchema = z.enum(DIRECTIONS);
export type Direction = z.infer<typeof DirectionSchema>;

/** Per-interval aggregate for one line: one row per (class, direction) seen; absent rows mean zero. */
export const LineCountSchema = DeliverySchema.extend({
  lineId: IdSchema,
  intervalStart: TimestampSchema,
  intervalEnd: TimestampSchema,
  counts: z.array(z.object({ objectClass: ObjectClassSchema, direction: DirectionSchema, count: CountSchema })).max(64),
})
  .refine((c) => Date.parse(c.intervalEnd) > Date.parse(c.intervalStart), {
    message: 'intervalEnd must be after intervalStart',
    path: ['intervalEnd'],
  })
  // The interval's total (and a pair listed twice, summed) is stored as integer too.
  .refine((c) => c.counts.reduce((n, r) => n + r.count, 0) <= INT4_MAX, {
    message: `counts must sum to at most ${INT4_MAX} (integer column)`,
    path: ['counts'],
  });
export type LineCount = z.infer<typeof LineCountSchema>;

/** One road user crossing one line, for audits of the aggregates and for per-vehicle studies. */
export const CrossingSchema = DeliverySchema.extend({
  crossingId: UuidSchema,
  lineId: IdSchema,
  trackId: UInt4Schema,
  objectClass: ObjectClassSchema,
  direction: DirectionSchema,
  at: TimestampSchema,
  /** Where the bottom-centre of the box crossed, normalised. */
  point: PointSchema,
  score: ScoreSchema,
});
export type Crossing = z.infer<typeof CrossingSchema>;
