import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { parseMessage, topics, type ParseResult } from '@vigil/contracts';
import { freePort, MOSQUITTO_URL } from '../../../test/support/services';
import { EdgeDelivery } from './edge-delivery.service';
import { Outbox } from './outbox.store';
import { CentreChecker } from './testing/centre-checker';
import { cameraStatusItem, crossingItem, evidenceJpegItem, mixedItem } from './testing/outbox-messages';

// EdgeDelivery against the machine's Mosquitto (node status, retained topics, drain on stop), and against no
// broker at all (a node that boots during an outage records and stops without hanging).
jest.setTimeout(60_000);

const MQTT_URL = MOSQUITTO_URL;
const mqttOptions = { version: '0.1.0', configVersion: 3, cameras: ['cam-1'], protocolVersion: 'auto' as const };

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What a late subscriber gets from a retained topic. */
async function retained(topic: string): Promise<ParseResult> {
  const client = await mqtt.connectAsync(MQTT_URL, { clientId: `retained-${randomBytes(4).toString('hex')}` });
  try {
    const got = new Promise<ParseResult>((resolve) =>
      client.on('message', (t, payload) => resolve(parseMessage(t, payload))),
    );
    await client.subscribeAsync(topic, { qos: 1 });
    return await got;
  } finally {
    await client.endAsync(true);
  }
}

describe('EdgeDelivery', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-delivery-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('announces the node, delivers through the outbox until committed, and leaves retained statuses behind', async () => {
    const siteId = `delivery-${randomBytes(4).toString('hex')}`;
    const node = { siteId, nodeId: 'node-1' };
    const checker = new CentreChecker(MQTT_URL, siteId);
    await checker.start();
    const delivery = EdgeDelivery.open({ outbox: { dir, node }, mqtt: { url: MQTT_URL, ...mqttOptions } });
    try {
      await delivery.start();
      delivery.enqueueMany([...Array.from({ length: 40 }, (_, k) => mixedItem(k + 1)), cameraStatusItem(0)]);
      delivery.enqueue(evidenceJpegItem(20_000));
      expect(await delivery.publisher.drain(20_000)).toBe(true);
      expect(delivery.client.protocolVersion).toBe(5);
      expect(delivery.heartbeatOutbox()).toMatchObject({ depth: 0, bytes: 0, oldestAgeS: null });
      expect(await delivery.stop(10_000)).toEqual({ drained: true });
      await until('the shutdown status', () => checker.seqsOf(delivery.bootId).length === 44);
      expect(checker.seqsOf(delivery.bootId)).toEqual(Array.from({ length: 44 }, (_, i) => i + 1));
      expect(checker.invalid).toEqual([]);
      expect(checker.wills).toBe(0); // a clean DISCONNECT: no last will

      const status = await retained(topics.edgeNode('node_status', node));
      expect(status.ok && status.kind === 'node_status' && status.message).toMatchObject({
        bootId: delivery.bootId,
        seq: 44,
        state: 'offline',
        reason: 'shutdown',
        configVersion: 3,
      });
      const camera = await retained(topics.edgeCamera('camera_status', { ...node, cameraId: 'cam-1' }));
      expect(camera.ok && camera.kind === 'camera_status' && camera.message).toMatchObject({ state: 'streaming' });
    } finally {
      await checker.stop();
    }
  });

  it('announces published entries it had to evict before their commit; the centre closes them and the outbox drains', async () => {
    const siteId = `delivery-${randomBytes(4).toString('hex')}`;
    const node = { siteId, nodeId: 'node-1' };
    // This "centre" never gets seqs 4-6 (every copy lost on its side), so it can never commit past 3 by itself.
    const missed = new Set([4, 5, 6]);
    const checker = new CentreChecker(MQTT_URL, siteId, { gapGraceMs: 300, drop: (_b, seq) => missed.has(seq) });
    await checker.start();
    const delivery = EdgeDelivery.open({
      outbox: { dir, node, maxAgeS: 3 },
      mqtt: { url: MQTT_URL, ...mqttOptions },
      publisher: { maintenanceMs: 50, lostAnnounceMs: 500 },
    });
    try {
      await delivery.start();
      delivery.enqueueMany(Array.from({ length: 10 }, (_, k) => crossingItem(k + 1))); // seqs 2-11
      // Replays of 4-6 come back empty-handed for the centre until the age bound evicts them at the edge; then
      // the edge announces them as lost, the centre acknowledges past them and the outbox empties.
      await until('outbox drained past the lost seqs', () => delivery.outbox.depth === 0, 30_000);
      await until('ack past 11', () => delivery.outbox.lostOutstandingSeqs === 0, 10_000);
      expect(checker.lostOf(delivery.bootId)).toEqual([4, 5, 6]);
      expect(checker.seqsOf(delivery.bootId)).toEqual([1, 2, 3, 7, 8, 9, 10, 11]);
      expect(checker.replayRequests).toBeGreaterThan(0);
      expect(checker.gapAnnouncements).toBeGreaterThan(0);
      // 7-11 could not be committed either (the ack is cumulative) and aged out with 4-6 (same enqueue): the edge
      // announced 4-11, the centre counted as lost only what it never had.
      expect(delivery.outbox.stats()).toMatchObject({ lostSinceBoot: 8, lostOutstanding: 0 });
      expect(delivery.publisher.counters.gapAnnouncements).toBeGreaterThan(0);
      // Later messages are committed normally again.
      expect(await delivery.stop(10_000)).toEqual({ drained: true });
      expect(checker.invalid).toEqual([]);
    } finally {
      await checker.stop();
    }
  });

  it('records while no broker is reachable and stops without hanging, keeping everything for the next boot', async () => {
    const port = await freePort();
    const node = { siteId: 'offline-site', nodeId: 'node-1' };
    const delivery = EdgeDelivery.open({
      outbox: { dir, node },
      mqtt: { url: `mqtt://127.0.0.1:${port}`, ...mqttOptions },
    });
    await delivery.start();
    delivery.enqueueMany(Array.from({ length: 10 }, (_, k) => mixedItem(k + 1)));
    expect(delivery.client.connected).toBe(false);
    expect(await delivery.stop(300)).toEqual({ drained: false });
    const reopened = Outbox.open({ dir, node });
    try {
      // online status + 10 messages + shutdown status, none ever published: none has an identity yet.
      expect(reopened.depth).toBe(12);
      expect(reopened.takeForPublish(0, 100).map((e) => e.bootId)).toEqual(Array(12).fill(reopened.bootId));
    } finally {
      reopened.close();
    }
  });
});
