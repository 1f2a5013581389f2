import type { Pool, PoolClient } from 'pg';

/** Which SQL path the schema uses: TimescaleDB (hypertables, continuous aggregates) or native partitions. */
export type DatabaseFlavour = 'timescaledb' | 'postgres';

/** The subset of a pino logger the database layer writes to. */
export interface DatabaseLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** Something that runs a query: the pool, or a client inside a caller's transaction. */
export type Queryable = Pool | PoolClient;

export interface MaintenanceReport {
  /** False when another instance held the maintenance lock (nothing was done). */
  ran: boolean;
  /** TimescaleDB policy jobs run by hand (embedded only: a server's background workers run them). */
  jobs: string[];
  partitionsCreated: string[];
  partitionsDropped: string[];
  /** Dirty 15-minute buckets recomputed into the rollups. */
  rollupBuckets: number;
  /** Rows deleted by retention, per table. */
  purged: Record<string, number>;
  durationMs: number;
}

/** An open database: where it is, which SQL path it takes, and how to stop it. */
export interface Database {
  readonly pool: Pool;
  readonly flavour: DatabaseFlavour;
  /** True when this process serves the database itself (PGlite); its only connection is the pool's one. */
  readonly embedded: boolean;
  /** Readiness probe: true when a trivial query answers within the timeout. Never throws. */
  ping(timeoutMs?: number): Promise<boolean>;
  /**
   * One housekeeping pass (see MaintenanceService): policy jobs by hand when embedded, partitions and rollups on
   * plain PostgreSQL, row-level retention everywhere. MaintenanceScheduler runs it every MAINTENANCE_INTERVAL_S.
   */
  runMaintenance(now?: Date): Promise<MaintenanceReport>;
  /** Ends the pool and, when embedded, stops the socket server and closes PGlite cleanly. */
  close(): Promise<void>;
}
