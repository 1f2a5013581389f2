import { Tensor } from 'onnxruntime-node';

import { createDecodeContext } from './decoder.types';
import { DetrDecoder } from './detr.decoder';

/** Person, bicycle, car, motorcycle, bus, truck mapped at `threshold`; everything else dropped. */
const context = (threshold = 0.3) => createDecodeContext(80, new Map([0, 1, 2, 3, 5, 7].map((id) => [id, threshold])));

describe('DetrDecoder', () => {
  it('keeps mapped labels above threshold, boxes already in frame pixels', () => {
    const labels = new Tensor('int64', BigInt64Array.from([0n, 15n, 2n, 7n, 90n]), [1, 5]);
    const boxes = new Tensor(
      'float32',
      Float32Array.from([10, 20, 30, 40, 0, 0, 1, 1, 100, 100, 200, 150, 5, 5, 6, 6, 1, 1, 2, 2]),
      [1, 5, 4],
    );
    const scores = new Tensor('float32', Float32Array.from([0.9, 0.95, 0.5, 0.2, 0.99]), [1, 5]);
    const out = new DetrDecoder({ labels: 'labels', boxes: 'boxes', scores: 'scores' }).decode(
      { labels, boxes, scores },
      context(0.3),
    );
    expect(out).toEqual([
      { cocoId: 0, score: expect.closeTo(0.9, 6), x1: 10, y1: 20, x2: 30, y2: 40 },
      { cocoId: 2, score: 0.5, x1: 100, y1: 100, x2: 200, y2: 150 },
    ]);
  });
});
