import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Role } from '@vigil/contracts';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import request from 'supertest';
import type { App } from 'supertest/types';
import { ScratchDatabase } from '../../../../test/support/scratch-database';
import { MOSQUITTO_URL } from '../../../../test/support/services';
import { AlertSource } from '../alerts/alert-source';
import { AppModule } from '../app.module';
import { loadConfig } from '../config/app-config';
import { IngestRepository, type IngestItem } from '../database/repositories/ingest.repository';
import { DATABASE } from '../database/database.tokens';
import type { Database } from '../database/database.types';

export const JWT_SECRET = 'int-test-secret-0123456789abcdef0123456789';
export const ADMIN = { username: 'root', password: 'root-password-1' };

/**
 * The real centre (AppModule on a scratch database of the machine's PostgreSQL, MQTT on its Mosquitto) served
 * in-process for supertest, with helpers to sign in users of each role and to commit ingest batches through the
 * real alert source.
 */
export class CentreHarness {
  private constructor(
    readonly app: INestApplication,
    readonly http: App,
    readonly scratch: ScratchDatabase,
    private readonly dataDir: string,
  ) {}

  static async start(prefix = 'centre'): Promise<CentreHarness> {
    const scratch = await ScratchDatabase.create();
    const dataDir = mkdtempSync(join(tmpdir(), `vigil-${prefix}-`));
    const config = loadConfig({
      DATABASE_URL: scratch.url,
      DATA_DIR: dataDir,
      MQTT_URL: MOSQUITTO_URL,
      MQTT_CLIENT_ID: `${prefix}-${randomUUID().slice(0, 8)}`,
      MQTT_SHARE_GROUP: `${prefix}-${randomUUID().slice(0, 8)}`,
      MAINTENANCE_INTERVAL_S: '3600',
      JWT_SECRET,
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
    });
    const app = await NestFactory.create(AppModule.forRoot(config, pino({ level: 'silent' })), { logger: false });
    await app.init();
    return new CentreHarness(app, app.getHttpServer() as App, scratch, dataDir);
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.scratch.drop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async token(username: string, password: string): Promise<string> {
    const res = await request(this.http).post('/api/auth/login').send({ username, password }).expect(200);
    return (res.body as { accessToken: string }).accessToken;
  }

  /** Creates a user (as the bootstrap admin) and returns its access token. */
  async userToken(role: Role, siteIds: string[] = [], username = `${role}-${randomUUID().slice(0, 6)}`) {
    const admin = await this.token(ADMIN.username, ADMIN.password);
    const password = `pw-${randomUUID()}`;
    await request(this.http)
      .post('/api/users')
      .set('Authorization', `Bearer ${admin}`)
      .send({ username, password, role, siteIds })
      .expect(201);
    return this.token(username, password);
  }

  /** Stores the items as ingest does and hands the committed batch to the alert source, as the bus would. */
  async commit(items: IngestItem[]): Promise<void> {
    const r = await new IngestRepository(this.app.get<Database>(DATABASE)).insertBatch(items);
    await this.app.get(AlertSource).handle({
      committedAt: new Date(),
      items,
      deadLetters: [],
      losses: [],
      inserted: r.inserted,
      duplicates: r.duplicates,
    });
  }
}
