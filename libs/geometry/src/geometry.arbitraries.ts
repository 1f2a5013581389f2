// fast-check generators shared by the geometry specs (and usable by other packages' property tests).
// Not exported from the barrel: production code must not pull in fast-check.
import fc from 'fast-check';
import type { Box, Point, Polygon, Segment } from './geometry.types';

const STEPS = 2 ** 32;

/**
 * Real number spread evenly over [min, max], both ends included (they come up often, as fast-check's integers
 * favour their bounds). fc.double is avoided on purpose: it draws evenly over float bit patterns, so most of its
 * values in [0, 1] are tiny (1e-200 and the like) and random shapes would huddle in one corner of the frame.
 */
export function realArb(min: number, max: number): fc.Arbitrary<number> {
  return fc.integer({ min: 0, max: STEPS }).map((i) => (i === STEPS ? max : min + ((max - min) * i) / STEPS));
}

export const unitArb = realArb(0, 1);

export const pointArb: fc.Arbitrary<Point> = fc.tuple(unitArb, unitArb);

export const segmentArb: fc.Arbitrary<Segment> = fc.tuple(pointArb, pointArb);

/**
 * Points on a 1/1024 grid. With grid coordinates, integer translations of the grid and integer scale factors,
 * every cross product is computed exactly, so invariance properties test the geometry rather than the tolerance
 * band (with arbitrary doubles a point 1e-9 from a line is ON before scaling by 0.5 and RIGHT after scaling by 2).
 */
export const GRID = 1024;
export const gridPointArb: fc.Arbitrary<Point> = fc.tuple(
  fc.integer({ min: 0, max: GRID }).map((i) => i / GRID),
  fc.integer({ min: 0, max: GRID }).map((i) => i / GRID),
);
export const gridSegmentArb: fc.Arbitrary<Segment> = fc.tuple(gridPointArb, gridPointArb);
/** A grid-exact translation component in [-1000, 1000]. */
export const gridShiftArb = fc.integer({ min: -1000 * GRID, max: 1000 * GRID }).map((i) => i / GRID);
/** Integer scale factor, e.g. a frame width in pixels. */
export const gridScaleArb = fc.integer({ min: 1, max: 8000 });

/** Ordered box inside the unit square; may be degenerate (zero width or height). */
export const boxArb: fc.Arbitrary<Box> = fc
  .tuple(pointArb, pointArb)
  .map(([[ax, ay], [bx, by]]): Box => [Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by)]);

/** Box with at least 0.001 of width and height, inside the unit square. */
export const solidBoxArb: fc.Arbitrary<Box> = fc
  .tuple(realArb(0, 0.9), realArb(0, 0.9), realArb(0.001, 0.1), realArb(0.001, 0.1))
  .map(([x, y, w, h]): Box => [x, y, x + w, y + h]);

const centreArb: fc.Arbitrary<Point> = fc.tuple(realArb(0.3, 0.7), realArb(0.3, 0.7));

/** A star-shaped polygon and a point of its kernel. */
export interface StarPolygon {
  readonly polygon: Polygon;
  readonly centre: Point;
}

/**
 * Simple star-shaped polygon around `centre`: n >= 4 vertices at increasing angles, each consecutive gap
 * below 180 degrees, so every edge stays inside its own angular wedge (no crossings) and the centre is strictly
 * inside. Random radii make it concave most of the time. Vertex order is clockwise or counter-clockwise.
 */
export const starPolygonArb: fc.Arbitrary<StarPolygon> = fc
  .integer({ min: 4, max: 12 })
  .chain((n) =>
    fc.record({
      centre: centreArb,
      offset: realArb(0, 2 * Math.PI),
      jitter: fc.array(realArb(0, 0.8), { minLength: n, maxLength: n }),
      radii: fc.array(realArb(0.05, 0.3), { minLength: n, maxLength: n }),
      reversed: fc.boolean(),
    }),
  )
  .map(({ centre, offset, jitter, radii, reversed }) => {
    const n = jitter.length;
    const vertices = jitter.map((j, k): Point => {
      const angle = offset + ((k + j) / n) * 2 * Math.PI;
      return [centre[0] + radii[k] * Math.cos(angle), centre[1] + radii[k] * Math.sin(angle)];
    });
    return { polygon: reversed ? vertices.reverse() : vertices, centre };
  });

/** Convex polygon: 3..12 vertices on a circle at distinct angles at least 1 degree apart. */
export const convexPolygonArb: fc.Arbitrary<Polygon> = fc
  .record({
    centre: centreArb,
    radius: realArb(0.05, 0.25),
    degrees: fc.uniqueArray(fc.integer({ min: 0, max: 359 }), { minLength: 3, maxLength: 12 }),
    reversed: fc.boolean(),
  })
  .map(({ centre, radius, degrees, reversed }) => {
    const sorted = [...degrees].sort((a, b) => (reversed ? b - a : a - b));
    return sorted.map((d): Point => {
      const angle = (d * Math.PI) / 180;
      return [centre[0] + radius * Math.cos(angle), centre[1] + radius * Math.sin(angle)];
    });
  });

/** Cyclic rotation of the vertex list by k (same polygon, different starting vertex). */
export function rotateVertices(polygon: Polygon, k: number): Polygon {
  const n = polygon.length;
  const shift = ((k % n) + n) % n;
  return [...polygon.slice(shift), ...polygon.slice(0, shift)];
}

export function translatePoint(p: Point, dx: number, dy: number): Point {
  return [p[0] + dx, p[1] + dy];
}

export function scalePoint(p: Point, k: number): Point {
  return [p[0] * k, p[1] * k];
}
