import type { ModelIo, TensorInfo } from './decoders/decoder.types';
import { DetectorError, DetectorErrorCode } from './detector.errors';
import { loadManifest } from './model-manifest.loader';
import { checkModelIo } from './model-io.validator';

const t = (name: string, shape: (number | string)[], type = 'float32'): TensorInfo => ({ name, type, shape });

const yoloxIo: ModelIo = { inputs: [t('images', [1, 3, 416, 416])], outputs: [t('output', [1, 3549, 85])] };

function failure(io: ModelIo, id = 'yolox_nano_416'): DetectorError {
  try {
    checkModelIo(loadManifest(id), io, '/models/m.onnx');
  } catch (err) {
    if (err instanceof DetectorError) return err;
    throw err;
  }
  throw new Error('expected the check to fail');
}

describe('checkModelIo', () => {
  it('accepts the layout its manifest declares, symbolic batch dims included', () => {
    expect(() => checkModelIo(loadManifest('yolox_nano_416'), yoloxIo, 'm.onnx')).not.toThrow();
    const detr: ModelIo = {
      inputs: [t('images', ['N', 3, 320, 320]), t('orig_target_sizes', ['n', 2], 'int64')],
      outputs: [t('labels', ['a', 'b'], 'int64'), t('boxes', ['a', 'b', 4]), t('scores', ['a', 'b'])],
    };
    expect(() => checkModelIo(loadManifest('deimv2_hgnetv2_atto_coco'), detr, 'm.onnx')).not.toThrow();
  });

  it('UNKNOWN_OUTPUT_LAYOUT when the outputs fit no family, listing what the model has', () => {
    const err = failure({ inputs: [t('images', [1, 3, 416, 416])], outputs: [t('features', [1, 3, 416, 416])] });
    expect(err.code).toBe(DetectorErrorCode.UNKNOWN_OUTPUT_LAYOUT);
    expect(err.message).toMatch(/\/models\/m\.onnx: outputs match no supported model family/);
    expect(err.message).toMatch(/outputs features float32 \[1,3,416,416\]/);
  });

  it('MANIFEST_MISMATCH when the layout is another family, naming both shapes', () => {
    const io: ModelIo = { inputs: [t('images', [1, 3, 640, 640])], outputs: [t('output0', [1, 84, 8400])] };
    const err = failure(io);
    expect(err.code).toBe(DetectorErrorCode.MANIFEST_MISMATCH);
    expect(err.message).toMatch(
      /declares family yolox \(.*output float32 \[1,3549,85\]\) but the model's layout is yolov8/,
    );
    expect(err.message).toMatch(/output0 float32 \[1,84,8400\]/);
  });

  it('MANIFEST_MISMATCH on a renamed tensor or a different fixed dim', () => {
    const renamed = failure({ inputs: [t('input', [1, 3, 416, 416])], outputs: [t('output', [1, 3549, 85])] });
    expect(renamed.code).toBe(DetectorErrorCode.MANIFEST_MISMATCH);
    expect(renamed.message).toMatch(/input images float32 \[1,3,416,416\] not in the model/);
    expect(renamed.message).toMatch(/model tensor input \[1,3,416,416\] not in the manifest/);

    // 91 classes: still a YOLOX layout, but not the one the manifest was written for.
    const classes = failure({ inputs: [t('images', [1, 3, 416, 416])], outputs: [t('output', [1, 3549, 96])] });
    expect(classes.message).toMatch(/output expected output float32 \[1,3549,85\], model has float32 \[1,3549,96\]/);
  });
});
