import { Tensor } from 'onnxruntime-node';

import { createDecodeContext } from './decoder.types';
import { gridCount } from './grid';
import { NanodetDecoder } from './nanodet.decoder';

/** Person, bicycle, car, motorcycle, bus, truck mapped at `threshold`; everything else dropped. */
const context = (threshold = 0.3) => createDecodeContext(80, new Map([0, 1, 2, 3, 5, 7].map((id) => [id, threshold])));

describe('NanodetDecoder', () => {
  it('decodes the 4 x 8-bin distance softmax around centre g*s + 0.5(s-1)', () => {
    const levels = [8, 16, 32].map((s) => ({ stride: s, cls: `cls_${s}`, dis: `dis_${s}` }));
    const outputs: Record<string, Tensor> = {};
    for (const l of levels) {
      const n = gridCount(416, 416, [l.stride]);
      outputs[l.cls] = new Tensor('float32', new Float32Array(n * 80), [1, n, 80]);
      outputs[l.dis] = new Tensor('float32', new Float32Array(n * 32), [1, n, 32]);
    }
    // stride 16, column 4, row 3 -> centre (4*16 + 7.5, 3*16 + 7.5) = (71.5, 55.5).
    const i = 3 * 26 + 4;
    (outputs.cls_16.data as Float32Array)[i * 80 + 0] = 0.8;
    const dis = outputs.dis_16.data as Float32Array;
    // Sharp one-hot logits: left 2 bins, top 1, right 3, bottom 5 (x stride 16).
    [2, 1, 3, 5].forEach((bin, side) => (dis[i * 32 + side * 8 + bin] = 50));
    // A uniform side gives the mean bin 3.5: check on a second anchor.
    const j = 0;
    (outputs.cls_8.data as Float32Array)[j * 80 + 2] = 0.9;
    const out = new NanodetDecoder(levels, 416, 416, 7, 80).decode(outputs, context());
    expect(out).toHaveLength(2);
    const car = out.find((c) => c.cocoId === 2)!;
    expect([car.x1, car.y1, car.x2, car.y2].map((v) => +v.toFixed(3))).toEqual([3.5 - 28, 3.5 - 28, 31.5, 31.5]);
    const person = out.find((c) => c.cocoId === 0)!;
    expect(person.score).toBeCloseTo(0.8, 6);
    expect([person.x1, person.y1, person.x2, person.y2].map((v) => +v.toFixed(3))).toEqual([
      71.5 - 32,
      55.5 - 16,
      71.5 + 48,
      55.5 + 80,
    ]);
  });
});
