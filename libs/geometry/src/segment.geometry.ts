import { GEOMETRY_EPSILON, type Point, type Segment } from './geometry.types';

/**
 * Which side of a directed line a point is on. In image coordinates (y down) as seen on screen, walking from a to b:
 * RIGHT (+1) is the right-hand side, LEFT (-1) the left-hand side, ON (0) within the tolerance of the line.
 * Example: for a line pointing right along the screen, points below it are RIGHT.
 */
export const SIDE = { LEFT: -1, ON: 0, RIGHT: 1 } as const;
export type Side = (typeof SIDE)[keyof typeof SIDE];

/** z of (b - a) x (p - a): twice the signed area of triangle a, b, p; positive when p is right of a->b (y down). */
export function cross(a: Point, b: Point, p: Point): number {
  return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
}

export function distanceBetweenPoints(a: Point, b: Point): number {
  return Math.hypot(b[0] - a[0], b[1] - a[1]);
}

/**
 * Side of the infinite directed line through line[0] -> line[1] that point is on (see SIDE).
 * `tolerance` is a distance: points closer than it to the line are ON (0). Counting code can pass a larger value
 * as a dead band against jitter. A degenerate line (a == b) has no sides: every point is ON.
 */
export function sideOfLine(point: Point, line: Segment, tolerance: number = GEOMETRY_EPSILON): Side {
  const [a, b] = line;
  const c = cross(a, b, point);
  // |cross| / |b - a| is the point's distance to the line; compare without dividing so a == b needs no branch.
  if (Math.abs(c) <= tolerance * distanceBetweenPoints(a, b)) return SIDE.ON;
  return c > 0 ? SIDE.RIGHT : SIDE.LEFT;
}

/** Shortest distance from point to the closed segment. A zero-length segment is treated as a point. */
export function distancePointToSegment(point: Point, segment: Segment): number {
  const [a, b] = segment;
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const lengthSq = dx * dx + dy * dy;
  if (lengthSq === 0) return distanceBetweenPoints(point, a);
  const t = Math.min(1, Math.max(0, ((point[0] - a[0]) * dx + (point[1] - a[1]) * dy) / lengthSq));
  return Math.hypot(point[0] - (a[0] + t * dx), point[1] - (a[1] + t * dy));
}

function opposite(u: number, v: number): boolean {
  return (u > 0 && v < 0) || (u < 0 && v > 0);
}

/** Parameter t along s1 of a proper crossing (each segment strictly splits the other's endpoints), else null. */
function properCrossing(s1: Segment, s2: Segment): number | null {
  const [a, b] = s1;
  const [c, d] = s2;
  if (!opposite(cross(a, b, c), cross(a, b, d)) || !opposite(cross(c, d, a), cross(c, d, b))) return null;
  const rx = b[0] - a[0];
  const ry = b[1] - a[1];
  const sx = d[0] - c[0];
  const sy = d[1] - c[1];
  const t = ((c[0] - a[0]) * sy - (c[1] - a[1]) * sx) / (rx * sy - ry * sx);
  // Strict opposite signs guarantee a non-zero denominator; clamp only absorbs rounding.
  return Math.min(1, Math.max(0, t));
}

/**
 * Whether two closed segments share at least one point: proper crossings, touching (an endpoint on the other
 * segment, shared endpoints, T-junctions) and collinear overlap all count. Points within `tolerance` count as
 * touching. Symmetric in its arguments.
 *
 * Why this split: if two segments meet without properly crossing, some endpoint lies on the other segment, so a
 * strict sign test for proper crossings plus endpoint-to-segment distances covers every case, including the
 * collinear one, without a separate (fragile) parallel branch.
 */
export function segmentsIntersect(s1: Segment, s2: Segment, tolerance: number = GEOMETRY_EPSILON): boolean {
  if (properCrossing(s1, s2) !== null) return true;
  return touchingEndpoints(s1, s2, tolerance).length > 0;
}

function touchingEndpoints(s1: Segment, s2: Segment, tolerance: number): Point[] {
  const candidates: Point[] = [];
  for (const p of s1) if (distancePointToSegment(p, s2) <= tolerance) candidates.push(p);
  for (const p of s2) if (distancePointToSegment(p, s1) <= tolerance) candidates.push(p);
  return candidates;
}

/**
 * A point shared by the two segments, or null when segmentsIntersect would say false.
 * Proper crossing: the crossing point. Touching or collinear overlap: the shared endpoint that comes first along
 * s1 (from s1[0] towards s1[1]), i.e. the first point of contact for a movement segment s1.
 */
export function segmentIntersection(s1: Segment, s2: Segment, tolerance: number = GEOMETRY_EPSILON): Point | null {
  const [a, b] = s1;
  const rx = b[0] - a[0];
  const ry = b[1] - a[1];
  const t = properCrossing(s1, s2);
  if (t !== null) return [a[0] + t * rx, a[1] + t * ry];
  let best: Point | null = null;
  let bestT = Infinity;
  for (const p of touchingEndpoints(s1, s2, tolerance)) {
    // Projection on s1 (unnormalised is enough for ordering); a zero-length s1 gives 0 for all, keeping the first.
    const pt = (p[0] - a[0]) * rx + (p[1] - a[1]) * ry;
    if (pt < bestT) {
      bestT = pt;
      best = p;
    }
  }
  return best;
}
