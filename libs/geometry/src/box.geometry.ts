import { GEOMETRY_EPSILON, type Box, type Point, type Polygon } from './geometry.types';
import { pointInPolygon, polygonBoxIntersectionArea } from './polygon.geometry';

/** Width, 0 for an inverted box. */
export function boxWidth(box: Box): number {
  return Math.max(0, box[2] - box[0]);
}

/** Height, 0 for an inverted box. */
export function boxHeight(box: Box): number {
  return Math.max(0, box[3] - box[1]);
}

/** Area, 0 for an inverted or degenerate box. */
export function boxArea(box: Box): number {
  return boxWidth(box) * boxHeight(box);
}

export function boxCentre(box: Box): Point {
  return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
}

/**
 * Middle of the bottom edge: where a vehicle touches the road (y grows downwards, so the bottom is y2). The
 * anchor for line counting and zone membership, as in Frigate and DeepStream, because the box centre of a tall
 * vehicle projects onto the road well behind the vehicle itself.
 */
export function boxBottomCentre(box: Box): Point {
  return [(box[0] + box[2]) / 2, box[3]];
}

/** Closed containment: points on the box edges are inside. */
export function pointInBox(point: Point, box: Box): boolean {
  return point[0] >= box[0] && point[0] <= box[2] && point[1] >= box[1] && point[1] <= box[3];
}

export function boxIntersectionArea(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * Intersection over union in [0, 1]. Two boxes without area (union 0) have IoU 0: there is nothing to overlap,
 * and 0 keeps degenerate detections from looking like a perfect match to a tracker.
 */
export function boxIoU(a: Box, b: Box): number {
  const intersection = boxIntersectionArea(a, b);
  const union = boxArea(a) + boxArea(b) - intersection;
  if (union <= 0) return 0;
  return Math.min(1, Math.max(0, intersection / union));
}

/**
 * Share of the vehicle's height taken as its footprint. From a raised traffic camera the lowest quarter of a
 * vehicle box is mostly wheels, bumper and the road under them, while the upper part (roof, windows) overhangs
 * whatever lies behind the vehicle in the image, e.g. a kerb-side zone it is not in.
 */
export const DEFAULT_FOOTPRINT_FRACTION = 0.25;

/** The bottom strip of a box covering `bottomFraction` of its height: the vehicle's footprint on the road. */
export function boxFootprint(box: Box, bottomFraction: number = DEFAULT_FOOTPRINT_FRACTION): Box {
  if (!(bottomFraction > 0 && bottomFraction <= 1)) {
    throw new RangeError(`bottomFraction must be in (0, 1], got ${bottomFraction}`);
  }
  return [box[0], box[3] - bottomFraction * boxHeight(box), box[2], box[3]];
}

/**
 * Fraction in [0, 1] of a box's footprint (its bottom strip, see boxFootprint) that lies inside a polygon,
 * computed exactly by clipping the polygon to the strip, so the answer does not depend on a sampling density.
 * Rules then compare it to a threshold, e.g. ">= 0.5 of the footprint is inside the no-parking zone".
 * A box without area has no strip: the result is 1 or 0 by whether its bottom-centre is in the polygon
 * (boundary-inclusive). The polygon must be simple (see isSimplePolygon).
 */
export function footprintFractionInPolygon(
  box: Box,
  polygon: Polygon,
  bottomFraction: number = DEFAULT_FOOTPRINT_FRACTION,
  tolerance: number = GEOMETRY_EPSILON,
): number {
  const strip = boxFootprint(box, bottomFraction);
  const stripArea = boxArea(strip);
  if (stripArea <= 0) return pointInPolygon(boxBottomCentre(box), polygon, tolerance) ? 1 : 0;
  return Math.min(1, Math.max(0, polygonBoxIntersectionArea(polygon, strip) / stripArea));
}
