import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { EmbeddedDatabase } from './embedded-database';

// PGlite drops every message after a boundary that lands on a multiple of its 8 KiB receive buffer (the client
// then waits for ever). Found under ingest load (a 16,389-byte insert whose Sync started at byte 16384); here
// statements are sized so that, one after another, each boundary of the extended-protocol group (Bind end,
// Describe, Execute, Sync) crosses 8192 and 16384 bytes. Every one must be answered.
jest.setTimeout(120_000);

describe('embedded database: statements whose message boundaries fall on the receive buffer', () => {
  let dir: string;
  let db: EmbeddedDatabase;
  let client: Client;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-embedded-'));
    db = await EmbeddedDatabase.start({ dataDir: dir, logger: pino({ level: 'silent' }) });
    // A dropped message means no reply: fail in seconds instead of hanging.
    client = new Client({
      host: '127.0.0.1',
      port: db.port,
      user: 'postgres',
      database: 'postgres',
      query_timeout: 5000,
    });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await db?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([8192, 16384])('answers every statement around a %d-byte boundary', async (around) => {
    const lengths: number[] = [];
    for (let n = around - 200; n <= around + 40; n++) {
      const { rows } = await client.query<{ n: number }>('SELECT length($1::text) AS n', ['x'.repeat(n)]);
      lengths.push(rows[0].n);
    }
    expect(lengths).toEqual(Array.from({ length: 241 }, (_, i) => around - 200 + i));
  });
});
