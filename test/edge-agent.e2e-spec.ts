import { createHash, randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { encodeMessage, parseMessages, topics, type EdgeConfigInput, type ParsedMessage } from '@vigil/contracts';
import { startVirtualCamera, type VirtualCamera } from '../edge/tools/virtual-camera/virtual-camera';
import { EdgeProcess } from './support/edge-process';
import { virtualPlazaConfig } from './support/virtual-plaza.config';
import { MOSQUITTO_URL, uniqueId, waitFor } from './support/services';

// The edge CLI end to end: settings file → ONVIF discovery of the (virtual) camera with digest auth → RTSP over TCP
// → ffmpeg → YOLOX → tracker → rules → outbox → a real Mosquitto. Configuration from the centre is applied or
// rejected with reasons, and a rejected one leaves the previous in force.
jest.setTimeout(180_000);

const CLIP = `${process.env.VIGIL_ASSETS_DIR ?? `${__dirname}/../../shared/assets`}/videos/opencv_vtest.avi`;

describe('edge agent against a virtual ONVIF camera', () => {
  const siteId = uniqueId('edge');
  const node = { siteId, nodeId: 'node-1' };
  const seen: ParsedMessage[] = [];
  let camera: VirtualCamera;
  let edge: EdgeProcess;
  let checker: mqtt.MqttClient;

  const baseConfig = (version: number): EdgeConfigInput => virtualPlazaConfig(version, camera.onvifXAddr);

  beforeAll(async () => {
    camera = await startVirtualCamera({ clip: CLIP, username: 'operator', password: 'camera-secret-42' });
    checker = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: uniqueId('checker'), clean: true });
    checker.on('message', (topic, payload) => {
      // A backlog arrives as `batch` messages: look at their entries as the centre does.
      for (const r of parseMessages(topic, payload)) if (r.ok) seen.push(r);
    });
    await checker.subscribeAsync(`vigil/v1/edge/${siteId}/#`, { qos: 1 });
    edge = new EdgeProcess(
      {
        node,
        broker: { url: MOSQUITTO_URL },
        credentials: { 'cam-1': { username: 'operator', password: { env: 'CAM1_PASSWORD' } } },
        heartbeatSeconds: 2,
        summarySeconds: 2,
        // Two inference sessions: frames go through the detector pool as on a node with many cameras.
        detector: { sessions: 2 },
        config: baseConfig(1),
      },
      { CAM1_PASSWORD: 'camera-secret-42' },
    );
    edge.start();
  });

  afterAll(async () => {
    await edge?.kill('SIGTERM');
    await checker?.endAsync();
    await camera?.close();
  });

  it('finds the stream over ONVIF, streams, detects and reports through MQTT', async () => {
    await waitFor(
      'camera streaming',
      () => seen.find((m) => m.kind === 'camera_status' && m.message.state === 'streaming'),
      60_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${edge.log}`);
    });
    const hb = await waitFor(
      'a heartbeat with analysed frames',
      () => seen.find((m) => m.kind === 'heartbeat' && m.message.cameras.some((c) => c.fps > 0)),
      30_000,
    );
    expect(hb.kind === 'heartbeat' && hb.message.configVersion).toBe(1);
    await waitFor(
      'a detection summary with persons',
      () => /"detection summary"/.test(edge.log) && /"person":\d/.test(edge.log),
      30_000,
    );
    expect(edge.log).toMatch(/"sessions":2,"warmInferenceMs":[\d.]+,"msg":"detector loaded"/);
    const online = seen.find((m) => m.kind === 'node_status');
    expect(online?.kind === 'node_status' && online.message.state).toBe('online');
  });

  it('reports the parked vehicles as violations with privacy-masked evidence', async () => {
    const start = await waitFor(
      'a parking violation start',
      () => seen.find((m) => m.kind === 'event' && m.message.phase === 'start'),
      90_000,
    );
    if (start.kind !== 'event') throw new Error('unreachable');
    expect(start.message).toMatchObject({ kind: 'parking_violation', zoneId: 'top-right', ruleId: 'no-parking' });
    expect(['car', 'truck', 'bus']).toContain(start.message.objectClass);
    expect(start.message.model).toMatchObject({ modelId: 'yolox_nano_416', trackerId: 'bytetrack-v1' });
    const ref = start.message.evidence;
    expect(ref).not.toBeNull();
    const image = await waitFor('its evidence image', () =>
      seen.find((m) => m.kind === 'evidence_jpeg' && m.message.header.evidenceId === ref!.evidenceId),
    );
    const meta = seen.find((m) => m.kind === 'evidence' && m.message.evidenceId === ref!.evidenceId);
    if (image.kind !== 'evidence_jpeg' || meta?.kind !== 'evidence') throw new Error('evidence incomplete');
    expect(createHash('sha256').update(image.message.jpeg).digest('hex')).toBe(ref!.sha256);
    expect(meta.message).toMatchObject({
      eventId: start.message.eventId,
      sha256: ref!.sha256,
      bytes: image.message.jpeg.length,
    });
    const { width, format } = await sharp(image.message.jpeg).metadata();
    expect(format).toBe('jpeg');
    expect(width).toBe(meta.message.width);
  });

  it("answers an operator's snapshot request with a masked picture", async () => {
    const requestId = randomUUID();
    await checker.publishAsync(
      topics.centre('snapshot', node),
      encodeMessage('snapshot', {
        requestId,
        cameraId: 'cam-1',
        requestedBy: 'operator:test',
        ts: new Date().toISOString(),
      }),
      { qos: 1 },
    );
    const meta = await waitFor('the snapshot metadata', () =>
      seen.find((m) => m.kind === 'evidence' && m.message.requestId === requestId),
    );
    if (meta.kind !== 'evidence') throw new Error('unreachable');
    expect(meta.message.eventId).toBeNull();
    const image = await waitFor('the snapshot image', () =>
      seen.find((m) => m.kind === 'evidence_jpeg' && m.message.header.evidenceId === meta.message.evidenceId),
    );
    if (image.kind !== 'evidence_jpeg') throw new Error('unreachable');
    expect(createHash('sha256').update(image.message.jpeg).digest('hex')).toBe(meta.message.sha256);
  });

  it('never writes the camera password to its logs or messages', () => {
    expect(edge.log).not.toContain('camera-secret-42');
    expect(JSON.stringify(seen)).not.toContain('camera-secret-42');
  });

  it('applies a newer configuration from the centre and acknowledges it', async () => {
    await checker.publishAsync(topics.centre('config', node), encodeMessage('config', baseConfig(2)), {
      qos: 1,
      retain: true,
    });
    const ack = await waitFor(
      'config ack v2',
      () => seen.find((m) => m.kind === 'config_ack' && m.message.configVersion === 2),
      30_000,
    );
    expect(ack.kind === 'config_ack' && ack.message).toMatchObject({ status: 'applied', errors: [] });
  });

  it('rejects an invalid configuration with reasons and keeps the previous one', async () => {
    const bad = baseConfig(3) as { zones: { polygon: number[][] }[] };
    bad.zones[0].polygon = [
      [0.1, 0.1],
      [0.5, 0.5],
      [0.5, 0.1],
      [0.1, 0.5],
    ];
    await checker.publishAsync(topics.centre('config', node), Buffer.from(JSON.stringify(bad)), {
      qos: 1,
      retain: true,
    });
    const ack = await waitFor(
      'config ack v3',
      () => seen.find((m) => m.kind === 'config_ack' && m.message.configVersion === 3),
      30_000,
    );
    expect(ack.kind === 'config_ack' && ack.message.status).toBe('rejected');
    expect(ack.kind === 'config_ack' && ack.message.errors[0]).toMatchObject({ path: 'zones.0.polygon' });
    const count = seen.length;
    const hb = await waitFor('a later heartbeat', () => seen.slice(count).find((m) => m.kind === 'heartbeat'), 15_000);
    expect(hb.kind === 'heartbeat' && hb.message.configVersion).toBe(2);
    // Clean the retained config so later runs of this broker do not see it.
    await checker.publishAsync(topics.centre('config', node), Buffer.alloc(0), { qos: 1, retain: true });
  });
});
