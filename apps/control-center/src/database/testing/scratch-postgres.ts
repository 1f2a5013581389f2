import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The PostgreSQL 15 server on development and CI machines (trust auth). */
export const POSTGRES_ADMIN_URL = process.env.VIGIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database created for one test file on the machine's server, dropped afterwards. */
export class ScratchPostgres {
  private constructor(
    readonly name: string,
    readonly url: string,
  ) {}

  static async create(): Promise<ScratchPostgres> {
    const name = `vigil_test_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    return new ScratchPostgres(name, url.toString());
  }

  async drop(): Promise<void> {
    const admin = new Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}
