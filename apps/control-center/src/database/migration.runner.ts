import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool, PoolClient } from 'pg';
import type { DatabaseFlavour, DatabaseLogger } from './database.types';

/** SQL files next to this module: `NNNN_name.sql` for every flavour, `NNNN_name.<flavour>.sql` for one. */
export const MIGRATIONS_DIR = join(__dirname, 'migrations');

/** Session advisory lock held while detecting the flavour and migrating, so two centres starting together take turns. */
const LOCK_KEY = [0x56494749, 1]; // 'VIGI', 1

export type FlavourPreference = 'auto' | DatabaseFlavour;

export interface Migration {
  version: number;
  name: string;
  /** null: applies to every flavour. */
  flavour: DatabaseFlavour | null;
  sql: string;
  checksum: string;
}

const FILE_RE = /^(\d{4})_([a-z0-9_]+?)(?:\.(timescaledb|postgres))?\.sql$/;

/** The migrations a flavour runs, in order. A version is either shared or has one file per flavour. */
export function listMigrations(flavour: DatabaseFlavour, dir = MIGRATIONS_DIR): Migration[] {
  const all: Migration[] = [];
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.sql')) continue;
    const m = FILE_RE.exec(file);
    if (!m) throw new Error(`migration file name "${file}" is not NNNN_name[.timescaledb|.postgres].sql`);
    const sql = readFileSync(join(dir, file), 'utf8');
    all.push({
      version: Number(m[1]),
      name: m[2],
      flavour: (m[3] as DatabaseFlavour | undefined) ?? null,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  const byVersion = new Map<number, Migration[]>();
  for (const mig of all) byVersion.set(mig.version, [...(byVersion.get(mig.version) ?? []), mig]);
  for (const [version, list] of byVersion) {
    const shared = list.filter((x) => x.flavour === null);
    if (shared.length > 1 || (shared.length === 1 && list.length > 1)) {
      throw new Error(`migration ${version} has more than one file for the same flavour`);
    }
    const flavours = list.map((x) => x.flavour);
    if (new Set(flavours).size !== flavours.length) throw new Error(`migration ${version} is defined twice`);
  }
  return all.filter((m) => m.flavour === null || m.flavour === flavour).sort((a, b) => a.version - b.version);
}

interface ExtensionInfo {
  installed: boolean;
  available: boolean;
  license: string | null;
}

async function timescaleInfo(client: PoolClient): Promise<ExtensionInfo> {
  const { rows } = await client.query<{ installed: boolean; available: boolean; license: string | null }>(
    `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS installed,
            EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
            current_setting('timescaledb.license', true) AS license`,
  );
  return rows[0];
}

/** The flavour a database was migrated with (null on an empty database). */
async function recordedFlavour(client: PoolClient): Promise<DatabaseFlavour | null> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (exists.rows[0].t === null) return null;
  const { rows } = await client.query<{ flavours: string[] }>(
    "SELECT coalesce(array_agg(DISTINCT flavour), '{}') AS flavours FROM schema_migrations",
  );
  const flavours = rows[0].flavours;
  if (flavours.length > 1) throw new Error(`schema_migrations mixes flavours (${flavours.join(', ')})`);
  return (flavours[0] as DatabaseFlavour | undefined) ?? null;
}

/**
 * Picks the SQL path. A database keeps the flavour it was first migrated with. On an empty one: TimescaleDB when
 * the extension is installed (or can be created) with the community licence — compression, continuous aggregates
 * and policies are not in the Apache-only build — otherwise plain PostgreSQL.
 */
async function chooseFlavour(
  client: PoolClient,
  preference: FlavourPreference,
  logger: DatabaseLogger,
): Promise<DatabaseFlavour> {
  const recorded = await recordedFlavour(client);
  let info = await timescaleInfo(client);
  if (recorded) {
    if (preference !== 'auto' && preference !== recorded) {
      throw new Error(`database was set up for ${recorded}; refusing to run it as ${preference}`);
    }
    if (recorded === 'timescaledb' && !info.installed) {
      throw new Error('database was set up for TimescaleDB but the timescaledb extension is not installed');
    }
    return recorded;
  }
  if (preference === 'postgres') return 'postgres';
  if (!info.installed && info.available) {
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
      info = await timescaleInfo(client);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'timescaledb is available but could not be created');
    }
  }
  const usable = info.installed && info.license !== 'apache';
  if (usable) return 'timescaledb';
  if (preference === 'timescaledb') {
    throw new Error(
      info.installed
        ? 'timescaledb is the Apache-only build (no continuous aggregates or policies)'
        : 'timescaledb extension is not available on this server',
    );
  }
  if (info.installed) logger.warn({}, 'timescaledb is the Apache-only build; using plain PostgreSQL partitions');
  return 'postgres';
}

export interface MigrationResult {
  flavour: DatabaseFlavour;
  applied: string[];
}

/**
 * Detects the flavour and applies pending migrations, one transaction each, under an advisory lock. An applied
 * migration whose file changed since is refused: the schema would no longer be what the files say.
 */
export async function migrate(
  pool: Pool,
  options: { preference?: FlavourPreference; logger: DatabaseLogger; dir?: string },
): Promise<MigrationResult> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', LOCK_KEY);
    try {
      const flavour = await chooseFlavour(client, options.preference ?? 'auto', options.logger);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        flavour text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number; checksum: string; name: string }>(
        'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
      );
      const done = new Map(rows.map((r) => [r.version, r]));
      const applied: string[] = [];
      for (const m of listMigrations(flavour, options.dir)) {
        const prior = done.get(m.version);
        if (prior) {
          if (prior.checksum !== m.checksum) {
            throw new Error(`migration ${m.version}_${m.name} changed after it was applied (checksum differs)`);
          }
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query(
            'INSERT INTO schema_migrations (version, name, flavour, checksum) VALUES ($1, $2, $3, $4)',
            [m.version, m.name, flavour, m.checksum],
          );
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${m.version}_${m.name} failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(`${m.version}_${m.name}`);
        options.logger.info({ migration: `${m.version}_${m.name}`, flavour }, 'migration applied');
      }
      return { flavour, applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', LOCK_KEY);
    }
  } finally {
    client.release();
  }
}
