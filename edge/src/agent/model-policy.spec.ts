import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { DetectorError, DetectorErrorCode } from '../detect/detector.errors';
import { loadManifest, manifestsDir } from '../detect/model-manifest.loader';
import { chooseModel } from './model-policy';

function refusal(run: () => unknown): DetectorError {
  try {
    run();
  } catch (err) {
    if (err instanceof DetectorError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('chooseModel', () => {
  it.each(['../x', '../models/yolox_nano_416', '/etc/passwd', 'yolox_nano_416/../../x', 'Yolox', '', 'a.b'])(
    'refuses the model id %j: an id is never a path',
    (id) => {
      const err = refusal(() => chooseModel(id, true));
      expect(err.code).toBe(DetectorErrorCode.MODEL_REFUSED);
      expect(err.message).toMatch(/is not an id/);
    },
  );

  it('never reads a manifest outside the models folder, even one that exists there', () => {
    const outer = mkdtempSync(path.join(tmpdir(), 'vigil-models-'));
    const inner = path.join(outer, 'models');
    mkdirSync(inner);
    writeFileSync(path.join(outer, 'x.json'), JSON.stringify(loadManifest('yolox_nano_416')));
    expect(refusal(() => chooseModel('../x', true, inner)).code).toBe(DetectorErrorCode.MODEL_REFUSED);
  });

  it('refuses a non-shippable (AGPL) model unless the local settings allow it, and says why', () => {
    const err = refusal(() => chooseModel('yolov8n_int8', false));
    expect(err.code).toBe(DetectorErrorCode.MODEL_REFUSED);
    expect(err.message).toMatch(/"yolov8n_int8" is not shippable \(licence AGPL-3\.0-only\).*allowNonShippableModels/);
    expect(refusal(() => chooseModel('yolov8n_int8', ['nanodet_m_416'])).code).toBe(DetectorErrorCode.MODEL_REFUSED);
    expect(chooseModel('yolov8n_int8', ['yolov8n_int8']).allowedBecause).toMatch(/lists "yolov8n_int8"/);
    expect(chooseModel('yolov8n_int8', true).allowedBecause).toMatch(/allowNonShippableModels: true/);
  });

  it('takes a shippable model as it is', () => {
    expect(chooseModel('yolox_nano_416', false)).toMatchObject({
      manifest: { id: 'yolox_nano_416' },
      allowedBecause: null,
    });
    expect(manifestsDir()).toMatch(/models$/);
  });
});
