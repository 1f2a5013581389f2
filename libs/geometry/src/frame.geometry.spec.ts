import fc from 'fast-check';
import {
  boxFromPixels,
  boxToPixels,
  clamp,
  clampBox,
  clampPixelBox,
  clampPoint,
  clampPolygon,
  pointFromPixels,
  pointToPixels,
  polygonFromPixels,
  polygonToPixels,
} from './frame.geometry';
import { boxArb, pointArb, starPolygonArb, realArb } from './geometry.arbitraries';
import type { FrameSize } from './geometry.types';

const HD: FrameSize = { width: 1920, height: 1080 };

const frameSizeArb: fc.Arbitrary<FrameSize> = fc.record({
  width: fc.integer({ min: 1, max: 7680 }),
  height: fc.integer({ min: 1, max: 4320 }),
});

function expectClose(actual: readonly number[], expected: readonly number[], tolerance: number): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(tolerance));
}

describe('pixel conversion', () => {
  it('scales x by width and y by height', () => {
    expect(pointToPixels([0.5, 0.25], HD)).toEqual([960, 270]);
    expect(pointFromPixels([960, 270], HD)).toEqual([0.5, 0.25]);
    expect(boxToPixels([0.1, 0.2, 0.5, 1], HD)).toEqual([192, 216, 960, 1080]);
    expect(boxFromPixels([192, 216, 960, 1080], HD)).toEqual([0.1, 0.2, 0.5, 1]);
    expect(
      polygonToPixels(
        [
          [0, 0],
          [1, 0],
          [1, 1],
        ],
        HD,
      ),
    ).toEqual([
      [0, 0],
      [1920, 0],
      [1920, 1080],
    ]);
    expect(
      polygonFromPixels(
        [
          [0, 0],
          [1920, 0],
          [1920, 1080],
        ],
        HD,
      ),
    ).toEqual([
      [0, 0],
      [1, 0],
      [1, 1],
    ]);
  });

  it('does not round (sub-pixel precision is kept for tracking)', () => {
    expect(pointToPixels([0.3333, 0.5], { width: 100, height: 3 })).toEqual([33.33, 1.5]);
  });

  it.each([
    { width: 0, height: 1080 },
    { width: 1920, height: -1 },
    { width: Number.NaN, height: 1080 },
    { width: 1920, height: Number.POSITIVE_INFINITY },
  ])('rejects the frame size %p', (size) => {
    expect(() => pointToPixels([0.5, 0.5], size)).toThrow(RangeError);
    expect(() => pointFromPixels([1, 1], size)).toThrow(RangeError);
    expect(() => boxToPixels([0, 0, 1, 1], size)).toThrow(RangeError);
    expect(() => polygonFromPixels([], size)).toThrow(RangeError);
  });

  it('round-trips points normalised -> pixels -> normalised (property)', () => {
    fc.assert(
      fc.property(pointArb, frameSizeArb, (p, size) => {
        expectClose(pointFromPixels(pointToPixels(p, size), size), p, 1e-12);
      }),
    );
  });

  it('round-trips points pixels -> normalised -> pixels (property)', () => {
    fc.assert(
      fc.property(pointArb, frameSizeArb, ([u, v], size) => {
        const px: [number, number] = [u * size.width, v * size.height];
        expectClose(pointToPixels(pointFromPixels(px, size), size), px, 1e-9);
      }),
    );
  });

  it('round-trips boxes and polygons and keeps vertex count and order (property)', () => {
    fc.assert(
      fc.property(boxArb, starPolygonArb, frameSizeArb, (box, { polygon }, size) => {
        expectClose(boxFromPixels(boxToPixels(box, size), size), box, 1e-12);
        const back = polygonFromPixels(polygonToPixels(polygon, size), size);
        expect(back).toHaveLength(polygon.length);
        back.forEach((p, i) => expectClose(p, polygon[i], 1e-12));
      }),
    );
  });
});

describe('clamping', () => {
  it('clamps values and keeps NaN visible', () => {
    expect(clamp(5, 0, 1)).toBe(1);
    expect(clamp(-5, 0, 1)).toBe(0);
    expect(clamp(0.4, 0, 1)).toBe(0.4);
    expect(clamp(Number.NaN, 0, 1)).toBeNaN();
  });

  it('clamps points and polygons into the unit square', () => {
    expect(clampPoint([-0.2, 1.5])).toEqual([0, 1]);
    expect(
      clampPolygon([
        [-1, 0.5],
        [0.5, 2],
      ]),
    ).toEqual([
      [0, 0.5],
      [0.5, 1],
    ]);
  });

  it('clamps a box spilling over the frame edge and orders swapped corners', () => {
    expect(clampBox([-0.1, 0.2, 1.3, 0.9])).toEqual([0, 0.2, 1, 0.9]);
    expect(clampBox([0.8, 0.9, 0.2, 0.1])).toEqual([0.2, 0.1, 0.8, 0.9]);
    expect(clampPixelBox([-10, 50, 2000, 1100], HD)).toEqual([0, 50, 1920, 1080]);
    expect(clampPixelBox([500, 600, 100, 200], HD)).toEqual([100, 200, 500, 600]);
  });

  it('leaves in-frame points unchanged and always lands inside the frame (property)', () => {
    const anyCoordinate = realArb(-10, 10);
    fc.assert(
      fc.property(pointArb, fc.tuple(anyCoordinate, anyCoordinate), (inside, anywhere) => {
        expect(clampPoint(inside)).toEqual(inside);
        const c = clampPoint(anywhere);
        expect(c[0]).toBeGreaterThanOrEqual(0);
        expect(c[0]).toBeLessThanOrEqual(1);
        expect(c[1]).toBeGreaterThanOrEqual(0);
        expect(c[1]).toBeLessThanOrEqual(1);
        expect(clampPoint(c)).toEqual(c);
      }),
    );
  });

  it('always yields an ordered in-frame box (property)', () => {
    const anyCoordinate = realArb(-2, 3);
    fc.assert(
      fc.property(fc.tuple(anyCoordinate, anyCoordinate, anyCoordinate, anyCoordinate), (box) => {
        const [x1, y1, x2, y2] = clampBox(box);
        expect(0 <= x1 && x1 <= x2 && x2 <= 1).toBe(true);
        expect(0 <= y1 && y1 <= y2 && y2 <= 1).toBe(true);
      }),
    );
  });
});
