import { Tensor } from 'onnxruntime-node';

import { createDecodeContext } from './decoder.types';
import { Yolov8Decoder } from './yolov8.decoder';

/** Person, bicycle, car, motorcycle, bus, truck mapped at `threshold`; everything else dropped. */
const context = (threshold = 0.3) => createDecodeContext(80, new Map([0, 1, 2, 3, 5, 7].map((id) => [id, threshold])));

describe('Yolov8Decoder', () => {
  it('reads channels-first rows: cx, cy, w, h then class scores, best mapped class wins', () => {
    const n = 8400;
    const data = new Float32Array(84 * n);
    const i = 1234;
    [320, 240, 64, 32].forEach((v, row) => (data[row * n + i] = v));
    data[(4 + 7) * n + i] = 0.7; // truck
    data[(4 + 2) * n + i] = 0.6; // car, lower
    data[(4 + 0) * n + 99] = 0.2; // below 0.25
    const out = new Yolov8Decoder('output0', n).decode(
      { output0: new Tensor('float32', data, [1, 84, n]) },
      context(0.25),
    );
    expect(out).toEqual([{ cocoId: 7, score: expect.closeTo(0.7, 6), x1: 288, y1: 224, x2: 352, y2: 256 }]);
  });
});
