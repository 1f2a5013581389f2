import { parseMessage, parseTopic, topics, type EdgeKind, type ParseResult } from '@vigil/contracts';
import { loadFixtures } from '@vigil/contracts/testing/golden-fixtures';
import pino from 'pino';
import { detectProtocolVersion, MqttRepository } from '../apps/control-center/src/mqtt/mqtt.repository';
import { EdgeMqttClient } from '../edge/src/publish/edge-mqtt.client';
import { MOSQUITTO_URL, uniqueId, waitFor } from './support/services';

// Edge and centre agree only through @vigil/contracts: every golden fixture goes out through the edge's topic
// builder, crosses a real Mosquitto, and must parse back identically on the centre's side.
jest.setTimeout(30_000);

describe('contracts over a real Mosquitto', () => {
  const siteId = uniqueId('e2e');
  const node = { siteId, nodeId: 'node-1' };
  const received: ParseResult[] = [];
  let centre: MqttRepository;
  let edge: EdgeMqttClient;

  beforeAll(async () => {
    const protocolVersion = await detectProtocolVersion(MOSQUITTO_URL, {});
    centre = new MqttRepository(
      {
        url: MOSQUITTO_URL,
        clientId: uniqueId('centre'),
        shareGroup: uniqueId('grp'),
        protocolVersion,
        persistentSession: false,
      },
      pino({ level: 'silent' }),
    );
    await centre.start((msg) => {
      if (msg.topic.includes(`/${siteId}/`)) received.push(parseMessage(msg.topic, msg.payload));
      return true;
    });
    await waitFor('centre subscribed', () => centre.isConnected);
    edge = new EdgeMqttClient({
      url: MOSQUITTO_URL,
      node,
      version: '0.1.0',
      configVersion: null,
      cameras: ['cam-north'],
    });
    await edge.connect();
  });

  afterAll(async () => {
    await edge?.close();
    await centre?.stop();
  });

  it('detects that Mosquitto accepts MQTT 5', () => {
    expect(centre.protocolVersion).toBe(5);
  });

  it('delivers every edge fixture, parsed identically, with identity from the topic', async () => {
    const fixtures = loadFixtures('valid').filter((f) => parseTopic(f.topic)?.root === 'edge');
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
    for (const f of fixtures) {
      const t = parseTopic(f.topic)!;
      const topic = topics.edge(t.kind as EdgeKind, { ...node, cameraId: 'cameraId' in t ? t.cameraId : null });
      await edge.publishRaw(topic, f.bytes);
    }
    await waitFor('all fixtures', () => received.length >= fixtures.length);
    expect(received.filter((r) => !r.ok)).toEqual([]);
    fixtures.forEach((f, i) => {
      const r = received[i];
      if (!r.ok) throw new Error('unreachable');
      expect(r.topic).toMatchObject({ siteId, nodeId: 'node-1', kind: parseTopic(f.topic)!.kind });
      if (r.kind === 'evidence_jpeg') {
        expect(r.message.header).toEqual(f.json);
        expect(r.message.jpeg.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
      } else {
        expect(r.message).toEqual(f.json);
      }
    });
  });

  it('publishes typed messages through the topic builder', async () => {
    received.length = 0;
    const ts = new Date().toISOString();
    await edge.publish('camera_status', 'cam-north', {
      bootId: edge.bootId,
      seq: 1,
      ts,
      state: 'connecting',
      reason: null,
      attempt: 1,
      nextRetryMs: null,
      frameSize: null,
    });
    const r = await waitFor('camera status', () => received.find((m) => m.ok && m.kind === 'camera_status'));
    expect(r.ok && r.topic).toMatchObject({ cameraId: 'cam-north', kind: 'camera_status' });
  });

  it('refuses to publish a message that breaks the contract', async () => {
    await expect(edge.publish('heartbeat', null, { bootId: edge.bootId, seq: 0 } as never)).rejects.toThrow(
      /refusing to publish an invalid heartbeat message: .*seq/,
    );
  });

  it("sends the node's last will when the edge vanishes", async () => {
    received.length = 0;
    edge.simulateConnectionLoss();
    const will = await waitFor('last will', () => received.find((m) => m.ok && m.kind === 'node_status'));
    expect(will.ok && will.message).toMatchObject({ state: 'offline', reason: 'connection_lost', bootId: edge.bootId });
    expect(will.ok && 'seq' in will.message && will.message.seq).toBeFalsy();
  });
});
