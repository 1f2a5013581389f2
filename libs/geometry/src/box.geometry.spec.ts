import fc from 'fast-check';
import {
  DEFAULT_FOOTPRINT_FRACTION,
  boxArea,
  boxBottomCentre,
  boxCentre,
  boxFootprint,
  boxHeight,
  boxIntersectionArea,
  boxIoU,
  boxWidth,
  footprintFractionInPolygon,
  pointInBox,
} from './box.geometry';
import { boxToPixels } from './frame.geometry';
import { boxArb, rotateVertices, solidBoxArb, starPolygonArb, realArb } from './geometry.arbitraries';
import type { Box, Point, Polygon } from './geometry.types';
import { pointInPolygon, polygonBoundingBox } from './polygon.geometry';

describe('box basics', () => {
  const box: Box = [0.2, 0.3, 0.4, 0.9];

  it('measures width, height, area and centres', () => {
    expect(boxWidth(box)).toBeCloseTo(0.2, 12);
    expect(boxHeight(box)).toBeCloseTo(0.6, 12);
    expect(boxArea(box)).toBeCloseTo(0.12, 12);
    const [cx, cy] = boxCentre(box);
    expect(cx).toBeCloseTo(0.3, 12);
    expect(cy).toBeCloseTo(0.6, 12);
  });

  it('anchors a vehicle at the middle of its bottom edge (largest y, since y grows downwards)', () => {
    const [x, y] = boxBottomCentre(box);
    expect(x).toBeCloseTo(0.3, 12);
    expect(y).toBe(0.9);
  });

  it('gives inverted boxes no extent', () => {
    expect(boxWidth([0.5, 0, 0.4, 1])).toBe(0);
    expect(boxArea([0.5, 0.5, 0.4, 0.4])).toBe(0);
  });

  it('contains its edges', () => {
    expect(pointInBox([0.2, 0.9], box)).toBe(true);
    expect(pointInBox([0.3, 0.5], box)).toBe(true);
    expect(pointInBox([0.41, 0.5], box)).toBe(false);
  });

  it('bottom-centre lies on the bottom edge of every box (property)', () => {
    fc.assert(
      fc.property(boxArb, (b) => {
        const p = boxBottomCentre(b);
        expect(pointInBox(p, b)).toBe(true);
        expect(p[1]).toBe(b[3]);
      }),
    );
  });
});

describe('boxIntersectionArea / boxIoU', () => {
  it('computes overlaps', () => {
    expect(boxIntersectionArea([0, 0, 2, 1], [1, 0, 3, 1])).toBe(1);
    expect(boxIoU([0, 0, 2, 1], [1, 0, 3, 1])).toBeCloseTo(1 / 3, 12);
    expect(boxIoU([0, 0, 1, 1], [0.25, 0.25, 0.75, 0.75])).toBeCloseTo(0.25, 12);
  });

  it('is 0 for disjoint boxes, boxes touching at an edge, and boxes without area', () => {
    expect(boxIoU([0, 0, 1, 1], [2, 2, 3, 3])).toBe(0);
    expect(boxIntersectionArea([0, 0, 1, 1], [1, 0, 2, 1])).toBe(0);
    expect(boxIoU([0, 0, 1, 1], [1, 0, 2, 1])).toBe(0);
    expect(boxIoU([0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5])).toBe(0);
    expect(boxIoU([0.5, 0.1, 0.5, 0.9], [0, 0, 1, 1])).toBe(0);
  });

  it('is in [0, 1], symmetric, and the intersection fits in both boxes (property)', () => {
    fc.assert(
      fc.property(boxArb, boxArb, (a, b) => {
        const iou = boxIoU(a, b);
        expect(iou).toBeGreaterThanOrEqual(0);
        expect(iou).toBeLessThanOrEqual(1);
        expect(boxIoU(b, a)).toBe(iou);
        const inter = boxIntersectionArea(a, b);
        expect(inter).toBe(boxIntersectionArea(b, a));
        expect(inter).toBeLessThanOrEqual(Math.min(boxArea(a), boxArea(b)));
      }),
    );
  });

  it('IoU(a, a) = 1 for every box with area (property)', () => {
    fc.assert(
      fc.property(solidBoxArb, (a) => {
        expect(boxIoU(a, a)).toBe(1);
      }),
    );
  });

  it('IoU is 1 only for identical boxes and shrinks as a box is shifted (property)', () => {
    fc.assert(
      fc.property(solidBoxArb, realArb(0.01, 0.49), (a, f) => {
        const w = a[2] - a[0];
        const shifted = (t: number): Box => [a[0] + t * w, a[1], a[2] + t * w, a[3]];
        const near = boxIoU(a, shifted(f));
        const far = boxIoU(a, shifted(2 * f));
        expect(near).toBeLessThan(1);
        expect(far).toBeLessThan(near);
        // Horizontal shift by f widths: overlap (1 - f), union (1 + f).
        expect(near).toBeCloseTo((1 - f) / (1 + f), 6);
      }),
    );
  });

  it('is invariant under translation and conversion to pixels (property)', () => {
    const shift = realArb(-1000, 1000);
    const size = fc.record({ width: fc.integer({ min: 16, max: 7680 }), height: fc.integer({ min: 16, max: 4320 }) });
    fc.assert(
      fc.property(solidBoxArb, solidBoxArb, shift, shift, size, (a, b, dx, dy, frame) => {
        const iou = boxIoU(a, b);
        const move = (box: Box): Box => [box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy];
        expect(Math.abs(boxIoU(move(a), move(b)) - iou)).toBeLessThanOrEqual(1e-6);
        expect(Math.abs(boxIoU(boxToPixels(a, frame), boxToPixels(b, frame)) - iou)).toBeLessThanOrEqual(1e-9);
      }),
    );
  });
});

describe('footprint', () => {
  /** No-parking zone covering the right half of the frame's lower half (clockwise on screen). */
  const ZONE: Polygon = [
    [0.5, 0.5],
    [1, 0.5],
    [1, 1],
    [0.5, 1],
  ];

  it('takes the bottom strip of the box', () => {
    expect(DEFAULT_FOOTPRINT_FRACTION).toBe(0.25);
    expect(boxFootprint([0.2, 0.2, 0.4, 0.6])).toEqual([0.2, 0.5, 0.4, 0.6]);
    expect(boxFootprint([0.2, 0.2, 0.4, 0.6], 1)).toEqual([0.2, 0.2, 0.4, 0.6]);
  });

  it.each([0, -0.1, 1.5, Number.NaN])('rejects bottomFraction %p', (f) => {
    expect(() => boxFootprint([0, 0, 1, 1], f)).toThrow(RangeError);
    expect(() => footprintFractionInPolygon([0, 0, 1, 1], ZONE, f)).toThrow(RangeError);
  });

  it('is 1 for a vehicle standing inside the zone and 0 for one outside', () => {
    expect(footprintFractionInPolygon([0.6, 0.6, 0.8, 0.9], ZONE)).toBe(1);
    expect(footprintFractionInPolygon([0.1, 0.6, 0.3, 0.9], ZONE)).toBe(0);
  });

  it('is the straddling share of the footprint', () => {
    // Box x in [0.4, 0.6]: half of the strip is right of x = 0.5.
    expect(footprintFractionInPolygon([0.4, 0.6, 0.6, 0.9], ZONE)).toBeCloseTo(0.5, 12);
    expect(footprintFractionInPolygon([0.4, 0.6, 0.6, 0.9], [...ZONE].reverse())).toBeCloseTo(0.5, 12);
  });

  it('ignores a tall vehicle whose roof overhangs the zone while its wheels are outside', () => {
    // Box bottom at y = 0.45 (above the zone); the upper part of the box is irrelevant either way.
    const zoneAbove: Polygon = [
      [0, 0],
      [1, 0],
      [1, 0.3],
      [0, 0.3],
    ];
    const box: Box = [0.2, 0.05, 0.4, 0.45];
    expect(footprintFractionInPolygon(box, zoneAbove)).toBe(0);
    expect(footprintFractionInPolygon(box, zoneAbove, 1)).toBeCloseTo(0.25 / 0.4, 12);
  });

  it('falls back to the bottom-centre for a box without area', () => {
    expect(footprintFractionInPolygon([0.6, 0.7, 0.6, 0.9], ZONE)).toBe(1);
    expect(footprintFractionInPolygon([0.4, 0.9, 0.6, 0.9], ZONE)).toBe(1);
    expect(footprintFractionInPolygon([0.1, 0.9, 0.3, 0.9], ZONE)).toBe(0);
  });

  it('is in [0, 1] and independent of the zone vertex order (property)', () => {
    fc.assert(
      fc.property(starPolygonArb, solidBoxArb, fc.nat(), ({ polygon }, box, k) => {
        const f = footprintFractionInPolygon(box, polygon);
        expect(f).toBeGreaterThanOrEqual(0);
        expect(f).toBeLessThanOrEqual(1);
        expect(footprintFractionInPolygon(box, rotateVertices(polygon, k))).toBeCloseTo(f, 9);
        expect(footprintFractionInPolygon(box, [...polygon].reverse())).toBeCloseTo(f, 9);
      }),
    );
  });

  it('is 0 when the footprint misses the zone bounding box and 1 when the zone contains it (property)', () => {
    fc.assert(
      fc.property(starPolygonArb, solidBoxArb, ({ polygon, centre }, box) => {
        const strip = boxFootprint(box);
        const [x1, y1, x2, y2] = polygonBoundingBox(polygon);
        if (strip[2] < x1 || strip[0] > x2 || strip[3] < y1 || strip[1] > y2) {
          expect(footprintFractionInPolygon(box, polygon)).toBe(0);
        }
        // Every edge of a generated star polygon is > 0.007 from its kernel point, so this tiny box is inside.
        const tiny: Box = [centre[0] - 1e-4, centre[1] - 4e-4, centre[0] + 1e-4, centre[1]];
        const corners: Point[] = [
          [tiny[0], tiny[1]],
          [tiny[2], tiny[1]],
          [tiny[2], tiny[3]],
          [tiny[0], tiny[3]],
        ];
        for (const c of corners) expect(pointInPolygon(c, polygon)).toBe(true);
        expect(footprintFractionInPolygon(tiny, polygon)).toBeCloseTo(1, 9);
      }),
    );
  });
});
