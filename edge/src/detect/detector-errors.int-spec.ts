/**
 * @jest-environment ./edge/src/detect/testing/onnx-runtime.jest-environment.ts
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { loadDetector, type OnnxDetector } from './detector';
import { DetectorError, DetectorErrorCode } from './detector.errors';
import type { RawFrame } from './detector.types';
import { loadManifest, resolveModelsDir } from './model-manifest.loader';
import type { ModelManifest } from './model-manifest.schema';
import { buildOnnxModel } from './testing/onnx-model.builder';
import { readFrameAt, resolveVideosDir } from './testing/read-frame';

const modelsDir = resolveModelsDir();
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function loadError(manifest: ModelManifest, dir: string): Promise<DetectorError> {
  try {
    const detector = await loadDetector(manifest, dir);
    await detector.close();
  } catch (err) {
    if (err instanceof DetectorError) return err;
    throw err;
  }
  throw new Error(`expected ${manifest.id} to fail to load`);
}

describe('load errors name the problem', () => {
  const yolox = loadManifest('yolox_nano_416');
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'vigil-models-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('MODEL_NOT_FOUND for a missing file, with the path and the setting to fix it', async () => {
    const err = await loadError(yolox, dir);
    expect(err.code).toBe(DetectorErrorCode.MODEL_NOT_FOUND);
    expect(err.message).toContain(path.join(dir, 'yolox_nano_416.onnx'));
    expect(err.message).toContain('VIGIL_MODELS_DIR');
  });

  it('MODEL_CORRUPT for random bytes', async () => {
    writeFileSync(path.join(dir, 'yolox_nano_416.onnx'), randomBytes(4096));
    const err = await loadError(yolox, dir);
    expect(err.code).toBe(DetectorErrorCode.MODEL_CORRUPT);
    expect(err.message).toMatch(
      /yolox_nano_416\.onnx \(4096 bytes, sha256 [0-9a-f]{64} != manifest 695e750a.*\) is not a loadable ONNX model: /,
    );
  });

  it('MODEL_CORRUPT for a truncated download of the real model', async () => {
    const real = readFileSync(path.join(modelsDir, 'yolox_nano_416.onnx'));
    writeFileSync(path.join(dir, 'yolox_nano_416.onnx'), real.subarray(0, real.length >> 1));
    expect((await loadError(yolox, dir)).code).toBe(DetectorErrorCode.MODEL_CORRUPT);
  });

  it('CHECKSUM_MISMATCH for a valid model that is not the file the manifest pins', async () => {
    copyFileSync(path.join(modelsDir, 'nanodet_m_416.onnx'), path.join(dir, 'yolox_nano_416.onnx'));
    const err = await loadError(yolox, dir);
    expect(err.code).toBe(DetectorErrorCode.CHECKSUM_MISMATCH);
    expect(err.message).toContain(`expects ${yolox.sha256}`);
    expect(err.message).toContain(loadManifest('nanodet_m_416').sha256);
  });

  it('UNKNOWN_OUTPUT_LAYOUT for a model whose outputs match no family (hand-built ONNX)', async () => {
    const bytes = buildOnnxModel({
      nodes: [{ opType: 'Identity', inputs: ['images'], outputs: ['features'] }],
      inputs: [{ name: 'images', type: 'float32', shape: [1, 3, 416, 416] }],
      outputs: [{ name: 'features', type: 'float32', shape: [1, 3, 416, 416] }],
    });
    writeFileSync(path.join(dir, 'identity.onnx'), bytes);
    const err = await loadError({ ...yolox, file: 'identity.onnx', sha256: sha256(bytes) }, dir);
    expect(err.code).toBe(DetectorErrorCode.UNKNOWN_OUTPUT_LAYOUT);
    expect(err.message).toMatch(/identity\.onnx: outputs match no supported model family/);
    expect(err.message).toContain('outputs features float32 [1,3,416,416]');
  });

  it('MANIFEST_MISMATCH for the NanoDet file under a YOLOX manifest, naming both layouts', async () => {
    const nanodet = loadManifest('nanodet_m_416');
    const err = await loadError({ ...yolox, file: nanodet.file, sha256: nanodet.sha256 }, modelsDir);
    expect(err.code).toBe(DetectorErrorCode.MANIFEST_MISMATCH);
    expect(err.message).toContain('declares family yolox');
    expect(err.message).toContain('output float32 [1,3549,85]');
    expect(err.message).toContain("the model's layout is nanodet");
    expect(err.message).toContain('cls_pred_stride_8 float32 [1,2704,80]');
    expect(err.message).toContain('input.1 float32 [1,3,416,416]');
  });

  it('MANIFEST_MISMATCH for a renamed output of the right family', async () => {
    const renamed: ModelManifest = { ...yolox, outputs: [{ name: 'detections', shape: [1, 3549, 85] }] };
    const err = await loadError(renamed, modelsDir);
    expect(err.code).toBe(DetectorErrorCode.MANIFEST_MISMATCH);
    expect(err.message).toContain('output detections float32 [1,3549,85] not in the model');
    expect(err.message).toContain('model tensor output [1,3549,85] not in the manifest');
  });

  it('MANIFEST_MISMATCH at warm-up when dims the model leaves symbolic differ from the manifest', async () => {
    const deim = loadManifest('deimv2_hgnetv2_atto_coco');
    const fewer: ModelManifest = {
      ...deim,
      outputs: [
        { name: 'labels', shape: [1, 100] },
        { name: 'boxes', shape: [1, 100, 4] },
        { name: 'scores', shape: [1, 100] },
      ],
    };
    const err = await loadError(fewer, modelsDir);
    expect(err.code).toBe(DetectorErrorCode.MANIFEST_MISMATCH);
    expect(err.message).toMatch(/at warm-up: output labels expected \[1,100\], got \[1,300\]/);
  });
});

describe('a loaded detector', () => {
  let detector: OnnxDetector;
  let frame: RawFrame;

  beforeAll(async () => {
    detector = await loadDetector(loadManifest('yolox_nano_416'), modelsDir);
    frame = await readFrameAt(path.join(resolveVideosDir(), 'opencv_vtest.avi'), 10);
  }, 60_000);

  afterAll(async () => {
    await detector.close();
  });

  it('rejects a frame buffer whose length is not width*height*3, then keeps working', async () => {
    const short: RawFrame = { ...frame, data: frame.data.subarray(0, frame.data.length - 3) };
    await expect(detector.detect(short)).rejects.toMatchObject({
      code: DetectorErrorCode.INVALID_FRAME,
      message: expect.stringContaining('bgr24 frame 768x576 needs 1327104 bytes (width*height*3), got 1327101'),
    });
    const wrongSize: RawFrame = { ...frame, width: 640 };
    await expect(detector.detect(wrongSize)).rejects.toMatchObject({ code: DetectorErrorCode.INVALID_FRAME });
    expect((await detector.detect(frame)).length).toBeGreaterThan(5);
  });

  it('answers overlapping calls in order, each as if it ran alone', async () => {
    const highway = await readFrameAt(path.join(resolveVideosDir(), 'bgslibrary_video02.avi'), 10);
    const alone = [await detector.detect(frame), await detector.detect(highway)];
    const together = await Promise.all([detector.detect(frame), detector.detect(highway), detector.detect(frame)]);
    expect(together).toEqual([alone[0], alone[1], alone[0]]);
  });

  it('records stage timings and its provenance', async () => {
    await detector.detect(frame);
    const t = detector.lastTimings;
    expect(t.preprocessMs).toBeGreaterThan(0);
    expect(t.inferenceMs).toBeGreaterThan(0);
    expect(t.decodeMs).toBeGreaterThan(0);
    expect(detector.provenance).toEqual({
      modelId: 'yolox_nano_416',
      family: 'yolox',
      version: '0.1.1rc0',
      sha256: '695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14',
      licence: 'Apache-2.0',
      thresholds: { person: 0.3, bicycle: 0.3, car: 0.3, motorcycle: 0.3, bus: 0.3, truck: 0.3 },
      nmsIou: 0.45,
      vehicleMergeIou: 0.45,
    });
  });
});

describe('options', () => {
  let frame: RawFrame;
  beforeAll(async () => {
    frame = await readFrameAt(path.join(resolveVideosDir(), 'opencv_vtest.avi'), 10);
  });

  it('applies per-class thresholds over the manifest', async () => {
    const d = await loadDetector(loadManifest('yolox_nano_416'), modelsDir, { classThresholds: { person: 0.99 } });
    try {
      const found = await d.detect(frame);
      expect(found.filter((x) => x.cls === 'person')).toEqual([]);
      expect(found.some((x) => x.cls === 'car')).toBe(true);
      expect(d.provenance.thresholds.person).toBe(0.99);
    } finally {
      await d.close();
    }
  });

  it('runs with explicit thread settings and rejects invalid ones', async () => {
    const d = await loadDetector(loadManifest('yolox_nano_416'), modelsDir, {
      threads: { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' },
    });
    try {
      expect((await d.detect(frame)).filter((x) => x.cls === 'person').length).toBeGreaterThanOrEqual(5);
    } finally {
      await d.close();
    }
    await expect(
      loadDetector(loadManifest('yolox_nano_416'), modelsDir, { threads: { intraOpNumThreads: -1 } }),
    ).rejects.toThrow('intraOpNumThreads must be a non-negative integer, got -1');
  });

  it('refuses work after close with DETECTOR_CLOSED', async () => {
    const d = await loadDetector(loadManifest('yolox_nano_416'), modelsDir);
    await d.close();
    await expect(d.detect(frame)).rejects.toMatchObject({ code: DetectorErrorCode.DETECTOR_CLOSED });
  });
});
