import { Client } from 'pg';
import { openDatabase } from './database';
import type { Database } from './database.types';
import { PARTITION_DAYS_AHEAD } from './maintenance.service';
import { FlowReportRepository } from './repositories/flow-report.repository';
import { IngestRepository } from './repositories/ingest.repository';
import { PARTITIONED_TABLES, partitionName, utcDay } from './repositories/partition.repository';
import { databaseContract, flowMap, flowScenario, silentLogger, utcDayStart } from './testing/database-contract';
import { countItems, eventItems } from './testing/ingest-items';
import { ScratchDatabase } from '../../../../test/support/scratch-database';

jest.setTimeout(60_000);

const DAY = 86_400_000;

/** Plain PostgreSQL 15 (the machine's server, no TimescaleDB): native partitions, rollups kept by the service. */
describe('database on plain PostgreSQL', () => {
  let scratch: ScratchDatabase;
  let db: Database;

  beforeAll(async () => {
    scratch = await ScratchDatabase.create();
    db = await openDatabase({ url: scratch.url, dataDir: '/nonexistent', logger: silentLogger });
  });

  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('detects plain PostgreSQL on a server without the timescaledb extension', () => {
    expect(db.flavour).toBe('postgres');
    expect(db.embedded).toBe(false);
  });

  databaseContract(() => db);

  it('survives the server dropping a connection that is checked out between two queries', async () => {
    const client = await db.pool.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const admin = new Client({ connectionString: scratch.url });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
    await admin.end();
    // The client hears of it while no query of its own is running: an 'error' event nobody listened to would be
    // thrown as an uncaught exception and end the process.
    await new Promise((r) => setTimeout(r, 300));
    await expect(client.query('SELECT 1')).rejects.toThrow();
    client.release(true);
    const { rows: after } = await db.pool.query<{ one: number }>('SELECT 1 AS one');
    expect(after[0].one).toBe(1);
  });

  async function partitions(table: string): Promise<string[]> {
    const { rows } = await db.pool.query<{ name: string }>(
      'SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass',
      [table],
    );
    return rows.map((r) => r.name).sort();
  }

  it('creates daily partitions ahead of time for every time-series table', async () => {
    await db.runMaintenance();
    const today = utcDay(Date.now());
    for (const table of Object.keys(PARTITIONED_TABLES) as (keyof typeof PARTITIONED_TABLES)[]) {
      const names = await partitions(table);
      for (let d = today; d <= today + PARTITION_DAYS_AHEAD; d++) expect(names).toContain(partitionName(table, d));
    }
  });

  it('creates the partition of a late day on demand', async () => {
    const day = utcDayStart(20);
    const items = countItems(
      [{ intervalStart: day, counts: [{ objectClass: 'car', direction: 'a_to_b', count: 3 }] }],
      {
        siteId: 'site-late',
      },
    );
    await expect(new IngestRepository(db).insertBatch(items)).resolves.toMatchObject({ inserted: 1 });
    expect(await partitions('line_counts')).toContain(partitionName('line_counts', utcDay(day.getTime())));
    expect(await partitions('count_intervals')).toContain(partitionName('count_intervals', utcDay(day.getTime())));
  });

  it('drops whole partitions once they are older than their retention, and keeps the rollups', async () => {
    const dayStart = utcDayStart(1);
    const { specs } = flowScenario(dayStart);
    await new IngestRepository(db).insertBatch(countItems(specs.slice(0, 30), { siteId: 'site-expire' }));
    await new IngestRepository(db).insertBatch(
      eventItems(5, { siteId: 'site-expire' }, dayStart.getTime() + 6 * 3_600_000),
    );
    await db.runMaintenance();
    const countPartition = partitionName('line_counts', utcDay(dayStart.getTime()));
    const eventPartition = partitionName('detection_events', utcDay(dayStart.getTime()));
    expect(await partitions('line_counts')).toContain(countPartition);

    // 40 days on: line counts (kept 35 days) are dropped, events (kept 400 days) stay.
    const later = new Date(dayStart.getTime() + 40 * DAY);
    const report = await db.runMaintenance(later);
    expect(report.partitionsDropped).toContain(countPartition);
    expect(report.partitionsDropped).not.toContain(eventPartition);
    expect(await partitions('line_counts')).not.toContain(countPartition);
    expect(await partitions('detection_events')).toContain(eventPartition);
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM line_counts WHERE site_id = 'site-expire'");
    expect(rows).toEqual([{ n: 0 }]);
    const { rows: ev } = await db.pool.query(
      "SELECT count(*)::int AS n FROM detection_events WHERE site_id = 'site-expire'",
    );
    expect(ev).toEqual([{ n: 5 }]);
    // The 15-minute rollups outlive the raw counts (2 years).
    const flows = await new FlowReportRepository(db).flows({
      bucket: '15m',
      from: dayStart,
      to: new Date(dayStart.getTime() + DAY),
      siteId: 'site-expire',
    });
    expect([...flowMap(flows).values()].reduce((a, b) => a + b, 0)).toBe(
      specs.slice(0, 30).reduce((a, s) => a + s.counts.reduce((x, c) => x + c.count, 0), 0),
    );
  });

  it('lets two centres start on the same empty database at once: each migration is applied once', async () => {
    const fresh = await ScratchDatabase.create();
    try {
      const [a, b] = await Promise.all([
        openDatabase({ url: fresh.url, dataDir: '/nonexistent', logger: silentLogger }),
        openDatabase({ url: fresh.url, dataDir: '/nonexistent', logger: silentLogger }),
      ]);
      const c = new Client({ connectionString: fresh.url });
      await c.connect();
      const { rows } = await c.query<{ version: number; n: number }>(
        'SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version',
      );
      await c.end();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.n === 1)).toBe(true);
      await Promise.all([a.close(), b.close()]);
    } finally {
      await fresh.drop();
    }
  });

  it('refuses to run a database migrated for plain PostgreSQL as TimescaleDB', async () => {
    await expect(
      openDatabase({ url: scratch.url, dataDir: '/nonexistent', logger: silentLogger, flavour: 'timescaledb' }),
    ).rejects.toThrow(/set up for postgres/);
  });
});
