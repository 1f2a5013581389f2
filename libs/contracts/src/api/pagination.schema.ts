import { z } from 'zod';

export const PAGE_LIMIT_DEFAULT = 50;
export const PAGE_LIMIT_MAX = 500;
/** Largest PostgreSQL `bigint`. */
const BIGINT_MAX = 9223372036854775807n;

/**
 * A position in a list ordered by a monotonic id: the last id the client holds (a decimal integer, as PostgreSQL
 * `bigint` ids travel in JSON), so a page never skips or repeats a row when rows are added meanwhile.
 */
export const CursorSchema = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,18})$/, 'must be an id (decimal integer)')
  // 19 digits can exceed bigint: refused here (400), not by the database (500).
  .refine((v) => !/^[0-9]{1,19}$/.test(v) || BigInt(v) <= BIGINT_MAX, 'must be an id (decimal integer)');

/**
 * Query string of a list: `?limit=50&after=1234`. Strict: an unknown parameter is an error, not silently ignored.
 * A route adds its filters with `PageQuerySchema.extend({ ... })`.
 */
export const PageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(PAGE_LIMIT_MAX).default(PAGE_LIMIT_DEFAULT),
  after: CursorSchema.optional(),
});
export type PageQuery = z.infer<typeof PageQuerySchema>;

/** A page of `item`s; `nextCursor` is the `after` of the next page, null on the last one. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: CursorSchema.nullable() });
}
export type Page<T> = { items: T[]; nextCursor: string | null };
