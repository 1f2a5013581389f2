import { topics, WsServerFrameSchema, type Alert } from '@vigil/contracts';
import mqtt from 'mqtt';
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { simulatedEvent } from '../edge/tools/simulator/edge-simulator';
import { CentreProcess } from './support/centre-process';
import { PrivateMosquitto } from './support/private-mosquitto';
import { ScratchDatabase } from './support/scratch-database';
import { MOSQUITTO_URL, REDIS_URL, uniqueId, waitFor } from './support/services';

jest.setTimeout(180_000);

const ADMIN = { username: 'chief', password: 'first-admin-pass' };

// Two real centre processes (as `npm start` runs them) on one database and one Redis: the first reads the machine's
// Mosquitto, the second a private broker, so an edge event published on the shared broker is ingested by the first
// only. A console signed in and connected to the second receives it, pushed through Redis.
describe('live push across two centre processes (Redis)', () => {
  let db: ScratchDatabase;
  let privateBroker: PrivateMosquitto;
  const centres: CentreProcess[] = [];
  let socket: Socket | undefined;

  beforeAll(async () => {
    db = await ScratchDatabase.create('vigil_push');
    privateBroker = await PrivateMosquitto.start();
    const common = {
      DATABASE_URL: db.url,
      REDIS_URL,
      JWT_SECRET: 'e2e-push-secret-0123456789abcdef0123456789',
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
    };
    // One after the other: both migrate the same database at start-up.
    centres.push(await CentreProcess.startOnSharedBroker(common));
    const second = await CentreProcess.create({
      ...common,
      MQTT_URL: privateBroker.url,
      MQTT_CLIENT_ID: uniqueId('centre'),
    });
    centres.push(second);
    await second.start();
  });

  afterAll(async () => {
    socket?.disconnect();
    for (const c of centres) await c.stop();
    await privateBroker?.stop();
    await db?.drop();
  });

  it('refuses a console without a token and pushes an alert ingested by one process to a console on the other', async () => {
    const base = centres[1].baseUrl;
    const refused = io(`${base}/live`, { transports: ['websocket'], reconnection: false, forceNew: true });
    const error = await new Promise<Error>((resolve) => refused.once('connect_error', resolve));
    refused.disconnect();
    expect(error.message).toBe('UNAUTHENTICATED');

    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    socket = io(`${base}/live`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token: accessToken },
    });
    const received: Alert[] = [];
    socket.on('alert.created', (frame: unknown) => void received.push(WsServerFrameSchema.parse(frame).data as Alert));
    await new Promise<void>((resolve, reject) => {
      socket!.once('connect', resolve);
      socket!.once('connect_error', reject);
    });

    const site = uniqueId('push-e2e');
    const event = simulatedEvent(randomUUID(), 1, new Date());
    const edge = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: uniqueId('push-edge'), clean: true });
    try {
      const topic = topics.edgeCamera('event', { siteId: site, nodeId: 'node-1', cameraId: 'cam-1' });
      await edge.publishAsync(topic, JSON.stringify(event), { qos: 1 });
    } finally {
      await edge.endAsync();
    }
    // An admin sees every site (the shared broker carries other runs' edges too): ours is read by its site.
    const alert = await waitFor(
      'the alert on the second centre',
      () => received.find((a) => a.siteId === site),
      30_000,
    );
    expect(alert).toMatchObject({ source: event.eventId, kind: event.kind, state: 'new' });
    const rows = await db.query<{ id: string }>('SELECT id::text AS id FROM alerts WHERE site_id = $1', [site]);
    expect(rows).toEqual([{ id: alert.id }]);
  });
});
