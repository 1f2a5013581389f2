import { Client } from 'pg';
import { POSTGRES_URL, uniqueId } from './services';

/**
 * A throw-away database on the machine's PostgreSQL server (`VIGIL_TEST_PG_URL`, see services.ts), for one test file
 * or benchmark, dropped afterwards. The one scratch database of every tier (int, e2e, benchmarks).
 */
export class ScratchDatabase {
  private constructor(
    readonly name: string,
    readonly url: string,
  ) {}

  static async create(prefix = 'vigil_test'): Promise<ScratchDatabase> {
    const name = uniqueId(prefix).replace(/-/g, '_');
    await admin((c) => c.query(`CREATE DATABASE ${name}`));
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${name}`;
    return new ScratchDatabase(name, url.toString());
  }

  async query<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
    const c = new Client({ connectionString: this.url });
    await c.connect();
    try {
      return (await c.query<T>(sql, params)).rows;
    } finally {
      await c.end();
    }
  }

  async drop(): Promise<void> {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`));
  }
}

/** Runs `work` on a connection to the server's maintenance database, closed whatever happens. */
async function admin(work: (c: Client) => Promise<unknown>): Promise<void> {
  const c = new Client({ connectionString: POSTGRES_URL });
  await c.connect();
  try {
    await work(c);
  } finally {
    await c.end();
  }
}
