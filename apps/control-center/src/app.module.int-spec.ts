import { NestFactory } from '@nestjs/core';
import { topics } from '@vigil/contracts';
import { loadFixtures } from '@vigil/contracts/testing/golden-fixtures';
import mqtt from 'mqtt';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { AppModule } from './app.module';
import { loadConfig } from './config/app-config';
import { DATABASE } from './database/database.tokens';
import type { Database } from './database/database.types';
import { ScratchDatabase } from '../../../test/support/scratch-database';
import { EventBus } from './events/event-bus';
import type { EventMap } from './events/event-map';
import { IngestService } from './ingest/ingest.service';
import { MqttRepository } from './mqtt/mqtt.repository';

jest.setTimeout(60_000);

const node = { siteId: `life-${randomUUID().slice(0, 8)}`, nodeId: 'node-1' };
const heartbeat = loadFixtures('valid').find((f) => f.name === 'heartbeat')!.json as object;

const MQTT_URL = process.env.VIGIL_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

// The real module graph on the machine's Mosquitto and PostgreSQL (the embedded broker is an ES module jest cannot
// load; the e2e tests run it in the real process): start-up and shutdown order, and that nothing ingest holds is
// lost when the application closes.
describe('AppModule lifecycle', () => {
  let scratch: ScratchDatabase;
  let dataDir: string;

  beforeAll(async () => {
    scratch = await ScratchDatabase.create();
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-app-'));
  });

  afterAll(async () => {
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts MQTT after the database is up, and on close commits what ingest holds before the database closes', async () => {
    const config = loadConfig({
      DATABASE_URL: scratch.url,
      DATA_DIR: dataDir,
      MQTT_URL,
      MQTT_CLIENT_ID: `life-${randomUUID().slice(0, 8)}`,
      MQTT_SHARE_GROUP: `life-${randomUUID().slice(0, 8)}`,
      // Messages wait in the queue: at close they are still uncommitted, and must be committed then.
      INGEST_BATCH_WAIT_MS: '5000',
      MAINTENANCE_INTERVAL_S: '3600',
    });
    const app = await NestFactory.create(AppModule.forRoot(config, pino({ level: 'silent' })), { logger: false });
    const log: string[] = [];
    const db = app.get<Database>(DATABASE);
    const session = app.get(MqttRepository);
    const ingest = app.get(IngestService);
    const record = <T extends object>(target: T, method: keyof T & string, name: string) => {
      const original = (target[method] as (...a: unknown[]) => unknown).bind(target);
      (target as Record<string, unknown>)[method] = async (...args: unknown[]) => {
        log.push(`${name} begins`);
        const result = await original(...args);
        log.push(`${name} done`);
        return result;
      };
    };
    record(session, 'start', 'mqtt.start');
    record(session, 'stop', 'mqtt.stop');
    record(ingest, 'stop', 'ingest.stop');
    record(db, 'close', 'database.close');
    // The shared broker also delivers other tests' retained messages: count this test's own.
    let mine = 0;
    const accept = ingest.accept.bind(ingest);
    ingest.accept = (msg) => {
      if (msg.topic.includes(`/${node.siteId}/`)) mine++;
      return accept(msg);
    };
    const committed: EventMap['ingest.committed'][] = [];
    app.get(EventBus).on('ingest.committed', (e) => void committed.push(e));

    // Providers exist (database migrated, broker listening) before any hook has run.
    expect(await db.ping()).toBe(true);
    expect(log).toEqual([]);
    await app.init();
    expect(log).toEqual(['mqtt.start begins', 'mqtt.start done']);

    const edge = await mqtt.connectAsync(MQTT_URL, { clientId: `edge-${randomUUID().slice(0, 8)}` });
    const deadline = Date.now() + 10_000;
    while (!session.isConnected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const bootId = randomUUID();
    for (let seq = 1; seq <= 20; seq++) {
      // The last one reports outbox evictions: the alert it raises shows the alert source still runs at close.
      const outbox = { ...(heartbeat as { outbox: object }).outbox, evicted: { count: seq === 20 ? 2 : 0 } };
      const payload = JSON.stringify({ ...heartbeat, bootId, seq, ts: new Date().toISOString(), outbox });
      await edge.publishAsync(topics.edgeNode('heartbeat', node), payload, { qos: 1 });
    }
    while (mine < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(mine).toBe(20);
    expect(ingest.queueDepth).toBeGreaterThanOrEqual(20);
    expect(committed).toEqual([]);
    await edge.endAsync();

    await app.close();
    expect(log).toEqual([
      'mqtt.start begins',
      'mqtt.start done',
      'mqtt.stop begins',
      'mqtt.stop done',
      'ingest.stop begins',
      'ingest.stop done',
      'database.close begins',
      'database.close done',
    ]);

    // The held messages were committed during the close, and announced.
    const check = new Client({ connectionString: scratch.url });
    await check.connect();
    try {
      const { rows } = await check.query<{ n: string }>('SELECT count(*) AS n FROM heartbeats WHERE boot_id = $1', [
        bootId,
      ]);
      expect(rows[0].n).toBe('20');
      const alerts = await check.query<{ kind: string; node_id: string }>(
        'SELECT kind, node_id FROM alerts WHERE site_id = $1',
        [node.siteId],
      );
      expect(alerts.rows).toEqual([{ kind: 'outbox_eviction', node_id: node.nodeId }]);
    } finally {
      await check.end();
    }
    const announced = committed.flatMap((e) => e.items).filter((i) => i.siteId === node.siteId);
    expect(announced.map((i) => (i.message as { seq: number }).seq)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(announced[0]).toMatchObject({
      kind: 'heartbeat',
      siteId: node.siteId,
      nodeId: node.nodeId,
      cameraId: null,
    });
  });
});
