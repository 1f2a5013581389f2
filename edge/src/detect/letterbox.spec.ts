import fc from 'fast-check';

import { computeGeometry, frameBoxToUnit, inputBoxToFrame } from './letterbox';

describe('computeGeometry', () => {
  it('letterboxes at the top-left: no padding offset, aspect ratio kept', () => {
    const g = computeGeometry(768, 576, 416, 416, { mode: 'letterbox', align: 'top-left', padValue: 114 });
    expect(g).toMatchObject({ resizedWidth: 416, resizedHeight: 312, padX: 0, padY: 0 });
    expect(g.scaleX).toBeCloseTo(416 / 768, 6);
    expect(g.scaleY).toBeCloseTo(312 / 576, 6);
  });

  it('letterboxes centred: the spare rows are split, the odd one goes to the bottom', () => {
    const g = computeGeometry(768, 576, 416, 416, { mode: 'letterbox', align: 'center', padValue: 0 });
    expect(g).toMatchObject({ resizedWidth: 416, resizedHeight: 312, padX: 0, padY: 52 });
    const odd = computeGeometry(100, 51, 64, 64, { mode: 'letterbox', align: 'center', padValue: 0 });
    expect(odd).toMatchObject({ resizedWidth: 64, resizedHeight: 33, padY: 15 });
  });

  it('pads the sides of a portrait frame', () => {
    const g = computeGeometry(480, 640, 640, 640, { mode: 'letterbox', align: 'center', padValue: 114 });
    expect(g).toMatchObject({ resizedWidth: 480, resizedHeight: 640, padX: 80, padY: 0 });
  });

  it('stretches without padding, each axis with its own scale', () => {
    const g = computeGeometry(768, 576, 320, 320, { mode: 'stretch' });
    expect(g).toMatchObject({ resizedWidth: 320, resizedHeight: 320, padX: 0, padY: 0 });
    expect(g.scaleX).toBeCloseTo(320 / 768, 9);
    expect(g.scaleY).toBeCloseTo(320 / 576, 9);
  });
});

describe('inputBoxToFrame', () => {
  it('undoes the centred letterbox: the resized area maps to the whole frame', () => {
    const g = computeGeometry(768, 576, 416, 416, { mode: 'letterbox', align: 'center', padValue: 0 });
    expect(inputBoxToFrame(0, 52, 416, 364, g)).toEqual([0, 0, 1, 1]);
    const [x1, y1, x2, y2] = inputBoxToFrame(104, 52 + 78, 208, 52 + 156, g);
    expect([x1, y1, x2, y2].map((v) => +v.toFixed(6))).toEqual([0.25, 0.25, 0.5, 0.5]);
  });

  it('clamps boxes that spill into the padding', () => {
    const g = computeGeometry(768, 576, 416, 416, { mode: 'letterbox', align: 'top-left', padValue: 114 });
    const box = inputBoxToFrame(-20, 300, 500, 400, g);
    expect(box[0]).toBe(0);
    expect(box[1]).toBeCloseTo(300 / 312, 12);
    expect([box[2], box[3]]).toEqual([1, 1]);
  });

  it('round-trips any box in source pixels through any geometry', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 2000 }),
        fc.integer({ min: 16, max: 2000 }),
        fc.constantFrom(320, 416, 640),
        fc.constantFrom('top-left' as const, 'center' as const, 'stretch' as const),
        fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
        (w, h, size, place, [a, b]) => {
          const g = computeGeometry(
            w,
            h,
            size,
            size,
            place === 'stretch' ? { mode: 'stretch' } : { mode: 'letterbox', align: place, padValue: 114 },
          );
          const [u1, u2] = [Math.min(a, b), Math.max(a, b)];
          // Source pixels -> input pixels, as a model would report them, then back.
          const ix1 = u1 * w * g.scaleX + g.padX;
          const ix2 = u2 * w * g.scaleX + g.padX;
          const iy1 = u1 * h * g.scaleY + g.padY;
          const iy2 = u2 * h * g.scaleY + g.padY;
          const back = inputBoxToFrame(ix1, iy1, ix2, iy2, g);
          [u1, u1, u2, u2].forEach((v, i) => expect(back[i]).toBeCloseTo(v, 9));
        },
      ),
    );
  });
});

describe('frameBoxToUnit', () => {
  it('normalises source pixels by the frame size and clamps', () => {
    const g = computeGeometry(800, 400, 320, 320, { mode: 'stretch' });
    expect(frameBoxToUnit(200, 100, 900, 400, g)).toEqual([0.25, 0.25, 1, 1]);
  });
});
