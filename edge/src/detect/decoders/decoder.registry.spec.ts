import type { ModelIo, TensorInfo } from './decoder.types';
import { describeLayouts, recognizeFamilies } from './decoder.registry';
import { buildGrid, gridCount } from './grid';

describe('grid', () => {
  it('counts 3549 anchors at 416 and 8400 at 640 for strides 8/16/32', () => {
    expect(gridCount(416, 416, [8, 16, 32])).toBe(52 * 52 + 26 * 26 + 13 * 13);
    expect(gridCount(640, 640, [8, 16, 32])).toBe(8400);
  });

  it('orders anchors row-major within a stride, strides in order', () => {
    const g = buildGrid(32, 16, [8, 16]);
    // stride 8: 2 rows x 4 cols, then stride 16: 1 row x 2 cols.
    expect(Array.from(g.gx)).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
    expect(Array.from(g.gy)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0]);
    expect(Array.from(g.stride)).toEqual([8, 8, 8, 8, 8, 8, 8, 8, 16, 16]);
  });
});

describe('recognizeFamilies', () => {
  const t = (name: string, shape: (number | string)[], type = 'float32'): TensorInfo => ({ name, type, shape });
  const image = (size: number, batch: number | string = 1) => t('images', [batch, 3, size, size]);

  it.each<[string, ModelIo]>([
    ['yolox', { inputs: [image(416)], outputs: [t('output', [1, 3549, 85])] }],
    ['yolox', { inputs: [image(640)], outputs: [t('output', [1, 8400, 85])] }],
    ['yolov8', { inputs: [image(640)], outputs: [t('output0', [1, 84, 8400])] }],
    ['yolov8', { inputs: [image(416)], outputs: [t('output0', [1, 84, 3549])] }],
    [
      'nanodet',
      {
        inputs: [t('input.1', [1, 3, 416, 416])],
        outputs: [8, 16, 32].flatMap((s) => {
          const n = (416 / s) ** 2;
          return [t(`cls_pred_stride_${s}`, [1, n, 80]), t(`dis_pred_stride_${s}`, [1, n, 32])];
        }),
      },
    ],
    [
      'detr',
      {
        inputs: [image(320, 'N'), t('orig_target_sizes', ['n', 2], 'int64')],
        outputs: [t('labels', ['a', 'b'], 'int64'), t('boxes', ['a', 'b', 4]), t('scores', ['a', 'b'])],
      },
    ],
  ])('recognises a %s layout', (family, io) => {
    expect(recognizeFamilies(io)).toEqual([family]);
  });

  it.each<[string, ModelIo]>([
    ['an image-to-image model', { inputs: [image(416)], outputs: [t('features', [1, 3, 416, 416])] }],
    ['a classifier', { inputs: [image(224)], outputs: [t('logits', [1, 1000])] }],
    ['NanoDet-Plus (one [1,3598,112] output)', { inputs: [image(416)], outputs: [t('output', [1, 3598, 112])] }],
    ['anchors that fit no stride set', { inputs: [image(416)], outputs: [t('output', [1, 3000, 85])] }],
    [
      'a DETR without the size input',
      {
        inputs: [image(320)],
        outputs: [t('labels', [1, 300], 'int64'), t('boxes', [1, 300, 4]), t('scores', [1, 300])],
      },
    ],
  ])('recognises nothing in %s', (_name, io) => {
    expect(recognizeFamilies(io)).toEqual([]);
  });

  it('describes every family for error messages', () => {
    expect(describeLayouts()).toMatch(/yolox: .*yolov8: .*nanodet: .*detr: /);
  });
});
