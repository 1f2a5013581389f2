import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { parseMessages, topics, type ConfigAck, type EdgeConfigInput, type ParsedMessage } from '@vigil/contracts';
import { startVirtualCamera, type VirtualCamera } from '../edge/tools/virtual-camera/virtual-camera';
import { EdgeProcess } from './support/edge-process';
import { virtualPlazaConfig } from './support/virtual-plaza.config';
import { MOSQUITTO_URL, uniqueId, waitFor } from './support/services';

// Live reconfiguration of the real agent (CLI, virtual ONVIF camera, YOLOX, Mosquitto), one agent for the whole
// sequence: what runs after each configuration, and what its ack says. A rejected configuration changes nothing.
jest.setTimeout(240_000);

const ASSETS = process.env.VIGIL_ASSETS_DIR ?? join(__dirname, '..', '..', 'shared', 'assets');
const CLIP = join(ASSETS, 'videos', 'opencv_vtest.avi');

describe('edge agent reconfiguration', () => {
  const siteId = uniqueId('reconf');
  const node = { siteId, nodeId: 'node-1' };
  const seen: { at: number; m: ParsedMessage }[] = [];
  let camera: VirtualCamera;
  let edge: EdgeProcess;
  let checker: mqtt.MqttClient;
  // A models folder with a long path (an error naming it twice is longer than an ack's 500 characters), the real
  // YOLOX weights, a corrupt NanoDet file and no DEIM file.
  const modelsDir = join(
    mkdtempSync(join(tmpdir(), 'vigil-models-')),
    ...Array.from({ length: 3 }, () => 'm'.repeat(120)),
  );

  const config = (version: number, patch: Partial<EdgeConfigInput> = {}): EdgeConfigInput =>
    virtualPlazaConfig(version, camera.onvifXAddr, {
      detection: { modelId: 'yolox_nano_416', scoreThreshold: 0.7 },
      rules: [{ id: 'park-a', kind: 'parking_violation', zoneId: 'top-right', dwellSeconds: 3 }],
      ...patch,
    });

  const since = (t: number) => seen.filter((s) => s.at >= t).map((s) => s.m);

  async function send(doc: EdgeConfigInput | Record<string, unknown>): Promise<ConfigAck> {
    const version = doc.version as number;
    await checker.publishAsync(topics.centre('config', node), Buffer.from(JSON.stringify(doc)), {
      qos: 1,
      retain: true,
    });
    const ack = await waitFor(
      `config ack v${version}`,
      () => seen.find((s) => s.m.kind === 'config_ack' && s.m.message.configVersion === version),
      60_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${edge.log.slice(-4000)}`);
    });
    if (ack.m.kind !== 'config_ack') throw new Error('unreachable');
    return ack.m.message;
  }

  /** A heartbeat after `t` (so it reflects what was applied by then). */
  const heartbeatAfter = (t: number) =>
    waitFor(
      'a heartbeat',
      () => {
        const hb = since(t).find((m) => m.kind === 'heartbeat');
        return hb?.kind === 'heartbeat' ? hb.message : undefined;
      },
      15_000,
    );

  const streamingAfter = (t: number) =>
    waitFor(
      'camera streaming',
      () => since(t).find((m) => m.kind === 'camera_status' && m.message.state === 'streaming'),
      60_000,
    );

  const restartsAfter = (t: number) =>
    since(t).filter((m) => m.kind === 'camera_status' && m.message.state === 'connecting');

  beforeAll(async () => {
    mkdirSync(modelsDir, { recursive: true });
    symlinkSync(resolve(ASSETS, 'models', 'yolox_nano_416.onnx'), join(modelsDir, 'yolox_nano_416.onnx'));
    writeFileSync(join(modelsDir, 'nanodet_m_416.onnx'), Buffer.from('this is not an ONNX model'));
    camera = await startVirtualCamera({ clip: CLIP, username: 'operator', password: 'camera-secret-42' });
    checker = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: uniqueId('checker'), clean: true });
    checker.on('message', (topic, payload) => {
      for (const r of parseMessages(topic, payload)) if (r.ok) seen.push({ at: Date.now(), m: r });
    });
    await checker.subscribeAsync(`vigil/v1/edge/${siteId}/#`, { qos: 1 });
    edge = new EdgeProcess(
      {
        node,
        broker: { url: MOSQUITTO_URL },
        modelsDir,
        credentials: { 'cam-1': { username: 'operator', password: { env: 'CAM1_PASSWORD' } } },
        heartbeatSeconds: 1,
        summarySeconds: 0,
        detector: { sessions: 1 },
        // A threshold above 0.6 made the tracker throw: the node used to boot with no camera at all.
        config: config(1),
      },
      { CAM1_PASSWORD: 'camera-secret-42' },
    );
    edge.start();
  });

  afterAll(async () => {
    await checker?.publishAsync(topics.centre('config', node), Buffer.alloc(0), { qos: 1, retain: true });
    await edge?.kill('SIGTERM');
    await checker?.endAsync();
    await camera?.close();
  });

  it('boots with scoreThreshold 0.7 and runs its camera', async () => {
    await streamingAfter(0).catch((e: Error) => {
      throw new Error(`${e.message}\n${edge.log}`);
    });
    const hb = await waitFor(
      'frames analysed',
      () => {
        const m = seen.find((s) => s.m.kind === 'heartbeat' && s.m.message.cameras.some((c) => c.fps > 0))?.m;
        return m?.kind === 'heartbeat' ? m.message : undefined;
      },
      30_000,
    );
    expect(hb.configVersion).toBe(1);
  });

  it('applies a threshold change at once, without restarting the camera, and names it in provenance', async () => {
    const t = Date.now();
    const ack = await send(
      config(2, {
        detection: { modelId: 'yolox_nano_416', scoreThreshold: 0.4, nmsIou: 0.5, classThresholds: { person: 0.6 } },
        // A new rule id: the old rule's violations end, the new rule's start under the new thresholds.
        rules: [{ id: 'park-b', kind: 'parking_violation', zoneId: 'top-right', dwellSeconds: 3 }],
      }),
    );
    expect(ack).toMatchObject({ status: 'applied', errors: [] });
    const start = await waitFor(
      'a violation of the new rule',
      () => since(t).find((m) => m.kind === 'event' && m.message.ruleId === 'park-b' && m.message.phase === 'start'),
      60_000,
    );
    expect(start.kind === 'event' && start.message.model).toMatchObject({
      modelId: 'yolox_nano_416',
      scoreThreshold: 0.4,
      nmsIou: 0.5,
      classThresholds: { person: 0.6 },
    });
    expect(restartsAfter(t)).toEqual([]);
    expect(edge.log.match(/"msg":"detector loaded"/g)).toHaveLength(1);
  });

  it('rejects a threshold outside the contract; the previous configuration stays in force', async () => {
    const ack = await send(config(3, { detection: { modelId: 'yolox_nano_416', scoreThreshold: 0.05 } }));
    expect(ack.status).toBe('rejected');
    expect(ack.errors[0]).toMatchObject({ path: 'detection.scoreThreshold' });
    expect((await heartbeatAfter(Date.now())).configVersion).toBe(2);
  });

  it('rejects a model that fails to load, and keeps detecting with the one in force', async () => {
    const t = Date.now();
    const ack = await send(config(4, { detection: { modelId: 'nanodet_m_416' } }));
    expect(ack.status).toBe('rejected');
    expect(ack.errors[0].path).toBe('detection.modelId');
    expect(ack.errors[0].message).toMatch(
      /^not applied, nothing changed \(configuration 2 stays in force\): model "nanodet_m_416" failed to load: MODEL_CORRUPT/,
    );
    const hb = await heartbeatAfter(Date.now() + 1500);
    expect(hb.configVersion).toBe(2);
    expect(hb.cameras).toEqual([expect.objectContaining({ cameraId: 'cam-1', state: 'streaming' })]);
    expect(hb.cameras[0].fps).toBeGreaterThan(0);
    expect(restartsAfter(t)).toEqual([]);
  });

  it('clips an error text longer than the ack allows, and the next configuration still applies', async () => {
    const ack = await send(config(5, { detection: { modelId: 'deimv2_hgnetv2_atto_coco' } }));
    expect(ack.status).toBe('rejected');
    expect(ack.errors[0].message).toMatch(/failed to load: MODEL_NOT_FOUND: model file /);
    expect(ack.errors[0].message.length).toBeLessThanOrEqual(500);
    expect(ack.errors[0].message.endsWith('…')).toBe(true);
  });

  it('refuses a model id that is a path and a non-shippable model, with a clear reason', async () => {
    const escape = await send({ ...config(6), detection: { modelId: '../x' } });
    expect(escape.status).toBe('rejected');
    expect(escape.errors[0]).toMatchObject({ path: 'detection.modelId', message: expect.stringMatching(/model id/) });
    const agpl = await send(config(7, { detection: { modelId: 'yolov8n_int8' } }));
    expect(agpl.status).toBe('rejected');
    expect(agpl.errors[0].message).toMatch(
      /"yolov8n_int8" is not shippable \(licence AGPL-3\.0-only\).*allowNonShippableModels/,
    );
  });

  it('restarts a camera whose source changed, on the ONVIF profile it names', async () => {
    const t = Date.now();
    const base = config(8);
    const cam = base.cameras[0];
    const ack = await send({
      ...base,
      cameras: [
        { ...cam, source: { kind: 'onvif', xaddr: camera.onvifXAddr, transport: 'tcp', profileToken: 'Profile_2' } },
      ],
    });
    expect(ack).toMatchObject({ status: 'applied', errors: [] });
    await waitFor('the camera restarting', () => restartsAfter(t)[0], 15_000);
    // The stopped pipeline flushed its rules: the parked vehicle's violation ended with the camera.
    const end = since(t).find((m) => m.kind === 'event' && m.message.ruleId === 'park-b' && m.message.phase === 'end');
    expect(end?.kind === 'event' && end.message.endReason).toBe('shutdown');
    await streamingAfter(t);
    expect(edge.log).toMatch(/"profile":"Profile_2","msg":"ONVIF detection stream"/);
  });

  it('stops a removed camera', async () => {
    const ack = await send(config(9, { cameras: [], zones: [], rules: [] }));
    expect(ack.status).toBe('applied');
    const hb = await heartbeatAfter(Date.now() + 500);
    expect(hb).toMatchObject({ configVersion: 9, cameras: [] });
    expect(edge.log).toMatch(/"version":9,"cameras":\[\]/);
  });
});
