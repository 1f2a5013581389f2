import type { Database } from '../database.types';
import { ColumnBatch } from './unnest';

export interface PolicyJob {
  jobId: number;
  proc: string;
  relation: string | null;
}

/** Order in which policy jobs run by hand: aggregates first (finest first: hierarchical), then compression, then retention. */
const JOB_ORDER = ['policy_refresh_continuous_aggregate', 'policy_compression', 'policy_retention'];

const ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'";

/** Relations purged row by row (not partitioned), with the time column retention is measured on. */
const ROW_RETENTION: { relation: string; where: string }[] = [
  // Evidence images: from arrival or from capture, whichever is older; cases keep theirs.
  { relation: 'evidence_images', where: 'NOT keep AND (received_at < $1 OR ts < $1)' },
  { relation: 'dead_letters', where: 'received_at < $1' },
  { relation: 'delivery_state', where: 'updated_at < $1' },
  { relation: 'delivery_losses', where: 'recorded_at < $1' },
  { relation: 'config_acks', where: 'ts < $1' },
];

/** Rollup tables of plain PostgreSQL, purged by bucket. */
const ROLLUPS = ['flow_15m', 'flow_1h', 'flow_1d'];

/** The SQL of housekeeping: policy jobs run by hand, rollup refresh, row-level retention. */
export class MaintenanceRepository {
  constructor(private readonly db: Pick<Database, 'pool'>) {}

  /** TimescaleDB policy jobs of this schema, in the order they should run. */
  async policyJobs(): Promise<PolicyJob[]> {
    const { rows } = await this.db.pool.query<{ job_id: number; proc_name: string; hypertable_name: string | null }>(
      `SELECT job_id, proc_name, hypertable_name FROM timescaledb_information.jobs
        WHERE proc_name = ANY($1::text[]) ORDER BY job_id`,
      [JOB_ORDER],
    );
    return rows
      .map((r) => ({ jobId: r.job_id, proc: r.proc_name, relation: r.hypertable_name }))
      .sort((a, b) => JOB_ORDER.indexOf(a.proc) - JOB_ORDER.indexOf(b.proc) || a.jobId - b.jobId);
  }

  /** Runs one job now, in the foreground (the embedded database has no background workers). */
  async runJob(jobId: number): Promise<void> {
    if (!Number.isInteger(jobId)) throw new RangeError('job id must be an integer');
    await this.db.pool.query(`CALL run_job(${jobId})`);
  }

  /**
   * Plain PostgreSQL: recomputes the rollup buckets that ingest marked dirty. The markers are taken (deleted) in one
   * statement and the sums computed in later ones of the same transaction, so a batch committed in between is
   * either seen by the sums or re-marks its bucket after this commit (see flow_dirty in the migration).
   */
  async refreshRollups(): Promise<number> {
    const client = await this.db.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{
        site_id: string;
        node_id: string;
        camera_id: string;
        line_id: string;
        bucket: Date;
      }>('DELETE FROM flow_dirty RETURNING site_id, node_id, camera_id, line_id, bucket');
      if (rows.length > 0) {
        const keys = new ColumnBatch([
          { name: 'site_id', type: 'text' },
          { name: 'node_id', type: 'text' },
          { name: 'camera_id', type: 'text' },
          { name: 'line_id', type: 'text' },
          { name: 'bucket', type: 'timestamptz' },
        ]);
        for (const r of rows) keys.push(r.site_id, r.node_id, r.camera_id, r.line_id, r.bucket.toISOString());
        const line = (a: string, b: string) =>
          `${a}.site_id = ${b}.site_id AND ${a}.node_id = ${b}.node_id AND ${a}.camera_id = ${b}.camera_id AND ${a}.line_id = ${b}.line_id`;
        const upsert = `ON CONFLICT (bucket, site_id, node_id, camera_id, line_id, object_class, direction)
                        DO UPDATE SET count = EXCLUDED.count`;
        await client.query(
          `INSERT INTO flow_15m (bucket, site_id, node_id, camera_id, line_id, object_class, direction, count)
           SELECT k.bucket, k.site_id, k.node_id, k.camera_id, k.line_id, c.object_class, c.direction, sum(c.count)
             FROM (${keys.select('k0')}) AS k
             JOIN line_counts c ON ${line('c', 'k')}
              AND c.interval_start >= k.bucket AND c.interval_start < k.bucket + INTERVAL '15 minutes'
            GROUP BY 1, 2, 3, 4, 5, 6, 7
           ${upsert}`,
          keys.params,
        );
        for (const [target, source, size] of [
          ['flow_1h', 'flow_15m', '1 hour'],
          ['flow_1d', 'flow_1h', '1 day'],
        ]) {
          await client.query(
            `INSERT INTO ${target} (bucket, site_id, node_id, camera_id, line_id, object_class, direction, count)
             SELECT k.bucket, k.site_id, k.node_id, k.camera_id, k.line_id, f.object_class, f.direction, sum(f.count)
               FROM (SELECT DISTINCT k0.site_id, k0.node_id, k0.camera_id, k0.line_id,
                            date_bin(INTERVAL '${size}', k0.bucket, ${ORIGIN}) AS bucket
                       FROM (${keys.select('k1')}) AS k0) AS k
               JOIN ${source} f ON ${line('f', 'k')}
                AND f.bucket >= k.bucket AND f.bucket < k.bucket + INTERVAL '${size}'
              GROUP BY 1, 2, 3, 4, 5, 6, 7
             ${upsert}`,
            keys.params,
          );
        }
      }
      await client.query('COMMIT');
      return rows.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Plain PostgreSQL: rollup buckets older than their retention; returns rows deleted per table. */
  async purgeRollups(now: Date): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const relation of ROLLUPS) {
      const { rowCount } = await this.db.pool.query(
        `DELETE FROM ${relation}
          WHERE bucket < $1::timestamptz - (SELECT keep FROM retention_policy WHERE relation = $2)`,
        [now.toISOString(), relation],
      );
      out[relation] = rowCount ?? 0;
    }
    return out;
  }

  /** Every flavour: row-level retention of the non-partitioned tables; returns rows deleted per table. */
  async purgeRows(now: Date): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const { relation, where } of ROW_RETENTION) {
      const { rows } = await this.db.pool.query<{ cutoff: Date }>(
        'SELECT $1::timestamptz - keep AS cutoff FROM retention_policy WHERE relation = $2',
        [now.toISOString(), relation],
      );
      if (rows.length === 0) continue;
      const { rowCount } = await this.db.pool.query(`DELETE FROM ${relation} WHERE ${where}`, [rows[0].cutoff]);
      out[relation] = rowCount ?? 0;
    }
    return out;
  }
}
