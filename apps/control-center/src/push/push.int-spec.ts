import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import {
  topics,
  WsServerFrameSchema,
  type Alert,
  type AlertsSinceResponse,
  type Role,
  type WsServerFrame,
} from '@vigil/contracts';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { io, type Socket } from 'socket.io-client';
import { PrivateMosquitto } from '../../../../test/support/private-mosquitto';
import { ScratchDatabase } from '../../../../test/support/scratch-database';
import { MOSQUITTO_URL, REDIS_URL, uniqueId, waitFor } from '../../../../test/support/services';
import { simulatedEvent } from '../../../../edge/tools/simulator/edge-simulator';
import mqtt from 'mqtt';
import { AlertService } from '../alerts/alert.service';
import { AppModule } from '../app.module';
import type { AuthUser } from '../auth/auth.decorators';
import { TokenService } from '../auth/token.service';
import { loadConfig } from '../config/app-config';
import { DATABASE } from '../database/database.tokens';
import type { Database } from '../database/database.types';
import { IngestRepository } from '../database/repositories/ingest.repository';
import { eventItems } from '../database/testing/ingest-items';
import { EventBus } from '../events/event-bus';
import { PushIoAdapter } from './push-io.adapter';

jest.setTimeout(60_000);

const JWT_SECRET = 'push-int-secret-0123456789abcdef0123456789';
const ISSUER = 'vigil-centre';
const AUDIENCE = 'vigil-api';

/** A console: its socket and every frame it received, in order. */
interface Console {
  socket: Socket;
  frames: WsServerFrame[];
}

// Two centre instances on one PostgreSQL database and one Redis, each serving socket.io on its own port, as two
// replicas behind a load balancer would. The first reads the machine's Mosquitto; the second a private one, so that an
// edge event published on the shared broker is ingested by the first only.
describe('live push over socket.io (real AppModule, PostgreSQL, Redis)', () => {
  let scratch: ScratchDatabase;
  let privateBroker: PrivateMosquitto | undefined;
  const dirs: string[] = [];
  const apps: INestApplication[] = [];
  const urls: string[] = [];
  const sockets: Socket[] = [];
  const siteA = uniqueId('site-a');
  const siteB = uniqueId('site-b');

  /** A centre on the shared Mosquitto, or on a private one (`broker`): then it ingests nothing published here. */
  async function startCentre(broker = MOSQUITTO_URL): Promise<INestApplication> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-push-'));
    dirs.push(dir);
    const logger = pino({ level: 'silent' });
    const config = loadConfig({
      DATABASE_URL: scratch.url,
      DATA_DIR: dir,
      MQTT_URL: broker,
      MQTT_CLIENT_ID: uniqueId('push'),
      MQTT_SHARE_GROUP: uniqueId('push'),
      MAINTENANCE_INTERVAL_S: '3600',
      JWT_SECRET,
      REDIS_URL,
    });
    const app = await NestFactory.create(AppModule.forRoot(config, logger), { logger: false });
    apps.push(app);
    app.useWebSocketAdapter(await PushIoAdapter.create(app, config.push.redisUrl, logger));
    await app.listen(0, '127.0.0.1');
    const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
    urls.push(`http://127.0.0.1:${port}`);
    return app;
  }

  function tokenFor(role: Role, siteIds: string[], app = apps[0]): string {
    return app
      .get(TokenService)
      .signAccess({ id: randomUUID(), username: `${role}-${randomUUID().slice(0, 6)}`, role, siteIds });
  }

  function user(role: Role, siteIds: string[]): AuthUser {
    return { id: randomUUID(), username: `${role}-x`, role, siteIds, allSites: role === 'admin' || role === 'auditor' };
  }

  function connect(auth: { token?: string; header?: string }, centre = 0): { socket: Socket; ready: Promise<Console> } {
    const socket = io(`${urls[centre]}/live`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: auth.token === undefined ? {} : { token: auth.token },
      extraHeaders: auth.header === undefined ? undefined : { authorization: auth.header },
    });
    sockets.push(socket);
    const frames: WsServerFrame[] = [];
    for (const event of ['alert.created', 'alert.updated']) {
      socket.on(event, (frame: unknown) => void frames.push(WsServerFrameSchema.parse(frame)));
    }
    const ready = new Promise<Console>((resolve, reject) => {
      socket.once('connect', () => resolve({ socket, frames }));
      socket.once('connect_error', reject);
    });
    return { socket, ready };
  }

  const connected = (token: string, centre = 0) => connect({ token }, centre).ready;

  /** A refused handshake's error message. */
  async function refusal(auth: { token?: string; header?: string }): Promise<string> {
    const { ready } = connect(auth);
    return ready.then(
      () => 'connected',
      (err: Error) => err.message,
    );
  }

  /** One violation start ingested by `centre`: stored as ingest stores it, then its committed batch on that bus. */
  async function ingestViolation(siteId: string, centre = 0): Promise<void> {
    const app = apps[centre];
    const items = eventItems(1, { siteId });
    const r = await new IngestRepository(app.get<Database>(DATABASE)).insertBatch(items);
    app.get(EventBus).emit('ingest.committed', {
      committedAt: new Date(),
      items,
      deadLetters: [],
      losses: [],
      inserted: r.inserted,
      duplicates: r.duplicates,
    });
  }

  const alertsOf = (c: Console, event: WsServerFrame['event'] = 'alert.created') =>
    c.frames.filter((f) => f.event === event).map((f) => f.data as Alert);

  function since(socket: Socket, after: string | null): Promise<AlertsSinceResponse> {
    return socket.timeout(10_000).emitWithAck('alerts.since', { after }) as Promise<AlertsSinceResponse>;
  }

  async function storedIds(siteId: string): Promise<string[]> {
    const rows = await scratch.query<{ id: string }>(
      'SELECT id::text AS id FROM alerts WHERE site_id = $1 ORDER BY id',
      [siteId],
    );
    return rows.map((r) => r.id);
  }

  beforeAll(async () => {
    scratch = await ScratchDatabase.create();
    privateBroker = await PrivateMosquitto.start();
    await startCentre();
    await startCentre(privateBroker.url);
  });

  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });

  afterAll(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    for (const app of apps.splice(0)) await app.close();
    await privateBroker?.stop();
    await scratch?.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a handshake without a token, with a forged or an expired one; accepts a valid one either way', async () => {
    expect(await refusal({})).toBe('UNAUTHENTICATED');
    const claims = { sub: randomUUID(), username: 'op', role: 'operator', sites: [siteA] };
    const forged = new JwtService({ secret: 'another-secret-0123456789abcdef0123456789' }).sign(claims, {
      issuer: ISSUER,
      audience: AUDIENCE,
      expiresIn: 300,
    });
    expect(await refusal({ token: forged })).toBe('UNAUTHENTICATED');
    const expired = new JwtService({ secret: JWT_SECRET }).sign(
      { ...claims, exp: Math.floor(Date.now() / 1000) - 60 },
      { issuer: ISSUER, audience: AUDIENCE },
    );
    expect(await refusal({ token: expired })).toBe('UNAUTHENTICATED');
    expect(await refusal({ header: `Bearer ${forged}` })).toBe('UNAUTHENTICATED');
    expect(await refusal({ token: tokenFor('operator', [siteA]) })).toBe('connected');
    expect(await refusal({ header: `Bearer ${tokenFor('operator', [siteA])}` })).toBe('connected');
  });

  it('disconnects a console when its access token runs out', async () => {
    const soon = new JwtService({ secret: JWT_SECRET }).sign(
      { sub: randomUUID(), username: 'op', role: 'operator', sites: [siteA], exp: Math.floor(Date.now() / 1000) + 2 },
      { issuer: ISSUER, audience: AUDIENCE },
    );
    const c = await connected(soon);
    const reason = await new Promise<string>((resolve) => c.socket.once('disconnect', resolve));
    expect(reason).toBe('io server disconnect');
  });

  it("pushes a site's alerts to its operators and admins, never to another site's operator or to analysts", async () => {
    const opA = await connected(tokenFor('operator', [siteA]));
    const opB = await connected(tokenFor('operator', [siteB]));
    const admin = await connected(tokenFor('admin', []));
    const analyst = await connected(tokenFor('traffic_analyst', [siteA, siteB]));
    await ingestViolation(siteA);
    await ingestViolation(siteB);
    // The centre ingests the whole shared broker (other runs' edges too): the admin's view is read for our sites.
    const ours = () => alertsOf(admin).filter((x) => x.siteId === siteA || x.siteId === siteB);
    await waitFor('both alerts at the admin', () => ours().length === 2);
    await waitFor('site A alert at A', () => alertsOf(opA).length === 1);
    await waitFor('site B alert at B', () => alertsOf(opB).length === 1);
    // Frames are typed and whole: the alert as stored.
    const [a] = alertsOf(opA);
    expect(a.siteId).toBe(siteA);
    expect(await storedIds(siteA)).toContain(a.id);
    expect(alertsOf(opB)[0].siteId).toBe(siteB);
    // Let any stray frame arrive before asserting none did.
    await new Promise((r) => setTimeout(r, 300));
    expect(opA.frames).toHaveLength(1);
    expect(opB.frames).toHaveLength(1);
    expect(analyst.frames).toEqual([]);
    expect(await since(analyst.socket, null)).toEqual({ error: expect.objectContaining({ code: 'FORBIDDEN' }) });
    await expect(since(opA.socket, 'not-an-id')).resolves.toEqual({
      error: expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    });
  });

  it('delivers what was created while a console was away through alerts.since, none twice', async () => {
    const site = uniqueId('site-r');
    const token = tokenFor('operator', [site]);
    const first = await connected(token);
    await ingestViolation(site);
    await waitFor('the first alert pushed', () => alertsOf(first).length === 1);
    const shown = new Map<string, Alert>(alertsOf(first).map((a) => [a.id, a]));
    const lastId = alertsOf(first)[0].id;
    first.socket.disconnect();

    await ingestViolation(site);
    await ingestViolation(site);
    await waitForStored(site, 3);

    // The console's reconnect: listen first, then catch up from the last id, merging by id (newer version wins).
    const again = await connected(token);
    const caught = await since(again.socket, lastId);
    if (!('items' in caught)) throw new Error(JSON.stringify(caught));
    expect(caught.more).toBe(false);
    const received = [...caught.items, ...alertsOf(again)];
    for (const a of received) shown.set(a.id, a);
    expect(caught.items.map((a) => a.id)).toEqual((await storedIds(site)).slice(1));
    expect([...shown.keys()].sort()).toEqual((await storedIds(site)).sort());
    expect(received.map((a) => a.id)).toEqual([...new Set(received.map((a) => a.id))]);

    // A later alert comes by push only; asking again from the newest id held returns nothing more.
    await ingestViolation(site);
    await waitFor('the later alert pushed', () => alertsOf(again).length === 1);
    expect(await since(again.socket, alertsOf(again)[0].id)).toEqual({ items: [], more: false });
  });

  async function waitForStored(site: string, n: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((await storedIds(site)).length < n) {
      if (Date.now() > deadline) throw new Error(`fewer than ${n} alerts stored for ${site}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("shows one operator's transition on another operator's console as alert.updated", async () => {
    const site = uniqueId('site-t');
    const watcher = await connected(tokenFor('operator', [site]));
    await ingestViolation(site);
    const [alert] = await waitFor('pushed', () => (alertsOf(watcher).length === 1 ? alertsOf(watcher) : undefined));
    await apps[0].get(AlertService).transition(user('operator', [site]), alert.id, 'acknowledge', alert.version);
    const updated = await waitFor('the update pushed', () => alertsOf(watcher, 'alert.updated')[0]);
    expect(updated).toMatchObject({ id: alert.id, state: 'acknowledged', version: alert.version + 1 });
  });

  it('pushes an alert ingested over MQTT by one centre to a console connected to the other (Redis adapter)', async () => {
    // Centre 0 reads the shared Mosquitto; centre 1 a private one, so only centre 0 can ingest this event.
    const site = uniqueId('site-x');
    const onSecond = await connected(tokenFor('operator', [site], apps[1]), 1);
    const onFirst = await connected(tokenFor('operator', [site]), 0);
    const event = simulatedEvent(randomUUID(), 1, new Date());
    const edge = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: uniqueId('push-edge'), clean: true });
    try {
      const topic = topics.edgeCamera('event', { siteId: site, nodeId: 'node-1', cameraId: 'cam-1' });
      await edge.publishAsync(topic, JSON.stringify(event), { qos: 1 });
    } finally {
      await edge.endAsync();
    }
    const [pushed] = await waitFor(
      'pushed across replicas',
      () => (alertsOf(onSecond).length === 1 ? alertsOf(onSecond) : undefined),
      20_000,
    );
    expect(pushed).toMatchObject({ siteId: site, source: event.eventId, kind: event.kind });
    expect(await storedIds(site)).toEqual([pushed.id]);
    await waitFor('pushed locally too', () => alertsOf(onFirst).length === 1);
    await new Promise((r) => setTimeout(r, 300));
    // Exactly once on each console: the adapter does not echo a broadcast back to its sender's sockets.
    expect(alertsOf(onSecond)).toHaveLength(1);
    expect(alertsOf(onFirst)).toHaveLength(1);
  });
});
