import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { EdgeConfigSchema, type ConfigAck, type EdgeConfig, type EdgeConfigInput } from '@vigil/contracts';
import pino from 'pino';

import { DetectorError, DetectorErrorCode } from '../detect/detector.errors';
import type { ModelManifest } from '../detect/model-manifest.schema';
import { EdgeAgent } from './edge-agent';
import { EdgeSettingsSchema, type EdgeSettings } from './edge-settings';
import { MemoryDelivery, ScriptedDetector, ScriptedSource } from './testing/agent.fakes';
import { FakeClock } from './testing/fake-clock';

const camera = (id: string, file = `${id}.avi`) => ({ id, name: id, source: { kind: 'file' as const, path: file } });

function config(version: number, patch: Partial<EdgeConfigInput> = {}): EdgeConfig {
  return EdgeConfigSchema.parse({
    version,
    issuedAt: '2026-11-23T10:00:00Z',
    detection: { modelId: 'yolox_nano_416' },
    cameras: [camera('cam-1'), camera('cam-2')],
    zones: [
      {
        id: 'kerb',
        cameraId: 'cam-1',
        name: 'Kerb',
        kind: 'no_parking',
        polygon: [
          [0.6, 0.1],
          [0.9, 0.1],
          [0.9, 0.4],
          [0.6, 0.4],
        ],
      },
    ],
    rules: [{ id: 'park', kind: 'parking_violation', zoneId: 'kerb', dwellSeconds: 60 }],
    ...patch,
  });
}

class Harness {
  readonly delivery = new MemoryDelivery();
  readonly sources: ScriptedSource[] = [];
  readonly detectors: ScriptedDetector[] = [];
  /** Model ids whose load fails, with the error text. */
  readonly failLoad = new Map<string, string>();
  readonly logs: Record<string, unknown>[] = [];
  readonly agent: EdgeAgent;

  constructor(settings: Partial<EdgeSettings> = {}) {
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void this.logs.push(JSON.parse(line) as Record<string, unknown>) },
    );
    this.agent = new EdgeAgent(
      {
        ...EdgeSettingsSchema.parse({ node: { siteId: 'site-1', nodeId: 'node-1' } }),
        dataDir: mkdtempSync(path.join(tmpdir(), 'vigil-agent-')),
        ...settings,
      },
      logger,
      {
        clock: new FakeClock(),
        openDelivery: () => this.delivery,
        loadDetector: (manifest: ModelManifest, _dir, options) => {
          const failure = this.failLoad.get(manifest.id);
          if (failure) return Promise.reject(new DetectorError(DetectorErrorCode.MODEL_CORRUPT, failure));
          const d = new ScriptedDetector(manifest, options.nmsIou!);
          this.detectors.push(d);
          return Promise.resolve(d);
        },
        openCapture: (o) => {
          const s = new ScriptedSource(o.source);
          this.sources.push(s);
          return s;
        },
      },
    );
  }

  acks(version: number): ConfigAck['errors'][] {
    return this.delivery
      .messages('config_ack')
      .filter((a) => a.message.configVersion === version)
      .map((a) => a.message.errors);
  }

  ack(version: number) {
    const all = this.delivery.messages('config_ack').filter((a) => a.message.configVersion === version);
    expect(all).toHaveLength(1);
    return all[0].message;
  }

  /** Each running camera's pipeline object and its source's file. */
  running() {
    return Object.fromEntries(this.agent.runningCameras.map((id) => [id, this.agent.pipeline(id)!]));
  }

  openSources() {
    return this.sources.filter((s) => !s.closed).map((s) => (s.source.kind === 'file' ? s.source.path : s.source.kind));
  }
}

async function started(h: Harness, first = config(1)) {
  await h.agent.start();
  await h.agent.receiveConfig(first);
  await new Promise((r) => setImmediate(r));
  return h;
}

describe('EdgeAgent configuration', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.agent.stop();
  });

  it('applies a threshold change live: no camera restarts, the tracker and NMS take it, provenance names it', async () => {
    h = await started(new Harness());
    const before = h.running();
    await h.agent.receiveConfig(
      config(2, {
        detection: { modelId: 'yolox_nano_416', scoreThreshold: 0.7, nmsIou: 0.6, classThresholds: { person: 0.8 } },
      }),
    );
    expect(h.ack(2)).toMatchObject({ status: 'applied', errors: [] });
    const after = h.running();
    expect(after['cam-1']).toBe(before['cam-1']);
    expect(after['cam-2']).toBe(before['cam-2']);
    expect(h.openSources()).toEqual(['cam-1.avi', 'cam-2.avi']);
    expect(after['cam-1'].thresholds).toEqual({ highScore: 0.7, classHighScore: { person: 0.8 } });
    expect(h.detectors).toHaveLength(1);
    expect(h.detectors[0].nmsIouSet).toEqual([0.6]);
    expect(after['cam-2'].provenance).toMatchObject({
      scoreThreshold: 0.7,
      nmsIou: 0.6,
      classThresholds: { person: 0.8 },
    });
    expect(h.agent.configVersion).toBe(2);
  });

  it('a model that fails to load changes nothing, and the ack says so', async () => {
    h = await started(new Harness());
    const before = h.running();
    h.failLoad.set('nanodet_m_416', 'the file is not an ONNX model');
    await h.agent.receiveConfig(
      config(2, { detection: { modelId: 'nanodet_m_416' }, cameras: [camera('cam-1', 'other.avi')] }),
    );
    const ack = h.ack(2);
    expect(ack.status).toBe('rejected');
    expect(ack.errors).toEqual([
      {
        path: 'detection.modelId',
        message: expect.stringMatching(
          /^not applied, nothing changed \(configuration 1 stays in force\): model "nanodet_m_416" failed to load: MODEL_CORRUPT: the file is not an ONNX model$/,
        ),
      },
    ]);
    expect(h.running()).toEqual(before);
    expect(h.openSources()).toEqual(['cam-1.avi', 'cam-2.avi']);
    expect(h.detectors[0].closed).toBe(false);
    expect(h.agent.configVersion).toBe(1);
  });

  it('swaps the model only once the new one has loaded, then restarts the cameras on it', async () => {
    h = await started(new Harness());
    await h.agent.receiveConfig(config(2, { detection: { modelId: 'nanodet_m_416' } }));
    expect(h.ack(2).status).toBe('applied');
    expect(h.detectors.map((d) => [d.manifest.id, d.closed])).toEqual([
      ['yolox_nano_416', true],
      ['nanodet_m_416', false],
    ]);
    expect(h.openSources()).toEqual(['cam-1.avi', 'cam-2.avi']);
    expect(h.sources).toHaveLength(4);
  });

  it('restarts only a camera whose source changed, and stops a removed camera', async () => {
    h = await started(new Harness());
    const before = h.running();
    await h.agent.receiveConfig(config(2, { cameras: [camera('cam-1', 'moved.avi')], zones: [], rules: [] }));
    expect(h.ack(2).status).toBe('applied');
    expect(h.agent.runningCameras).toEqual(['cam-1']);
    expect(h.running()['cam-1']).not.toBe(before['cam-1']);
    expect(h.openSources()).toEqual(['moved.avi']);
  });

  it('an oversize error text is clipped to the ack limit and the next configuration still applies', async () => {
    h = await started(new Harness());
    h.failLoad.set('nanodet_m_416', 'x'.repeat(5000));
    await h.agent.receiveConfig(config(2, { detection: { modelId: 'nanodet_m_416' } }));
    const rejected = h.ack(2);
    expect(rejected.status).toBe('rejected');
    expect(rejected.errors[0].message.length).toBeLessThanOrEqual(500);
    await h.agent.receiveConfig(config(3, { cameras: [camera('cam-1')], zones: [], rules: [] }));
    expect(h.ack(3).status).toBe('applied');
    expect(h.agent.runningCameras).toEqual(['cam-1']);
  });

  it('refuses a model id that is a path, and a non-shippable model, with a clear reason', async () => {
    h = await started(new Harness());
    const before = h.running();
    const escape = { ...config(2), detection: { ...config(2).detection, modelId: '../x' } };
    await h.agent.receiveConfig(escape);
    expect(h.ack(2).errors[0]).toEqual({
      path: 'detection.modelId',
      message: expect.stringContaining('MODEL_REFUSED: model id "../x" is not an id'),
    });
    await h.agent.receiveConfig(config(3, { detection: { modelId: 'yolov8n_int8' } }));
    expect(h.ack(3).errors[0].message).toMatch(
      /MODEL_REFUSED: model "yolov8n_int8" is not shippable \(licence AGPL-3\.0-only\).*allowNonShippableModels/,
    );
    expect(h.running()).toEqual(before);
    expect(h.logs.filter((l) => l.msg === 'model refused')).toHaveLength(2);
  });

  it("runs a non-shippable model when the edge's local settings allow it, and logs why", async () => {
    h = await started(new Harness({ allowNonShippableModels: ['yolov8n_int8'] }));
    await h.agent.receiveConfig(config(2, { detection: { modelId: 'yolov8n_int8' } }));
    expect(h.ack(2).status).toBe('applied');
    expect(h.logs.find((l) => l.msg === 'non-shippable model allowed on this edge')).toMatchObject({
      model: 'yolov8n_int8',
      because: 'allowNonShippableModels lists "yolov8n_int8" in the local settings file',
    });
  });

  it('boots from its settings file with a threshold above 0.6 (it used to run no camera at all)', async () => {
    h = new Harness({ config: config(1, { detection: { modelId: 'yolox_nano_416', scoreThreshold: 0.7 } }) });
    await h.agent.start();
    expect(h.agent.configVersion).toBe(1);
    expect(h.agent.runningCameras).toEqual(['cam-1', 'cam-2']);
    expect(h.running()['cam-1'].thresholds.highScore).toBe(0.7);
  });
});
