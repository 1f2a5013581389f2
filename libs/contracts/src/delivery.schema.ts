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

const SeqRangeSchema = z
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
