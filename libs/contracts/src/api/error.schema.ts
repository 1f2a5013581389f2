import { z } from 'zod';

/**
 * Every error code of the REST API (twenty-style typed codes): the body says which, clients switch on it, never on
 * message text. The centre maps each code to its HTTP status in one table (`apps/control-center/src/common`).
 */
export const API_ERROR_CODES = [
  /** The request is not readable at all (malformed JSON, wrong content type). */
  'BAD_REQUEST',
  /** The request is readable but a field is wrong: `details` names each field path. */
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  /** A concurrent change won (optimistic concurrency) or the target state does not allow the action. */
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  /** A dependency is down (database, broker); try again later. */
  'NOT_READY',
  /** Anything else; the body never says more (details are in the centre's log). */
  'INTERNAL',
] as const;
export const ApiErrorCodeSchema = z.enum(API_ERROR_CODES);
export type ApiErrorCode = z.infer<typeof ApiErrorCodeSchema>;

/** One offending field: dotted path inside the part named by `in` (`body`, `query`, `param`), and what is wrong. */
export const ApiErrorDetailSchema = z.object({
  in: z.enum(['body', 'query', 'param', 'custom']).optional(),
  path: z.string(),
  message: z.string(),
});
export type ApiErrorDetail = z.infer<typeof ApiErrorDetailSchema>;

/** The body of every 4xx and 5xx answer. */
export const ApiErrorBodySchema = z.object({
  error: ApiErrorCodeSchema,
  message: z.string(),
  details: z.array(ApiErrorDetailSchema).optional(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;
