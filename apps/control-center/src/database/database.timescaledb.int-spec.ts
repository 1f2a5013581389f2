import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from './database';
import type { Database } from './database.types';
import { FlowReportRepository, type FlowBucket } from './repositories/flow-report.repository';
import { IngestRepository } from './repositories/ingest.repository';
import { databaseContract, flowMap, flowScenario, silentLogger, utcDayStart } from './testing/database-contract';
import { countItems, eventItems } from './testing/ingest-items';

jest.setTimeout(120_000);

const DAY = 86_400_000;

/**
 * The TimescaleDB SQL path, on the embedded default: PGlite with TimescaleDB compiled in, served on a loopback
 * port and reached through `pg` like a server. One PGlite per file (it takes seconds to start).
 */
describe('database on embedded PGlite + TimescaleDB', () => {
  let dir: string;
  let db: Database;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-pglite-'));
    db = await openDatabase({ dataDir: dir, logger: silentLogger });
  });

  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts embedded with the TimescaleDB flavour and one connection', () => {
    expect(db.flavour).toBe('timescaledb');
    expect(db.embedded).toBe(true);
    expect(db.pool.options.max).toBe(1);
  });

  it('keeps the time series in hypertables with compression, retention and aggregate policies', async () => {
    const { rows: hypertables } = await db.pool.query<{ name: string; compression: boolean }>(
      'SELECT hypertable_name AS name, compression_enabled AS compression FROM timescaledb_information.hypertables ORDER BY 1',
    );
    expect(hypertables.filter((h) => !h.name.startsWith('_'))).toEqual(
      [
        'camera_status',
        'count_intervals',
        'detection_events',
        'evidence',
        'heartbeats',
        'line_counts',
        'line_crossings',
        'node_status',
      ].map((name) => ({ name, compression: true })),
    );
    const { rows: caggs } = await db.pool.query<{ view_name: string; materialized_only: boolean }>(
      'SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates ORDER BY 1',
    );
    expect(caggs).toEqual(
      ['flow_15m', 'flow_1d', 'flow_1h'].map((view_name) => ({ view_name, materialized_only: false })),
    );
    // Retention of every hypertable and aggregate is the one in retention_policy; raw counts outlive every
    // aggregate refresh window (else a refresh would erase buckets whose raw rows are gone).
    const { rows: retention } = await db.pool.query<{ relation: string; drop_after: string; keep: string }>(
      `SELECT j.hypertable_name AS relation, j.config->>'drop_after' AS drop_after, p.keep::text AS keep
         FROM timescaledb_information.jobs j JOIN retention_policy p ON p.relation = j.hypertable_name
        WHERE j.proc_name = 'policy_retention' ORDER BY 1`,
    );
    expect(retention).toHaveLength(11);
    for (const r of retention) expect(r.drop_after).toBe(r.keep);
    const { rows: windows } = await db.pool.query<{ ok: boolean }>(
      `SELECT bool_and((j.config->>'start_offset')::interval < p.keep) AS ok
         FROM timescaledb_information.jobs j, retention_policy p
        WHERE j.proc_name = 'policy_refresh_continuous_aggregate' AND p.relation = 'line_counts'`,
    );
    expect(windows).toEqual([{ ok: true }]);
  });

  databaseContract(() => db);

  async function materialization(view: string): Promise<number> {
    const { rows } = await db.pool.query<{ id: number }>(
      `SELECT h.id FROM _timescaledb_catalog.continuous_agg c
         JOIN _timescaledb_catalog.hypertable h ON h.id = c.mat_hypertable_id
        WHERE c.user_view_name = $1`,
      [view],
    );
    return rows[0].id;
  }

  it('reports new counts in real time, before any refresh, and late ones once maintenance has refreshed', async () => {
    const flows = new FlowReportRepository(db);
    const read = async (bucket: FlowBucket, site: string, from: Date, to: Date) =>
      flowMap(await flows.flows({ bucket, from, to, siteId: site }));
    await db.runMaintenance(); // materialise everything so far: the watermark is now about 15 minutes ago

    // Counts from the last few minutes lie above the watermark: real-time aggregation shows them at once.
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const fresh = [5, 4, 3].map((ago, i) => ({
      intervalStart: new Date(minute - ago * 60_000),
      counts: [{ objectClass: 'car' as const, direction: 'a_to_b' as const, count: 10 + i }],
    }));
    await new IngestRepository(db).insertBatch(countItems(fresh, { siteId: 'site-fresh' }));
    const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const window = [new Date(minute - DAY), new Date(minute + DAY)] as const;
    for (const bucket of ['15m', '1h', '1d'] as FlowBucket[]) {
      expect({ bucket, total: total(await read(bucket, 'site-fresh', ...window)) }).toEqual({ bucket, total: 33 });
    }

    // Counts for three days ago lie below it: they appear once the refresh policy has run.
    const dayStart = utcDayStart(3);
    const { specs, expected } = flowScenario(dayStart);
    await new IngestRepository(db).insertBatch(countItems(specs, { siteId: 'site-late' }));
    const day = [dayStart, new Date(dayStart.getTime() + DAY)] as const;
    const report = await db.runMaintenance();
    expect(report.jobs).toEqual(
      expect.arrayContaining([
        'policy_refresh_continuous_aggregate:flow_15m',
        'policy_refresh_continuous_aggregate:flow_1h',
        'policy_refresh_continuous_aggregate:flow_1d',
        'policy_compression:line_counts',
        'policy_retention:line_counts',
      ]),
    );
    for (const bucket of ['15m', '1h', '1d'] as FlowBucket[]) {
      expect({ bucket, flows: await read(bucket, 'site-late', ...day) }).toEqual({ bucket, flows: expected[bucket] });
    }
    // Materialised: the aggregate's own table holds the buckets.
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM _timescaledb_internal._materialized_hypertable_${await materialization('flow_15m')}
        WHERE site_id = 'site-late'`,
    );
    expect(rows[0].n).toBe(expected['15m'].size);
  });

  it('drops chunks older than their retention when maintenance runs the retention policy', async () => {
    // Rows written straight into the hypertable 60 days back (ingest itself refuses data older than retention).
    const old = new Date(Date.now() - 60 * DAY).toISOString();
    await db.pool.query(
      `INSERT INTO heartbeats (ts, site_id, node_id, boot_id, seq, uptime_s, config_version, cameras, outbox_depth,
                               outbox_bytes, outbox_oldest_age_s, outbox_evicted, outbox_evicted_total, received_at)
       VALUES ($1, 'site-old', 'node-1', gen_random_uuid(), 1, 1, NULL, '[]', 0, 0, NULL, '{}', 0, $1)`,
      [old],
    );
    await new IngestRepository(db).insertBatch(eventItems(1, { siteId: 'site-old' }));
    const chunksBefore = await db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM show_chunks('heartbeats', older_than => INTERVAL '30 days')",
    );
    expect(chunksBefore.rows[0].n).toBe(1);
    await db.runMaintenance();
    const chunksAfter = await db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM show_chunks('heartbeats', older_than => INTERVAL '30 days')",
    );
    expect(chunksAfter.rows[0].n).toBe(0);
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM heartbeats WHERE site_id = 'site-old'");
    expect(rows).toEqual([{ n: 0 }]);
    const { rows: events } = await db.pool.query(
      "SELECT count(*)::int AS n FROM detection_events WHERE site_id = 'site-old'",
    );
    expect(events).toEqual([{ n: 1 }]);
  });

  it('gives the next client a clean session when one dies inside a transaction', async () => {
    const client = await db.pool.connect();
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO config_acks (site_id, node_id, boot_id, seq, ts, config_version, status, errors, received_at)
       VALUES ('site-abandoned', 'n', gen_random_uuid(), 1, now(), 1, 'applied', '[]', now())`,
    );
    await client.query("SET application_name = 'dirty'");
    client.release(new Error('client gone')); // destroys the connection mid-transaction
    const { rows } = await db.pool.query<{ n: number; app: string }>(
      "SELECT (SELECT count(*)::int FROM config_acks WHERE site_id = 'site-abandoned') AS n, current_setting('application_name') AS app",
    );
    expect(rows).toEqual([{ n: 0, app: '' }]);
  });

  it('keeps its data across a restart on the same data directory', async () => {
    const before = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM detection_events');
    await db.close();
    db = await openDatabase({ dataDir: dir, logger: silentLogger });
    expect(db.flavour).toBe('timescaledb');
    const after = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM detection_events');
    expect(after.rows[0].n).toBe(before.rows[0].n);
    expect(before.rows[0].n).toBeGreaterThan(10_000);
    // TimescaleDB is live again after the restart: hypertable inserts, aggregates and jobs work.
    await expect(
      new IngestRepository(db).insertBatch(eventItems(3, { siteId: 'site-restart' })),
    ).resolves.toMatchObject({
      inserted: 3,
    });
    const report = await db.runMaintenance();
    expect(report.jobs.length).toBeGreaterThan(0);
  });

  it('refuses a second process-local open of the same data directory', async () => {
    await expect(openDatabase({ dataDir: dir, logger: silentLogger })).rejects.toThrow(/already held/);
  });
});
