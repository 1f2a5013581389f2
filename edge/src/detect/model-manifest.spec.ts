import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { DetectorError, DetectorErrorCode } from './detector.errors';
import {
  findRepoRoot,
  loadAllManifests,
  loadDefaultManifest,
  loadManifest,
  manifestsDir,
  parseManifest,
  resolveModelsDir,
} from './model-manifest.loader';

function rawManifest(id: string): Record<string, unknown> {
  // A deep copy of a committed manifest, to mutate one field at a time.
  const copy: Record<string, unknown> = structuredClone(loadManifest(id));
  return copy;
}

function codeOf(fn: () => unknown): { code: DetectorErrorCode; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof DetectorError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a DetectorError');
}

describe('committed manifests (models/*.json)', () => {
  it('all four validate, one per family', () => {
    const manifests = loadAllManifests();
    expect(manifests.map((m) => [m.id, m.family])).toEqual([
      ['deimv2_hgnetv2_atto_coco', 'detr'],
      ['nanodet_m_416', 'nanodet'],
      ['yolov8n_int8', 'yolov8'],
      ['yolox_nano_416', 'yolox'],
    ]);
  });

  it('default to YOLOX-nano, Apache-2.0 and shippable', () => {
    const m = loadDefaultManifest();
    expect(m).toMatchObject({ id: 'yolox_nano_416', licence: 'Apache-2.0', shippable: true, default: true });
  });

  it('mark the AGPL YOLOv8 weights test-only', () => {
    expect(loadManifest('yolov8n_int8')).toMatchObject({ licence: 'AGPL-3.0-only', shippable: false, default: false });
  });

  it('map exactly our six COCO classes', () => {
    for (const m of loadAllManifests()) {
      expect(m.classMap).toEqual({ 0: 'person', 1: 'bicycle', 2: 'car', 3: 'motorcycle', 5: 'bus', 7: 'truck' });
    }
  });
});

describe('ModelManifestSchema', () => {
  it('rejects AGPL weights marked shippable', () => {
    const m = { ...rawManifest('yolov8n_int8'), shippable: true };
    expect(codeOf(() => parseManifest(m, 'x.json'))).toEqual({
      code: DetectorErrorCode.MANIFEST_INVALID,
      message: expect.stringMatching(/shippable: AGPL-3.0-only weights must be shippable: false/),
    });
  });

  it('rejects a non-shippable default', () => {
    const m = { ...rawManifest('yolov8n_int8'), default: true };
    expect(codeOf(() => parseManifest(m, 'x.json')).message).toMatch(
      /default: a non-shippable model cannot be the default/,
    );
  });

  it('rejects output shapes that contradict the input size and strides', () => {
    const m = rawManifest('yolox_nano_416');
    m.input = { ...(m.input as object), shape: [1, 3, 640, 640] };
    expect(codeOf(() => parseManifest(m, 'x.json')).message).toMatch(
      /output "output" of a yolox model with this input\/decode must be \[1,8400,85\]/,
    );
  });

  it('rejects a decode section naming an output that is not declared', () => {
    const m = rawManifest('nanodet_m_416');
    (m.outputs as { name: string }[])[0].name = 'renamed';
    expect(codeOf(() => parseManifest(m, 'x.json')).message).toMatch(/decode refers to output "cls_pred_stride_8"/);
  });

  it('rejects classes we do not have and ids beyond the model', () => {
    const m = rawManifest('yolox_nano_416');
    m.classMap = { 2: 'van' };
    expect(codeOf(() => parseManifest(m, 'x.json')).message).toMatch(/classMap\.2: Invalid option/);
    m.classMap = { 80: 'car' };
    expect(codeOf(() => parseManifest(m, 'x.json')).message).toMatch(/classMap\.80: class id 80 >= numClasses/);
  });

  it('rejects an unknown family and a file path that leaves the models directory', () => {
    const m = { ...rawManifest('yolox_nano_416'), family: 'ssd', file: '../x.onnx' };
    expect(codeOf(() => parseManifest(m, 'bad.json'))).toEqual({
      code: DetectorErrorCode.MANIFEST_INVALID,
      message: expect.stringContaining('bad.json: family'),
    });
    const n = { ...rawManifest('yolox_nano_416'), file: '../x.onnx' };
    expect(codeOf(() => parseManifest(n, 'bad.json')).message).toMatch(/file: a bare \.onnx file name/);
  });
});

describe('manifest loading', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'vigil-manifests-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses two defaults in one folder', () => {
    const yolox = rawManifest('yolox_nano_416');
    writeFileSync(path.join(dir, 'yolox_nano_416.json'), JSON.stringify(yolox));
    writeFileSync(path.join(dir, 'other.json'), JSON.stringify({ ...yolox, id: 'other' }));
    expect(codeOf(() => loadAllManifests(dir)).message).toMatch(/more than one default model .*other, yolox_nano_416/);
  });

  it('requires the id to match the file name', () => {
    writeFileSync(path.join(dir, 'renamed.json'), JSON.stringify(rawManifest('yolox_nano_416')));
    expect(codeOf(() => loadManifest('renamed', dir)).message).toMatch(/id "yolox_nano_416" must match .* "renamed"/);
  });

  it('names the known ids when one is missing, and rejects broken JSON', () => {
    writeFileSync(path.join(dir, 'broken.json'), '{ "id": ');
    expect(codeOf(() => loadManifest('nope', dir)).message).toMatch(/no manifest "nope" .*known: broken/);
    expect(codeOf(() => loadManifest('broken', dir)).message).toMatch(/broken\.json is not valid JSON/);
  });
});

describe('models directory', () => {
  const root = findRepoRoot();

  it('finds the repository root from this folder', () => {
    expect(manifestsDir()).toBe(path.join(root, 'models'));
  });

  it('defaults to ../shared/assets/models beside the repository, whatever the cwd', () => {
    const cwd = process.cwd();
    try {
      process.chdir(tmpdir());
      expect(resolveModelsDir({})).toBe(path.resolve(root, '../shared/assets/models'));
      expect(resolveModelsDir({ VIGIL_MODELS_DIR: 'weights' })).toBe(path.join(root, 'weights'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('takes an absolute VIGIL_MODELS_DIR as is', () => {
    expect(resolveModelsDir({ VIGIL_MODELS_DIR: '/opt/models' })).toBe('/opt/models');
  });
});
