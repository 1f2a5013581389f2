import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import type { DatabaseFlavour, DatabaseLogger } from './database.types';
import { MigrationRepository } from './repositories/migration.repository';
import { SessionLockRepository, type LockKey } from './repositories/session-lock.repository';

/** SQL files next to this module: `NNNN_name.sql` for every flavour, `NNNN_name.<flavour>.sql` for one. */
export const MIGRATIONS_DIR = join(__dirname, 'migrations');

/** Session advisory lock held while detecting the flavour and migrating, so two centres starting together take turns. */
const LOCK_KEY: LockKey = [0x56494749, 1]; // 'VIGI', 1

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

/** The flavour a database was migrated with (null on an empty database). */
async function recordedFlavour(repo: MigrationRepository): Promise<DatabaseFlavour | null> {
  const flavours = await repo.recordedFlavours();
  if (flavours === null) return null;
  if (flavours.length > 1) throw new Error(`schema_migrations mixes flavours (${flavours.join(', ')})`);
  return (flavours[0] as DatabaseFlavour | undefined) ?? null;
}

/**
 * Picks the SQL path. A database keeps the flavour it was first migrated with. On an empty one: TimescaleDB when
 * the extension is installed (or can be created) with the community licence — compression, continuous aggregates
 * and policies are not in the Apache-only build — otherwise plain PostgreSQL.
 */
async function chooseFlavour(
  repo: MigrationRepository,
  preference: FlavourPreference,
  logger: DatabaseLogger,
): Promise<DatabaseFlavour> {
  const recorded = await recordedFlavour(repo);
  let info = await repo.timescaleInfo();
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
      await repo.createTimescaleExtension();
      info = await repo.timescaleInfo();
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
  const repo = new MigrationRepository(client);
  const locks = new SessionLockRepository(client);
  try {
    await locks.lock(LOCK_KEY);
    try {
      const flavour = await chooseFlavour(repo, options.preference ?? 'auto', options.logger);
      await repo.ensureTable();
      const done = new Map((await repo.applied()).map((r) => [r.version, r]));
      const applied: string[] = [];
      for (const m of listMigrations(flavour, options.dir)) {
        const prior = done.get(m.version);
        if (prior) {
          if (prior.checksum !== m.checksum) {
            throw new Error(`migration ${m.version}_${m.name} changed after it was applied (checksum differs)`);
          }
          continue;
        }
        try {
          await repo.apply(m, flavour);
        } catch (err) {
          throw new Error(`migration ${m.version}_${m.name} failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(`${m.version}_${m.name}`);
        options.logger.info({ migration: `${m.version}_${m.name}`, flavour }, 'migration applied');
      }
      return { flavour, applied };
    } finally {
      await locks.unlock(LOCK_KEY);
    }
  } finally {
    client.release();
  }
}
