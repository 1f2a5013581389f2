import { z } from 'zod';
import { TimestampSchema, UuidSchema } from './common.schema';

/**
 * Centre -> edge: every message of boot `bootId` with `seq <= upToSeq` is committed to the database. Only now may
 * the edge delete those outbox entries (a broker PUBACK is not a disk write). Cumulative, so a lost ack is
 * repaired by the next one.
 */
export const CommitAckSchema = z.object({
  bootId: UuidSchema,
  upToSeq: z.int().min(0),
  ts: TimestampSchema,
});
export type CommitAck = z.infer<typeof CommitAckSchema>;

export const SeqRangeSchema = z
  .object({ from: z.int().min(1), to: z.int().min(1) })
  .refine((r) => r.to >= r.from, { message: 'to must be >= from', path: ['to'] });

/** Centre -> edge: the centre saw a sequence gap and asks for these messages again (inclusive ranges). */
export const ReplayRequestSchema = z.object({
  requestId: UuidSchema,
  bootId: UuidSchema,
  ranges: z.array(SeqRangeSchema).min(1).max(100),
  ts: TimestampSchema,
});
export type ReplayRequest = z.infer<typeof ReplayRequestSchema>;
export type SeqRange = z.infer<typeof SeqRangeSchema>;

/** Most ranges one `delivery_gap` message carries, over all its boots (the rest follow once these are acknowledged). */
export const MAX_LOST_RANGES = 100;
/** Most boots one `delivery_gap` message names. */
export const MAX_LOST_BOOTS = 16;

/**
 * Edge -> centre, not sequenced: sequence numbers this node assigned (published at least once) and can no longer
 * deliver, because its outbox's byte or age bound evicted them before the centre committed them. The centre closes
 * them in its delivery state (the cumulative ack may pass them, no replay is asked for them) and records the loss.
 * Repeated from the edge's durable record until a commit ack of that boot reaches past them; idempotent.
 */
export const DeliveryGapSchema = z
  .object({
    /** Boot of the announcing process (the lost seqs may belong to earlier boots, see `lost[].bootId`). */
    bootId: UuidSchema,
    ts: TimestampSchema,
    /** The replay request this answers, null for an unsolicited announcement. */
    requestId: UuidSchema.nullable(),
    lost: z
      .array(z.object({ bootId: UuidSchema, ranges: z.array(SeqRangeSchema).min(1).max(MAX_LOST_RANGES) }))
      .min(1)
      .max(MAX_LOST_BOOTS),
  })
  .refine((m) => m.lost.reduce((n, l) => n + l.ranges.length, 0) <= MAX_LOST_RANGES, {
    message: `at most ${MAX_LOST_RANGES} ranges in all`,
    path: ['lost'],
  });
export type DeliveryGap = z.infer<typeof DeliveryGapSchema>;

/** Most entries one `batch` message carries. */
export const MAX_BATCH_ENTRIES = 500;

/**
 * Edge -> centre, not sequenced itself: several outbox entries in one MQTT message, each exactly the JSON message it
 * would have been on its own topic (with its own bootId and seq). The edge batches when it has a backlog (a drain
 * after an outage, a replay, a busy node) so the broker, the edge and the centre handle one packet per batch instead
 * of one per entry. `topic` is the entry's topic below the node, e.g. `camera/cam-1/crossing`, so the identity still
 * comes from the batch's own topic. Only sequenced, non-retained JSON kinds may be batched (BATCHABLE_KINDS). The
 * envelope is checked here; each entry is validated on its own (unpackBatch), so one bad entry is dead-lettered
 * alone and the rest are stored.
 */
export const EdgeBatchSchema = z.object({
  entries: z
    .array(z.object({ topic: z.string().min(1).max(200), message: z.unknown() }))
    .min(1)
    .max(MAX_BATCH_ENTRIES),
});
export type EdgeBatch = z.infer<typeof EdgeBatchSchema>;
