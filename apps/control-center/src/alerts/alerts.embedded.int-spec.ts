import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../database/database';
import type { Database } from '../database/database.types';
import { silentLogger } from '../database/testing/database-contract';
import { alertContract } from './testing/alert-contract';

jest.setTimeout(120_000);

/** Alerts on the embedded default (PGlite with TimescaleDB, one connection). */
describe('alerts on embedded PGlite + TimescaleDB', () => {
  let dir: string;
  let db: Database;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-alerts-'));
    db = await openDatabase({ dataDir: dir, logger: silentLogger });
  });

  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs on the TimescaleDB flavour', () => {
    expect(db.flavour).toBe('timescaledb');
  });

  alertContract(() => db);
});
