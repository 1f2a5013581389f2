import type { Queryable } from '../database.types';
import { ColumnBatch } from './unnest';

/** One range of seqs an edge announced as lost, as recorded for audit. */
export interface DeliveryLossRow {
  siteId: string;
  nodeId: string;
  bootId: string;
  fromSeq: number;
  toSeq: number;
  /** Boot of the edge process that announced it. */
  reporterBootId: string;
  /** The replay request the announcement answered, if any. */
  requestId: string | null;
  /** Edge time of the announcement. */
  reportedAt: Date;
  /** Centre time of the commit that closed it. */
  recordedAt: Date;
}

interface DbRow {
  site_id: string;
  node_id: string;
  boot_id: string;
  from_seq: string;
  to_seq: string;
  reporter_boot_id: string;
  request_id: string | null;
  reported_at: Date;
  recorded_at: Date;
}

const COLUMNS = [
  { name: 'site_id', type: 'text' },
  { name: 'node_id', type: 'text' },
  { name: 'boot_id', type: 'uuid' },
  { name: 'from_seq', type: 'int8' },
  { name: 'to_seq', type: 'int8' },
  { name: 'reporter_boot_id', type: 'uuid' },
  { name: 'request_id', type: 'uuid' },
  { name: 'reported_at', type: 'timestamptz' },
  { name: 'recorded_at', type: 'timestamptz' },
];

/** Audit of delivery losses (`delivery_losses`): what an edge could not deliver, and when it said so. */
export class DeliveryLossRepository {
  constructor(private readonly db: { pool: Queryable }) {}

  /** Records ranges (pass the ingest transaction's client); a range already recorded is left as it is. */
  async insert(rows: readonly DeliveryLossRow[], q: Queryable = this.db.pool): Promise<number> {
    if (rows.length === 0) return 0;
    const batch = new ColumnBatch(COLUMNS);
    for (const r of rows) {
      batch.push(
        r.siteId,
        r.nodeId,
        r.bootId,
        r.fromSeq,
        r.toSeq,
        r.reporterBootId,
        r.requestId,
        r.reportedAt.toISOString(),
        r.recordedAt.toISOString(),
      );
    }
    const { rowCount } = await q.query(
      `INSERT INTO delivery_losses (${batch.names}) ${batch.select('l')} ON CONFLICT DO NOTHING`,
      batch.params,
    );
    return rowCount ?? 0;
  }

  /** Recorded ranges of one node (optionally one boot), in seq order. */
  async list(ref: { siteId: string; nodeId: string; bootId?: string }, q: Queryable = this.db.pool) {
    const { rows } = await q.query<DbRow>(
      `SELECT site_id, node_id, boot_id, from_seq, to_seq, reporter_boot_id, request_id, reported_at, recorded_at
         FROM delivery_losses
        WHERE site_id = $1 AND node_id = $2 AND ($3::uuid IS NULL OR boot_id = $3::uuid)
        ORDER BY boot_id, from_seq`,
      [ref.siteId, ref.nodeId, ref.bootId ?? null],
    );
    return rows.map((r): DeliveryLossRow => ({
      siteId: r.site_id,
      nodeId: r.node_id,
      bootId: r.boot_id,
      fromSeq: Number(r.from_seq),
      toSeq: Number(r.to_seq),
      reporterBootId: r.reporter_boot_id,
      requestId: r.request_id,
      reportedAt: r.reported_at,
      recordedAt: r.recorded_at,
    }));
  }
}
