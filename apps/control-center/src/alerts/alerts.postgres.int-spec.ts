import { openDatabase } from '../database/database';
import type { Database } from '../database/database.types';
import { silentLogger } from '../database/testing/database-contract';
import { ScratchDatabase } from '../../../../test/support/scratch-database';
import { alertContract } from './testing/alert-contract';

jest.setTimeout(60_000);

/** Alerts on plain PostgreSQL (the machine's server). */
describe('alerts on plain PostgreSQL', () => {
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

  alertContract(() => db);
});
