import { z } from 'zod';

/** `GET /health/live`: the process is up. */
export const LivenessResponseSchema = z.object({ status: z.literal('ok') });
export type LivenessResponse = z.infer<typeof LivenessResponseSchema>;

/** What readiness checks: each true when working. */
export const ReadinessChecksSchema = z.strictObject({
  /** A trivial statement answers within 2 s. */
  database: z.boolean(),
  /** The last ingest commit succeeded. */
  ingest: z.boolean(),
  /** The MQTT session is connected and subscribed. */
  mqtt: z.boolean(),
});
export type ReadinessChecks = z.infer<typeof ReadinessChecksSchema>;

/** `GET /health/ready`: 200 with `ok` when every check passes, otherwise 503 with `unavailable`. */
export const ReadinessResponseSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: ReadinessChecksSchema,
});
export type ReadinessResponse = z.infer<typeof ReadinessResponseSchema>;
