import type { Database, Queryable } from '../database.types';

export type FlowBucket = '15m' | '1h' | '1d';

/** Relation holding each bucket size: a continuous aggregate (TimescaleDB) or a rollup table (plain PostgreSQL). */
const RELATION: Record<FlowBucket, string> = { '15m': 'flow_15m', '1h': 'flow_1h', '1d': 'flow_1d' };
const INTERVAL: Record<FlowBucket, string> = { '15m': '15 minutes', '1h': '1 hour', '1d': '1 day' };

export interface FlowQuery {
  bucket: FlowBucket;
  /** Buckets starting at or after this time... */
  from: Date;
  /** ...and before this one. */
  to: Date;
  siteId?: string;
  nodeId?: string;
  cameraId?: string;
  lineId?: string;
}

export interface FlowRow {
  bucketStart: Date;
  siteId: string;
  nodeId: string;
  cameraId: string;
  lineId: string;
  objectClass: string;
  direction: string;
  count: number;
}

export interface CoverageRow {
  bucketStart: Date;
  siteId: string;
  nodeId: string;
  cameraId: string;
  lineId: string;
  /** Seconds of the bucket for which the line reported counts (zero counts included). */
  reportedSeconds: number;
}

/** Cap on rows one report returns (15-min buckets of 100 lines over a month is about 300k rows of classes). */
export const MAX_FLOW_ROWS = 500_000;

interface DbFlowRow {
  bucket: Date;
  site_id: string;
  node_id: string;
  camera_id: string;
  line_id: string;
  object_class: string;
  direction: string;
  count: string;
}

function filters(q: FlowQuery, timeColumn: string): { where: string; params: unknown[] } {
  const params: unknown[] = [q.from.toISOString(), q.to.toISOString()];
  const clauses = [`${timeColumn} >= $1`, `${timeColumn} < $2`];
  const add = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    params.push(value);
    clauses.push(`${column} = $${params.length}`);
  };
  add('site_id', q.siteId);
  add('node_id', q.nodeId);
  add('camera_id', q.cameraId);
  add('line_id', q.lineId);
  return { where: clauses.join(' AND '), params };
}

/**
 * Traffic flows per bucket, line, class and direction. On TimescaleDB the continuous aggregates are real-time
 * (materialised buckets plus the raw tail), so a report is complete at once; on plain PostgreSQL the rollups are as
 * fresh as the last maintenance run (`MaintenanceService`, every MAINTENANCE_INTERVAL_S).
 */
export class FlowReportRepository {
  constructor(private readonly db: Pick<Database, 'pool'>) {}

  async flows(q: FlowQuery, db: Queryable = this.db.pool): Promise<FlowRow[]> {
    if (!(q.bucket in RELATION)) throw new RangeError(`unknown bucket ${String(q.bucket)}`);
    const { where, params } = filters(q, 'bucket');
    params.push(MAX_FLOW_ROWS);
    const { rows } = await db.query<DbFlowRow>(
      `SELECT bucket, site_id, node_id, camera_id, line_id, object_class, direction, count
         FROM ${RELATION[q.bucket]}
        WHERE ${where}
        ORDER BY bucket, site_id, node_id, camera_id, line_id, object_class, direction
        LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({
      bucketStart: r.bucket,
      siteId: r.site_id,
      nodeId: r.node_id,
      cameraId: r.camera_id,
      lineId: r.line_id,
      objectClass: r.object_class,
      direction: r.direction,
      count: Number(r.count),
    }));
  }

  /**
   * How much of each bucket every line actually reported (from the count intervals received, empty ones included),
   * so a report can show where a camera was down instead of a silent zero.
   */
  async coverage(q: FlowQuery, db: Queryable = this.db.pool): Promise<CoverageRow[]> {
    if (!(q.bucket in INTERVAL)) throw new RangeError(`unknown bucket ${String(q.bucket)}`);
    const { where, params } = filters(q, 'interval_start');
    params.push(MAX_FLOW_ROWS);
    const { rows } = await db.query<{
      bucket: Date;
      site_id: string;
      node_id: string;
      camera_id: string;
      line_id: string;
      seconds: number;
    }>(
      `SELECT date_bin(INTERVAL '${INTERVAL[q.bucket]}', interval_start, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
              site_id, node_id, camera_id, line_id,
              sum(extract(epoch FROM interval_end - interval_start))::float8 AS seconds
         FROM (SELECT DISTINCT ON (site_id, node_id, camera_id, line_id, interval_start)
                      site_id, node_id, camera_id, line_id, interval_start, interval_end
                 FROM count_intervals
                WHERE ${where}
                ORDER BY site_id, node_id, camera_id, line_id, interval_start, interval_end DESC) AS i
        GROUP BY 1, 2, 3, 4, 5
        ORDER BY 1, 2, 3, 4, 5
        LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({
      bucketStart: r.bucket,
      siteId: r.site_id,
      nodeId: r.node_id,
      cameraId: r.camera_id,
      lineId: r.line_id,
      reportedSeconds: r.seconds,
    }));
  }
}
