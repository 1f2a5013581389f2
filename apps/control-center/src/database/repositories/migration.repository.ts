import type { PoolClient } from 'pg';

export interface ExtensionInfo {
  installed: boolean;
  available: boolean;
  /** `timescaledb.license` (`apache` for the build without compression, aggregates and policies). */
  license: string | null;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

/** The migration runner's SQL: what the server offers, what `schema_migrations` records, and applying one file. */
export class MigrationRepository {
  /** One connection for the whole run: the runner holds a session lock on it. */
  constructor(private readonly client: PoolClient) {}

  async timescaleInfo(): Promise<ExtensionInfo> {
    const { rows } = await this.client.query<ExtensionInfo>(
      `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS installed,
              EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
              current_setting('timescaledb.license', true) AS license`,
    );
    return rows[0];
  }

  async createTimescaleExtension(): Promise<void> {
    await this.client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
  }

  /** Flavours recorded in `schema_migrations`; null when the table does not exist (an empty database). */
  async recordedFlavours(): Promise<string[] | null> {
    const exists = await this.client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
    if (exists.rows[0].t === null) return null;
    const { rows } = await this.client.query<{ flavours: string[] }>(
      "SELECT coalesce(array_agg(DISTINCT flavour), '{}') AS flavours FROM schema_migrations",
    );
    return rows[0].flavours;
  }

  async ensureTable(): Promise<void> {
    await this.client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      flavour text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async applied(): Promise<AppliedMigration[]> {
    const { rows } = await this.client.query<AppliedMigration>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    return rows;
  }

  /** Runs one migration file and records it, in one transaction (all or nothing). */
  async apply(
    migration: { version: number; name: string; sql: string; checksum: string },
    flavour: string,
  ): Promise<void> {
    await this.client.query('BEGIN');
    try {
      await this.client.query(migration.sql);
      await this.client.query(
        'INSERT INTO schema_migrations (version, name, flavour, checksum) VALUES ($1, $2, $3, $4)',
        [migration.version, migration.name, flavour, migration.checksum],
      );
      await this.client.query('COMMIT');
    } catch (err) {
      await this.client.query('ROLLBACK');
      throw err;
    }
  }
}
