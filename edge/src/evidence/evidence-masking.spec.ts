import fc from 'fast-check';
import { distancePointToSegment, pointInPolygon, type Polygon } from '@vigil/geometry';
import { starPolygonArb } from '@vigil/geometry/geometry.arbitraries';
import { blurRect, boxToRect, drawRect, fillPolygon, personCell, toRgb, type RgbImage } from './evidence-masking';

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { data, width, height };
}

const px = (img: RgbImage, x: number, y: number) => [
  ...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3),
];

/** Mean absolute difference between horizontally and vertically adjacent pixels (all channels) inside a rect. */
function neighbourDiff(img: RgbImage, x1: number, y1: number, x2: number, y2: number): number {
  let sum = 0;
  let n = 0;
  for (let y = y1; y < y2 - 1; y++) {
    for (let x = x1; x < x2 - 1; x++) {
      for (let k = 0; k < 3; k++) {
        const v = img.data[(y * img.width + x) * 3 + k];
        sum += Math.abs(v - img.data[(y * img.width + x + 1) * 3 + k]);
        sum += Math.abs(v - img.data[((y + 1) * img.width + x) * 3 + k]);
        n += 2;
      }
    }
  }
  return sum / n;
}

describe('evidence masking primitives', () => {
  it('converts bgr24 to RGB in a copy, leaving the frame untouched', () => {
    const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const rgb = toRgb({ data, width: 2, height: 1, pixelFormat: 'bgr24' });
    expect([...rgb.data]).toEqual([3, 2, 1, 6, 5, 4]);
    expect([...data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...toRgb({ data, width: 2, height: 1, pixelFormat: 'rgb24' }).data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => toRgb({ data, width: 3, height: 1, pixelFormat: 'bgr24' })).toThrow(RangeError);
  });

  it('turns normalised boxes into covering pixel rects, with margin, clamped to the image', () => {
    expect(boxToRect([0.1, 0.2, 0.3, 0.4], 100, 50)).toEqual({ x1: 10, y1: 10, x2: 30, y2: 20 });
    expect(boxToRect([0.101, 0.2, 0.299, 0.41], 100, 50)).toEqual({ x1: 10, y1: 10, x2: 30, y2: 21 });
    expect(boxToRect([0, 0, 0.2, 0.2], 100, 100, 0.5)).toEqual({ x1: 0, y1: 0, x2: 30, y2: 30 });
    expect(boxToRect([1, 1, 1, 1], 100, 100)).toBeNull();
  });

  it('fills every pixel whose centre is inside a polygon, and nothing farther than a pixel from it', () => {
    const W = 64;
    const H = 48;
    fc.assert(
      fc.property(starPolygonArb, ({ polygon }) => {
        const img = solid(W, H, [10, 20, 30]);
        const filled = fillPolygon(img, polygon, [200, 100, 50]);
        const inPx: Polygon = polygon.map(([x, y]) => [x * W, y * H]);
        let count = 0;
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            const centre = [x + 0.5, y + 0.5] as const;
            const isFilled = px(img, x, y)[0] === 200;
            if (isFilled) count++;
            if (pointInPolygon([centre[0] / W, centre[1] / H], polygon)) expect(isFilled).toBe(true);
            if (isFilled && !pointInPolygon(centre, inPx)) {
              let d = Infinity;
              for (let i = 0; i < inPx.length; i++) {
                d = Math.min(d, distancePointToSegment(centre, [inPx[i], inPx[(i + 1) % inPx.length]]));
              }
              expect(d).toBeLessThanOrEqual(Math.SQRT2 + 1e-9);
            }
          }
        }
        expect(filled).toBe(count);
      }),
      { numRuns: 60 },
    );
  });

  it('masks a polygon thinner than a pixel row rather than skipping it', () => {
    const img = solid(20, 20, [10, 20, 30]);
    const filled = fillPolygon(
      img,
      [
        [0.1, 0.51],
        [0.9, 0.51],
        [0.9, 0.52],
      ],
      [255, 255, 255],
    );
    expect(filled).toBeGreaterThan(0);
    expect(px(img, 15, 10)).toEqual([255, 255, 255]);
  });

  it('blurs away fine detail inside the rect, keeps its mean colour, and leaves the rest alone', () => {
    const img = solid(120, 120, [0, 0, 0]);
    for (let y = 0; y < 120; y++) {
      for (let x = 0; x < 120; x++)
        if ((Math.floor(x / 2) + Math.floor(y / 2)) % 2 === 0)
          img.data.fill(255, (y * 120 + x) * 3, (y * 120 + x) * 3 + 3);
    }
    const before = Buffer.from(img.data);
    const rect = { x1: 20, y1: 30, x2: 100, y2: 110 };
    expect(neighbourDiff(img, 20, 30, 100, 110)).toBeGreaterThan(100);
    blurRect(img, rect, personCell(rect));
    expect(personCell(rect)).toBe(10);
    expect(neighbourDiff(img, 20, 30, 100, 110)).toBeLessThan(2);
    let sum = 0;
    for (let y = 30; y < 110; y++) for (let x = 20; x < 100; x++) sum += px(img, x, y)[0];
    expect(sum / 6400).toBeCloseTo(127.5, 0);
    for (let y = 0; y < 120; y++) {
      for (let x = 0; x < 120; x++) {
        if (x >= 20 && x < 100 && y >= 30 && y < 110) continue;
        const i = (y * 120 + x) * 3;
        expect(img.data[i]).toBe(before[i]);
      }
    }
  });

  it('draws the box outline just outside the object', () => {
    const img = solid(40, 40, [0, 0, 0]);
    drawRect(img, { x1: 10, y1: 10, x2: 30, y2: 20 }, 2, [255, 0, 0]);
    expect(px(img, 8, 8)).toEqual([255, 0, 0]);
    expect(px(img, 31, 21)).toEqual([255, 0, 0]);
    expect(px(img, 20, 9)).toEqual([255, 0, 0]);
    expect(px(img, 20, 15)).toEqual([0, 0, 0]); // the object itself stays visible
    expect(px(img, 10, 10)).toEqual([0, 0, 0]);
    expect(px(img, 7, 15)).toEqual([0, 0, 0]);
    expect(px(img, 32, 15)).toEqual([0, 0, 0]);
  });
});
