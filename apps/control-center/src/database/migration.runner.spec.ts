import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listMigrations, MIGRATIONS_DIR } from './migration.runner';

/** Column lists of every CREATE TABLE in a SQL file: name -> ["col type ...", ...] (constraints left out). */
function tables(sql: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const re = /CREATE TABLE (\w+) \(([\s\S]*?)\n\)/g;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    const cols = m[2]
      .split('\n')
      .map((l) => l.trim().replace(/,$/, ''))
      .filter((l) => l && !/^(UNIQUE|PRIMARY KEY|--)/.test(l));
    out.set(m[1], cols);
  }
  return out;
}

describe('migrations', () => {
  it('gives each flavour its shared files plus its own, in version order', () => {
    const ts = listMigrations('timescaledb').map((m) => `${m.version}:${m.name}:${m.flavour ?? '*'}`);
    const pg = listMigrations('postgres').map((m) => `${m.version}:${m.name}:${m.flavour ?? '*'}`);
    expect(ts).toEqual([
      '1:core:*',
      '2:timeseries:timescaledb',
      '3:flows:timescaledb',
      '4:delivery_losses:*',
      '5:rejected_seqs:*',
      '6:users:*',
      '7:alerts:*',
      '8:evidence_views:*',
    ]);
    expect(pg).toEqual([
      '1:core:*',
      '2:timeseries:postgres',
      '4:delivery_losses:*',
      '5:rejected_seqs:*',
      '6:users:*',
      '7:alerts:*',
      '8:evidence_views:*',
    ]);
    for (const m of listMigrations('postgres')) expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('defines the same time-series tables, column for column, on both flavours', () => {
    const ts = tables(readFileSync(join(MIGRATIONS_DIR, '0002_timeseries.timescaledb.sql'), 'utf8'));
    const pg = tables(readFileSync(join(MIGRATIONS_DIR, '0002_timeseries.postgres.sql'), 'utf8'));
    expect(ts.size).toBe(8);
    for (const [name, cols] of ts) expect({ name, cols: pg.get(name) }).toEqual({ name, cols });
  });

  it('refuses badly named files and a version defined twice for one flavour', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-mig-'));
    try {
      writeFileSync(join(dir, '0001_a.sql'), 'SELECT 1;');
      writeFileSync(join(dir, 'notes.sql'), 'SELECT 1;');
      expect(() => listMigrations('postgres', dir)).toThrow(/notes\.sql/);
      rmSync(join(dir, 'notes.sql'));
      writeFileSync(join(dir, '0001_a.postgres.sql'), 'SELECT 2;');
      expect(() => listMigrations('postgres', dir)).toThrow(/more than one file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
