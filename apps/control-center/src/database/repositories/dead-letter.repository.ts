import type { Database, Queryable } from '../database.types';
import { ColumnBatch } from './unnest';

/** Bytes of a rejected payload kept for diagnosis; the full size is recorded beside it. */
export const DEAD_LETTER_PAYLOAD_BYTES = 4096;
export const DEAD_LETTER_DEFAULT_MAX_ROWS = 100_000;
export const DEAD_LETTER_PATH_CHARS = 512;
const TOPIC_CHARS = 512;
const REASON_CHARS = 2000;

export interface DeadLetterInput {
  topic: string;
  /** Contract error code (UNKNOWN_TOPIC, INVALID_PAYLOAD, ...) or NOT_STORABLE. */
  code: string;
  /** Human reason naming the offending field path. */
  reason: string;
  /** Dotted path of the first offending field, when known. */
  path?: string | null;
  /** The raw payload (it is cut to DEAD_LETTER_PAYLOAD_BYTES here). */
  payload: Buffer;
  /** Size of the original payload when `payload` is already a prefix. */
  payloadBytes?: number;
  receivedAt: Date;
  /** Boot and seq of the refused message, when its envelope was readable (its seq was closed as rejected). */
  bootId?: string | null;
  seq?: number | null;
}

export interface DeadLetterRow {
  id: number;
  receivedAt: Date;
  topic: string;
  code: string;
  path: string | null;
  reason: string;
  payload: Buffer;
  payloadBytes: number;
  bootId: string | null;
  seq: number | null;
}

const COLUMNS = [
  { name: 'received_at', type: 'timestamptz' },
  { name: 'topic', type: 'text' },
  { name: 'code', type: 'text' },
  { name: 'path', type: 'text' },
  { name: 'reason', type: 'text' },
  { name: 'payload', type: 'bytea' },
  { name: 'payload_bytes', type: 'int4' },
  { name: 'boot_id', type: 'uuid' },
  { name: 'seq', type: 'int8' },
];

// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * `text` cut to `max` UTF-16 units, with what PostgreSQL text cannot hold (NUL, a lone surrogate, including one left
 * by the cut) replaced by U+FFFD: a dead letter's topic, path and reason come from hostile input (a path names a
 * hostile record key).
 */
export function deadLetterText(text: string, max: number): string {
  return text.slice(0, max).replace(UNSTORABLE, '\uFFFD');
}

/**
 * Invalid input, kept bounded: each payload is cut to a prefix and the table to `maxRows` rows, the oldest
 * evicted first (and counted), so a flood of garbage can exhaust neither memory nor disk.
 */
export class DeadLetterRepository {
  constructor(
    private readonly db: Pick<Database, 'pool'>,
    readonly maxRows = DEAD_LETTER_DEFAULT_MAX_ROWS,
  ) {
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError('maxRows must be a positive integer');
  }

  /** Stores the rows and evicts the oldest beyond the cap; pass a client to join its transaction. */
  async insert(
    rows: readonly DeadLetterInput[],
    q: Queryable = this.db.pool,
  ): Promise<{ inserted: number; evicted: number }> {
    if (rows.length === 0) return { inserted: 0, evicted: 0 };
    // Only the newest maxRows of this batch can survive the cap: do not write the rest.
    const kept = rows.length > this.maxRows ? rows.slice(rows.length - this.maxRows) : rows;
    const batch = new ColumnBatch(COLUMNS);
    for (const r of kept) {
      batch.push(
        r.receivedAt.toISOString(),
        deadLetterText(r.topic, TOPIC_CHARS),
        deadLetterText(r.code, 64),
        r.path === null || r.path === undefined ? null : deadLetterText(r.path, DEAD_LETTER_PATH_CHARS),
        deadLetterText(r.reason, REASON_CHARS),
        r.payload.subarray(0, DEAD_LETTER_PAYLOAD_BYTES),
        r.payloadBytes ?? r.payload.length,
        r.bootId ?? null,
        r.seq ?? null,
      );
    }
    await q.query(`INSERT INTO dead_letters (${batch.names}) ${batch.select('u')}`, batch.params);
    const evicted = await this.evict(q);
    return { inserted: kept.length, evicted: evicted + (rows.length - kept.length) };
  }

  /** Deletes the oldest rows beyond the cap; returns how many. */
  private async evict(q: Queryable): Promise<number> {
    const { rowCount } = await q.query(
      `DELETE FROM dead_letters
        WHERE id <= (SELECT id FROM dead_letters ORDER BY id DESC OFFSET $1 LIMIT 1)`,
      [this.maxRows],
    );
    return rowCount ?? 0;
  }

  async count(q: Queryable = this.db.pool): Promise<number> {
    const { rows } = await q.query<{ n: string }>('SELECT count(*) AS n FROM dead_letters');
    return Number(rows[0].n);
  }

  /** The newest rows first. */
  async latest(limit = 100, q: Queryable = this.db.pool): Promise<DeadLetterRow[]> {
    const { rows } = await q.query<{
      id: string;
      received_at: Date;
      topic: string;
      code: string;
      path: string | null;
      reason: string;
      payload: Buffer;
      payload_bytes: number;
      boot_id: string | null;
      seq: string | null;
    }>(
      `SELECT id, received_at, topic, code, path, reason, payload, payload_bytes, boot_id, seq
         FROM dead_letters ORDER BY id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      receivedAt: r.received_at,
      topic: r.topic,
      code: r.code,
      path: r.path,
      reason: r.reason,
      payload: r.payload,
      payloadBytes: r.payload_bytes,
      bootId: r.boot_id,
      seq: r.seq === null ? null : Number(r.seq),
    }));
  }
}
