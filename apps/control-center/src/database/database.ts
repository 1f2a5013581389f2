import { join } from 'node:path';
import type { OnApplicationShutdown } from '@nestjs/common';
import { Pool, type PoolConfig } from 'pg';
import type { Database, DatabaseFlavour, DatabaseLogger, MaintenanceReport } from './database.types';
import { EmbeddedDatabase } from './embedded/embedded-database';
import { MaintenanceService } from './maintenance.service';
import { migrate, type FlavourPreference } from './migration.runner';
import { HealthRepository } from './repositories/health.repository';

/** Longest any statement may take on the embedded database (maintenance jobs included). */
export const EMBEDDED_QUERY_TIMEOUT_MS = 120_000;

export type { Database, DatabaseFlavour, DatabaseLogger, MaintenanceReport, Queryable } from './database.types';

export interface OpenDatabaseOptions {
  /** postgres:// URL of a PostgreSQL or TimescaleDB server; absent = embedded PGlite under `dataDir`. */
  url?: string;
  /** Where the embedded database keeps its files (in `<dataDir>/pglite`). */
  dataDir: string;
  /** Loopback port of the embedded database (0 or absent: a free port). */
  embeddedPort?: number;
  logger: DatabaseLogger;
  /** Server only: force a SQL path instead of detecting it ('auto' by default). */
  flavour?: FlavourPreference;
  /** Server only: pool size (default 10). The embedded database always has exactly one connection. */
  poolSize?: number;
}

const PING_TIMEOUT_MS = 2000;

/** Also the Nest provider of DatabaseModule: it closes itself when the application shuts down (after ingest drained). */
class OpenedDatabase implements Database, OnApplicationShutdown {
  private closed = false;
  private readonly maintenance: MaintenanceService;
  private readonly health: HealthRepository;

  constructor(
    readonly pool: Pool,
    readonly flavour: DatabaseFlavour,
    private readonly server: EmbeddedDatabase | null,
    logger: DatabaseLogger,
  ) {
    this.maintenance = new MaintenanceService(this, logger);
    this.health = new HealthRepository(this);
  }

  runMaintenance(now?: Date): Promise<MaintenanceReport> {
    return this.maintenance.runMaintenance(now);
  }

  get embedded(): boolean {
    return this.server !== null;
  }

  async ping(timeoutMs = PING_TIMEOUT_MS): Promise<boolean> {
    if (this.closed) return false;
    return this.health.ping(timeoutMs);
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.maintenance.whenIdle();
    try {
      await this.pool.end();
    } finally {
      await this.server?.stop();
    }
  }
}

function watchPool(pool: Pool, logger: DatabaseLogger): Pool {
  // A client whose server went away emits 'error'; unhandled, it would kill the process. The pool listens only
  // while a client is idle (and re-emits it here); a client checked out between two queries of a transaction
  // needs its own listener for as long as it lives. Its next query fails, and the caller retries.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle database connection lost'));
  pool.on('connect', (client) =>
    client.on('error', (err) => logger.warn({ err: err.message }, 'database connection lost while in use')),
  );
  return pool;
}

/**
 * Opens the centre's database: the server at `url`, or an embedded PGlite (TimescaleDB compiled in) served on a
 * loopback port when there is none. Either way the flavour is detected and the migrations are applied before the
 * handle is returned.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const { logger } = options;
  if (options.url) {
    const config: PoolConfig = {
      connectionString: options.url,
      max: options.poolSize ?? 10,
      application_name: 'vigil-centre',
      // A client stuck mid-transaction (a crash between statements) must not hold row locks for ever.
      idle_in_transaction_session_timeout: 60_000,
      connectionTimeoutMillis: 10_000,
    };
    const pool = watchPool(new Pool(config), logger);
    try {
      const { flavour } = await migrate(pool, { preference: options.flavour, logger });
      logger.info({ flavour, embedded: false }, 'database ready');
      return new OpenedDatabase(pool, flavour, null, logger);
    } catch (err) {
      await pool.end();
      throw err;
    }
  }

  const dataDir = join(options.dataDir, 'pglite');
  const started = Date.now();
  const server = await EmbeddedDatabase.start({ dataDir, port: options.embeddedPort, logger });
  const pool = watchPool(
    new Pool({
      host: '127.0.0.1',
      port: server.port,
      user: 'postgres',
      database: 'postgres',
      // PGlite is a single backend: one connection, kept open (a reconnect resets the session).
      max: 1,
      idleTimeoutMillis: 0,
      // Defence in depth (see the database README, "PGlite drops input"): a reply that never comes must not hold the
      // one connection, and with it ingest, for ever; the statement fails, the connection is dropped, the server
      // resets the session and the batch is retried.
      query_timeout: EMBEDDED_QUERY_TIMEOUT_MS,
    }),
    logger,
  );
  try {
    const { flavour } = await migrate(pool, { preference: 'timescaledb', logger });
    logger.info(
      { flavour, embedded: true, port: server.port, dataDir, startMs: Date.now() - started },
      'embedded database ready',
    );
    return new OpenedDatabase(pool, flavour, server, logger);
  } catch (err) {
    await pool.end();
    await server.stop();
    throw err;
  }
}
