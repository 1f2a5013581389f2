import type { Database } from '../database.types';

/** Plain-PostgreSQL time-series tables and the column each is range-partitioned on (one partition per UTC day). */
export const PARTITIONED_TABLES = {
  detection_events: 'ts',
  line_counts: 'interval_start',
  count_intervals: 'interval_start',
  line_crossings: 'ts',
  evidence: 'ts',
  camera_status: 'ts',
  node_status: 'ts',
  heartbeats: 'ts',
} as const;
export type PartitionedTable = keyof typeof PARTITIONED_TABLES;

const DAY_MS = 86_400_000;
const PARTITION_RE = /^([a-z_]+)_p(\d{4})(\d{2})(\d{2})$/;
/** Serialises partition DDL between centre instances. */
const DDL_LOCK = [0x56494749, 2];

/** Day number (days since the epoch, UTC) of a time. */
export function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

function dayLabel(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '');
}

export function partitionName(table: PartitionedTable, day: number): string {
  return `${table}_p${dayLabel(day)}`;
}

const shared = new WeakMap<object, PartitionRepository>();

/** The one partition view of a database (ingest and maintenance must agree on what exists). */
export function partitionsOf(db: Pick<Database, 'pool'>): PartitionRepository {
  let repo = shared.get(db.pool);
  if (!repo) {
    repo = new PartitionRepository(db);
    shared.set(db.pool, repo);
  }
  return repo;
}

/**
 * Daily range partitions on plain PostgreSQL: created ahead of time by maintenance, on demand for a late or early
 * day that ingest meets, and dropped whole once older than their retention. Partition DDL always runs in its own
 * short transaction (never inside an ingest transaction, whose rollback would leave this cache wrong).
 */
export class PartitionRepository {
  /** `${table}:${day}` of every partition known to exist. */
  private readonly known = new Set<string>();
  private loaded = false;

  constructor(private readonly db: Pick<Database, 'pool'>) {}

  /** Re-reads the partitions that exist from the catalog. */
  async refresh(): Promise<void> {
    const { rows } = await this.db.pool.query<{ name: string }>(
      `SELECT c.relname AS name
         FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = ANY($1::regclass[])`,
      [Object.keys(PARTITIONED_TABLES)],
    );
    this.known.clear();
    for (const { name } of rows) {
      const m = PARTITION_RE.exec(name);
      if (!m) continue;
      const day = utcDay(Date.UTC(Number(m[2]), Number(m[3]) - 1, Number(m[4])));
      this.known.add(`${m[1]}:${day}`);
    }
    this.loaded = true;
  }

  /** Forgets what is known (after an insert met a missing partition): the next `ensure` re-reads the catalog. */
  invalidate(): void {
    this.loaded = false;
  }

  /** Creates whichever of these (table, day) partitions do not exist yet; returns the names created. */
  async ensure(needed: Iterable<[PartitionedTable, number]>): Promise<string[]> {
    if (!this.loaded) await this.refresh();
    const missing = [...needed].filter(([t, d]) => !this.known.has(`${t}:${d}`));
    if (missing.length === 0) return [];
    const unique = new Map(missing.map(([t, d]) => [`${t}:${d}`, [t, d] as const]));
    const created: string[] = [];
    const client = await this.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', DDL_LOCK);
      for (const [table, day] of unique.values()) {
        const name = partitionName(table, day);
        const from = new Date(day * DAY_MS).toISOString();
        const to = new Date((day + 1) * DAY_MS).toISOString();
        const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [
          name,
        ]);
        if (!rows[0].exists) {
          await client.query(`CREATE TABLE ${name} PARTITION OF ${table} FOR VALUES FROM ('${from}') TO ('${to}')`);
          created.push(name);
        }
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    for (const key of unique.keys()) this.known.add(key);
    return created;
  }

  /** Partitions for every table from `daysBack` days ago to `daysAhead` days ahead of `now`. */
  async ensureAround(now: Date, daysBack: number, daysAhead: number): Promise<string[]> {
    const today = utcDay(now.getTime());
    const needed: [PartitionedTable, number][] = [];
    for (const table of Object.keys(PARTITIONED_TABLES) as PartitionedTable[]) {
      for (let d = today - daysBack; d <= today + daysAhead; d++) needed.push([table, d]);
    }
    return this.ensure(needed);
  }

  /** Drops every partition whose whole day is older than its table's retention; returns the names dropped. */
  async dropExpired(now: Date, keepMs: ReadonlyMap<string, number>): Promise<string[]> {
    await this.refresh();
    const dropped: string[] = [];
    for (const key of [...this.known]) {
      const [table, dayText] = key.split(':') as [PartitionedTable, string];
      const keep = keepMs.get(table);
      if (keep === undefined) continue;
      const day = Number(dayText);
      if ((day + 1) * DAY_MS > now.getTime() - keep) continue;
      const name = partitionName(table, day);
      // DROP takes a brief exclusive lock on the parent; give up rather than queue behind a long query.
      const client = await this.db.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query("SET LOCAL lock_timeout = '5s'");
        await client.query(`DROP TABLE IF EXISTS ${name}`);
        await client.query('COMMIT');
        this.known.delete(key);
        dropped.push(name);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    }
    return dropped;
  }
}
