import type { Box } from '@vigil/geometry';

import { KalmanBoxFilter } from './kalman-box.filter';

function shift(box: Box, dx: number, dy: number): Box {
  return [box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy];
}

describe('KalmanBoxFilter', () => {
  const start: Box = [0.1, 0.4, 0.2, 0.5];

  it('learns a constant velocity in units per second and predicts ahead with it', () => {
    const f = new KalmanBoxFilter(start);
    const v = 0.2; // per second, 10 fps
    for (let k = 1; k <= 30; k++) {
      f.predict(0.1);
      f.update(shift(start, v * k * 0.1, 0));
    }
    expect(f.centreVelocity()[0]).toBeCloseTo(v, 2);
    expect(Math.abs(f.centreVelocity()[1])).toBeLessThan(1e-3);
    f.predict(0.5);
    const [x1, y1, x2, y2] = f.box();
    expect(x1).toBeCloseTo(start[0] + v * 3.5, 2);
    expect(x2 - x1).toBeCloseTo(0.1, 3);
    expect(y1).toBeCloseTo(0.4, 3);
    expect(y2).toBeCloseTo(0.5, 3);
  });

  it('gives the same estimate whether time passes in one step or many (time-based, not frame-based)', () => {
    const a = new KalmanBoxFilter(start);
    const b = new KalmanBoxFilter(start);
    for (const f of [a, b]) {
      f.predict(0.1);
      f.update(shift(start, 0.02, 0));
    }
    a.predict(1);
    for (let i = 0; i < 10; i++) b.predict(0.1);
    a.box().forEach((c, i) => expect(c).toBeCloseTo(b.box()[i], 9));
  });

  it('does not move on a zero step and refuses a negative one', () => {
    const f = new KalmanBoxFilter(start);
    f.predict(0);
    expect(f.box().map((c) => Number(c.toFixed(12)))).toEqual([...start]);
    expect(() => f.predict(-0.1)).toThrow(RangeError);
  });

  it('stops scaling when told the object is lost', () => {
    const f = new KalmanBoxFilter(start);
    for (let k = 1; k <= 10; k++) {
      f.predict(0.1);
      f.update([0.1, 0.4, 0.2 + 0.01 * k, 0.5 + 0.01 * k]); // growing
    }
    f.freezeScale();
    const before = f.box();
    f.predict(1);
    const after = f.box();
    expect(after[3] - after[1]).toBeCloseTo(before[3] - before[1], 9);
  });
});
