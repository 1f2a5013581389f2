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

/*
 * What PostgreSQL can store, checked where a message arrives (the contract) rather than found out by a failing
 * batch: text without NUL or lone UTF-16 surrogates, integers within their column's type, reals that do not
 * underflow, times within a sane window. Every string and number field of every message is built from these.
 */

/** A NUL, or a UTF-16 surrogate that is not half of a pair: neither is storable as PostgreSQL text (UTF-8). */
// eslint-disable-next-line no-control-regex
const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when PostgreSQL can store `s` as text (no NUL, no lone surrogate). One regex test per string. */
export function isStorableText(s: string): boolean {
  return !UNSTORABLE_TEXT.test(s);
}

const UNSTORABLE_TEXT_ALL = new RegExp(UNSTORABLE_TEXT.source, 'g');

/** `s` made storable: each NUL or lone surrogate becomes U+FFFD, for producers of free text (status reasons). */
export function toStorableText(s: string): string {
  return isStorableText(s) ? s : s.replace(UNSTORABLE_TEXT_ALL, '\uFFFD');
}

/**
 * Free text: any Unicode PostgreSQL can hold (control and bidi characters included; display escapes them). Every
 * free-text field of a message is `TextSchema` (add `.max(n)`), never a bare `z.string()`.
 */
export const TextSchema = z
  .string()
  .refine(
    isStorableText,
    'must not contain NUL (\\u0000) or a lone UTF-16 surrogate (PostgreSQL text cannot hold them)',
  );

/** Largest value of a PostgreSQL `integer` (int4) column. */
export const INT4_MAX = 2_147_483_647;
/** An integer stored in an `integer` column. */
export const Int4Schema = z
  .int()
  .min(-INT4_MAX - 1)
  .max(INT4_MAX);
/** A non-negative integer stored in an `integer` column (counters, sizes, versions). */
export const UInt4Schema = z.int().min(0).max(INT4_MAX);
/**
 * An integer stored in a `bigint` column: JSON numbers are IEEE doubles, so the exact ones (|n| <= 2^53 - 1, what
 * `z.int()` takes) all fit.
 */
export const Int8Schema = z.int();

/** True when a `real` (float4) column takes `n`: finite in float4, and not a non-zero that underflows to zero. */
export function fitsReal(n: number): boolean {
  const f = Math.fround(n);
  return Number.isFinite(f) && (f !== 0 || n === 0);
}

/**
 * Times stored are within [TIMESTAMP_MIN, TIMESTAMP_MAX): a clock outside that window is broken, and PostgreSQL's
 * own range (4713 BC to 294276 AD, no year 0) and day partitions are no place to find out. Checked on the instant,
 * so an offset cannot move a time out of the window. The window starts at the Unix epoch, not later: a device
 * without a real-time clock starts there until NTP syncs, and what it says then must still reach the centre (which
 * dead-letters it as older than its retention) rather than fail at the edge.
 */
export const TIMESTAMP_MIN = '1970-01-01T00:00:00.000Z';
export const TIMESTAMP_MAX = '2100-01-01T00:00:00.000Z';
const TIMESTAMP_MIN_MS = Date.parse(TIMESTAMP_MIN);
const TIMESTAMP_MAX_MS = Date.parse(TIMESTAMP_MAX);

/** Within the window; `t` already matched the ISO-8601 format, so it starts with four digits of year. */
function inTimeWindow(t: string): boolean {
  const year =
    (t.charCodeAt(0) - 48) * 1000 + (t.charCodeAt(1) - 48) * 100 + (t.charCodeAt(2) - 48) * 10 + t.charCodeAt(3) - 48;
  // Hot path (every message has two or three times): an offset moves an instant by less than a day, so only the
  // window's first and last year need the full parse.
  if (year > 1970 && year < 2099) return true;
  const ms = Date.parse(t);
  return ms >= TIMESTAMP_MIN_MS && ms < TIMESTAMP_MAX_MS;
}

/** ISO-8601 timestamp with offset (UTC "Z" recommended), within [TIMESTAMP_MIN, TIMESTAMP_MAX). */
export const TimestampSchema = z.iso
  .datetime({ offset: true })
  .refine(inTimeWindow, `must be from ${TIMESTAMP_MIN} to before ${TIMESTAMP_MAX}`);

/** Normalised coordinate in [0, 1] relative to the frame, so zones survive resolution changes; stored as real. */
export const UnitSchema = z.number().min(0).max(1).refine(fitsReal, 'must not underflow a real (float4) column');

export const PointSchema = z.tuple([UnitSchema, UnitSchema]);

/** Box in normalised frame coordinates: [x1, y1, x2, y2], x1 <= x2, y1 <= y2. */
export const BoxSchema = z
  .tuple([UnitSchema, UnitSchema, UnitSchema, UnitSchema])
  .refine(([x1, y1, x2, y2]) => x1 <= x2 && y1 <= y2, 'box must be [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2');

export const ScoreSchema = z.number().min(0).max(1).refine(fitsReal, 'must not underflow a real (float4) column');
export const Sha256Schema = z.string().regex(/^[a-f0-9]{64}$/, 'must be a lowercase hex sha256');

/** A count of things, stored as `integer`. */
export const CountSchema = UInt4Schema;
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
