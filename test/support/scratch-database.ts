import { Client } from 'pg';
import { POSTGRES_URL, uniqueId } from './services';

/** A throw-away database on the machine's PostgreSQL server, dropped after the test. */
export class ScratchDatabase {
  private constructor(
    readonly name: string,
    readonly url: string,
  ) {}

  static async create(prefix = 'vigil_e2e'): Promise<ScratchDatabase> {
    const name = uniqueId(prefix).replace(/-/g, '_');
    const admin = new Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
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
    const admin = new Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
    await admin.end();
  }
}
