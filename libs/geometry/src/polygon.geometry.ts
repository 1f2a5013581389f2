import { GEOMETRY_EPSILON, type Box, type Point, type Polygon } from './geometry.types';
import { distancePointToSegment, segmentsIntersect } from './segment.geometry';

/**
 * Shoelace area, positive when the vertices run CLOCKWISE as seen on screen (y down), negative when
 * counter-clockwise. Computed relative to the first vertex to limit cancellation for zones far from the origin
 * (pixel coordinates).
 */
export function polygonSignedArea(polygon: Polygon): number {
  const n = polygon.length;
  if (n < 3) return 0;
  const [ox, oy] = polygon[0];
  let twice = 0;
  for (let i = 1; i < n - 1; i++) {
    const [x1, y1] = polygon[i];
    const [x2, y2] = polygon[i + 1];
    twice += (x1 - ox) * (y2 - oy) - (x2 - ox) * (y1 - oy);
  }
  return twice / 2;
}

/** Unsigned area (for a simple polygon; a self-intersecting one gives the even-odd-ignorant shoelace value). */
export function polygonArea(polygon: Polygon): number {
  return Math.abs(polygonSignedArea(polygon));
}

/** Tight axis-aligned bounding box. Throws on an empty polygon, which has none. */
export function polygonBoundingBox(polygon: Polygon): Box {
  if (polygon.length === 0) throw new RangeError('an empty polygon has no bounding box');
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  for (const [x, y] of polygon) {
    x1 = Math.min(x1, x);
    y1 = Math.min(y1, y);
    x2 = Math.max(x2, x);
    y2 = Math.max(y2, y);
  }
  return [x1, y1, x2, y2];
}

/** Thinner than `tolerance` everywhere: the area is within tolerance x the polygon's extent. */
function isDegenerate(polygon: Polygon, tolerance: number): boolean {
  const [x1, y1, x2, y2] = polygonBoundingBox(polygon);
  return polygonArea(polygon) <= tolerance * Math.max(x2 - x1, y2 - y1);
}

/**
 * Area centroid (centre of mass of the filled polygon). For a degenerate polygon (fewer than 3 vertices, or
 * thinner than the tolerance) there is no meaningful area, so it returns the mean of the vertices instead.
 * Throws on an empty polygon.
 */
export function polygonCentroid(polygon: Polygon, tolerance: number = GEOMETRY_EPSILON): Point {
  const n = polygon.length;
  if (n === 0) throw new RangeError('an empty polygon has no centroid');
  if (n < 3 || isDegenerate(polygon, tolerance)) {
    let sx = 0;
    let sy = 0;
    for (const [x, y] of polygon) {
      sx += x;
      sy += y;
    }
    return [sx / n, sy / n];
  }
  const [ox, oy] = polygon[0];
  let twiceArea = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 1; i < n - 1; i++) {
    const x1 = polygon[i][0] - ox;
    const y1 = polygon[i][1] - oy;
    const x2 = polygon[i + 1][0] - ox;
    const y2 = polygon[i + 1][1] - oy;
    const c = x1 * y2 - x2 * y1;
    twiceArea += c;
    cx += (x1 + x2) * c;
    cy += (y1 + y2) * c;
  }
  return [ox + cx / (3 * twiceArea), oy + cy / (3 * twiceArea)];
}

export type PolygonRelation = 'inside' | 'boundary' | 'outside';

/**
 * Where a point is relative to a polygon.
 *
 * - 'boundary': within `tolerance` of any edge (vertices included). Decided first, so the answer does not depend
 *   on the vertex order, the starting vertex or the direction of traversal.
 * - otherwise even-odd rule by ray casting (half-open edge rule, so a ray through a vertex is counted once).
 *   For a self-intersecting polygon, overlapping lobes alternate inside/outside; zones are meant to be simple
 *   (see isSimplePolygon), where even-odd is the ordinary interior.
 * - fewer than 3 vertices is not a region: always 'outside'.
 */
export function pointPolygonRelation(
  point: Point,
  polygon: Polygon,
  tolerance: number = GEOMETRY_EPSILON,
): PolygonRelation {
  const n = polygon.length;
  if (n < 3) return 'outside';
  const [px, py] = point;
  const [bx1, by1, bx2, by2] = polygonBoundingBox(polygon);
  if (px < bx1 - tolerance || px > bx2 + tolerance || py < by1 - tolerance || py > by2 + tolerance) return 'outside';
  for (let i = 0, j = n - 1; i < n; j = i++) {
    if (distancePointToSegment(point, [polygon[j], polygon[i]]) <= tolerance) return 'boundary';
  }
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > py !== yj > py && px < xi + ((py - yi) * (xj - xi)) / (yj - yi)) inside = !inside;
  }
  return inside ? 'inside' : 'outside';
}

/**
 * Closed-polygon membership: true inside or on the boundary (within tolerance). Boundary-inclusive so that a
 * box anchor exactly on a zone edge is in the zone (the same as OpenCV's pointPolygonTest >= 0).
 */
export function pointInPolygon(point: Point, polygon: Polygon, tolerance: number = GEOMETRY_EPSILON): boolean {
  return pointPolygonRelation(point, polygon, tolerance) !== 'outside';
}

/** Why a polygon is unusable as a zone; edges are numbered by their first vertex (edge i = vertex i -> i+1). */
export type PolygonDefect =
  | { kind: 'too-few-vertices'; count: number }
  | { kind: 'non-finite-coordinate'; vertex: number }
  | { kind: 'repeated-vertex'; vertices: readonly [number, number] }
  | { kind: 'self-intersection'; edges: readonly [number, number] }
  | { kind: 'zero-area' };

/**
 * First reason the polygon is not a simple polygon, or null when it is. Simple means: at least 3 finite vertices,
 * no two vertices within tolerance of each other (this also rejects a repeated closing vertex), adjacent edges
 * meet only at their shared vertex (no fold-back spikes), non-adjacent edges never touch, and non-zero area.
 * Collinear consecutive vertices that continue straight on are allowed. O(n^2), fine for hand-drawn zones.
 */
export function findPolygonDefect(polygon: Polygon, tolerance: number = GEOMETRY_EPSILON): PolygonDefect | null {
  const n = polygon.length;
  if (n < 3) return { kind: 'too-few-vertices', count: n };
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(polygon[i][0]) || !Number.isFinite(polygon[i][1])) {
      return { kind: 'non-finite-coordinate', vertex: i };
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const [xi, yi] = polygon[i];
      const [xj, yj] = polygon[j];
      if (Math.hypot(xj - xi, yj - yi) <= tolerance) return { kind: 'repeated-vertex', vertices: [i, j] };
    }
  }
  const vertex = (k: number): Point => polygon[k % n];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const ei = [vertex(i), vertex(i + 1)] as const;
      const ej = [vertex(j), vertex(j + 1)] as const;
      let touches: boolean;
      if (j === i + 1) {
        // Share vertex j: only a fold-back (far endpoint of one lying on the other) is a defect.
        touches = distancePointToSegment(ej[1], ei) <= tolerance || distancePointToSegment(ei[0], ej) <= tolerance;
      } else if (i === 0 && j === n - 1) {
        // Share vertex 0 (edge n-1 closes the ring).
        touches = distancePointToSegment(ei[1], ej) <= tolerance || distancePointToSegment(ej[0], ei) <= tolerance;
      } else {
        touches = segmentsIntersect(ei, ej, tolerance);
      }
      if (touches) return { kind: 'self-intersection', edges: [i, j] };
    }
  }
  if (isDegenerate(polygon, tolerance)) return { kind: 'zero-area' };
  return null;
}

/** True when the polygon is simple (see findPolygonDefect); used to reject bad zone configs. */
export function isSimplePolygon(polygon: Polygon, tolerance: number = GEOMETRY_EPSILON): boolean {
  return findPolygonDefect(polygon, tolerance) === null;
}

/** Human-readable reason for a defect, for config validation errors. */
export function describePolygonDefect(defect: PolygonDefect): string {
  switch (defect.kind) {
    case 'too-few-vertices':
      return `a polygon needs at least 3 vertices, got ${defect.count}`;
    case 'non-finite-coordinate':
      return `vertex ${defect.vertex} has a non-finite coordinate`;
    case 'repeated-vertex':
      return `vertices ${defect.vertices[0]} and ${defect.vertices[1]} coincide (do not repeat the first vertex at the end)`;
    case 'self-intersection':
      return `edges ${defect.edges[0]} and ${defect.edges[1]} intersect (the outline crosses or touches itself)`;
    case 'zero-area':
      return 'the polygon has no area (all vertices on one line)';
  }
}

type Inside = (p: Point) => boolean;
type Cut = (p: Point, q: Point) => Point;

function clipAgainst(polygon: Polygon, inside: Inside, cut: Cut): Point[] {
  const out: Point[] = [];
  const n = polygon.length;
  for (let i = 0; i < n; i++) {
    const current = polygon[i];
    const previous = polygon[(i + n - 1) % n];
    const currentIn = inside(current);
    if (currentIn !== inside(previous)) out.push(cut(previous, current));
    if (currentIn) out.push(current);
  }
  return out;
}

function atX(x: number): Cut {
  return (p, q) => [x, p[1] + ((x - p[0]) * (q[1] - p[1])) / (q[0] - p[0])];
}

function atY(y: number): Cut {
  return (p, q) => [p[0] + ((y - p[1]) * (q[0] - p[0])) / (q[1] - p[1]), y];
}

/**
 * The part of a polygon inside an axis-aligned box (Sutherland-Hodgman against the box's four sides). For a
 * concave polygon the result can contain zero-width "bridges" along the box edges; they add no area, so
 * polygonArea of the result is exact. Empty when they do not overlap.
 */
export function clipPolygonToBox(polygon: Polygon, box: Box): Polygon {
  const [x1, y1, x2, y2] = box;
  let out: Polygon = polygon;
  // Each cut is only evaluated for an edge with endpoints on opposite sides, so its denominator is non-zero.
  out = clipAgainst(out, (p) => p[0] >= x1, atX(x1));
  out = clipAgainst(out, (p) => p[0] <= x2, atX(x2));
  out = clipAgainst(out, (p) => p[1] >= y1, atY(y1));
  out = clipAgainst(out, (p) => p[1] <= y2, atY(y2));
  return out;
}

/** Exact area of the overlap between a simple polygon and a box. */
export function polygonBoxIntersectionArea(polygon: Polygon, box: Box): number {
  if (polygon.length < 3) return 0;
  return polygonArea(clipPolygonToBox(polygon, box));
}
