import { Tensor } from 'onnxruntime-node';

import { createDecodeContext } from './decoder.types';
import { gridCount } from './grid';
import { YoloxDecoder } from './yolox.decoder';

/** Person, bicycle, car, motorcycle, bus, truck mapped at `threshold`; everything else dropped. */
const context = (threshold = 0.3) => createDecodeContext(80, new Map([0, 1, 2, 3, 5, 7].map((id) => [id, threshold])));

describe('YoloxDecoder', () => {
  const n = gridCount(416, 416, [8, 16, 32]);
  const k = 85;

  function output(rows: { index: number; values: number[]; obj: number; cls: Record<number, number> }[]): Tensor {
    const data = new Float32Array(n * k);
    for (const r of rows) {
      data.set(r.values, r.index * k);
      data[r.index * k + 4] = r.obj;
      for (const [id, p] of Object.entries(r.cls)) data[r.index * k + 5 + Number(id)] = p;
    }
    return new Tensor('float32', data, [1, n, k]);
  }

  it('decodes grid offsets and log sizes per stride, score = obj * cls', () => {
    const decoder = new YoloxDecoder('output', 416, 416, [8, 16, 32], 80);
    // stride 8 anchor at column 10, row 5; stride 32 anchor at column 3, row 2 (index 52^2 + 26^2 + 2*13 + 3).
    const s32 = 52 * 52 + 26 * 26 + 2 * 13 + 3;
    const out = decoder.decode(
      {
        output: output([
          { index: 5 * 52 + 10, values: [0.5, 0.5, Math.log(4), Math.log(2)], obj: 0.9, cls: { 2: 0.8, 7: 0.3 } },
          { index: s32, values: [0, 0, 0, 0], obj: 0.8, cls: { 0: 0.75 } },
        ]),
      },
      context(),
    );
    expect(out).toHaveLength(2);
    expect(out[0].cocoId).toBe(2);
    expect(out[0].score).toBeCloseTo(0.72, 6);
    expect([out[0].x1, out[0].y1, out[0].x2, out[0].y2].map((v) => +v.toFixed(4))).toEqual([68, 36, 100, 52]);
    expect(out[1].cocoId).toBe(0);
    expect(out[1].score).toBeCloseTo(0.6, 6);
    expect([out[1].x1, out[1].y1, out[1].x2, out[1].y2].map((v) => +v.toFixed(4))).toEqual([80, 48, 112, 80]);
  });

  it('emits nothing for unmapped classes or scores under the class threshold', () => {
    const decoder = new YoloxDecoder('output', 416, 416, [8, 16, 32], 80);
    const out = decoder.decode(
      {
        output: output([
          { index: 0, values: [0, 0, 0, 0], obj: 0.99, cls: { 15: 0.99 } }, // cat
          { index: 1, values: [0, 0, 0, 0], obj: 0.5, cls: { 2: 0.5 } }, // 0.25 < 0.3
          { index: 2, values: [0, 0, 0, 0], obj: 0.2, cls: { 0: 1 } }, // objectness alone below threshold
        ]),
      },
      context(),
    );
    expect(out).toEqual([]);
  });

  it('honours per-class thresholds: a lower one for bicycles lets a weak bicycle through', () => {
    const ctx = createDecodeContext(
      80,
      new Map([
        [0, 0.5],
        [1, 0.2],
        [2, 0.5],
      ]),
    );
    const decoder = new YoloxDecoder('output', 416, 416, [8, 16, 32], 80);
    const out = decoder.decode(
      {
        output: output([
          { index: 0, values: [0, 0, 0, 0], obj: 0.5, cls: { 1: 0.6 } },
          { index: 1, values: [0, 0, 0, 0], obj: 0.5, cls: { 2: 0.6 } },
        ]),
      },
      ctx,
    );
    expect(out.map((c) => c.cocoId)).toEqual([1]);
  });
});
