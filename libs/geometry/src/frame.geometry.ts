import type { Box, FrameSize, Point, Polygon } from './geometry.types';

function assertFrameSize(size: FrameSize): void {
  const { width, height } = size;
  if (!Number.isFinite(width) || !Number.isFinite(height) || width <= 0 || height <= 0) {
    // A zero or NaN size would silently turn every coordinate into Infinity/NaN downstream.
    throw new RangeError(`frame size must be positive and finite, got ${width}x${height}`);
  }
}

/** Normalised point -> pixel point (not rounded: rounding is the caller's choice, e.g. only when drawing). */
export function pointToPixels(point: Point, size: FrameSize): Point {
  assertFrameSize(size);
  return [point[0] * size.width, point[1] * size.height];
}

/** Pixel point -> normalised point. */
export function pointFromPixels(point: Point, size: FrameSize): Point {
  assertFrameSize(size);
  return [point[0] / size.width, point[1] / size.height];
}

export function polygonToPixels(polygon: Polygon, size: FrameSize): Polygon {
  assertFrameSize(size);
  return polygon.map(([x, y]): Point => [x * size.width, y * size.height]);
}

export function polygonFromPixels(polygon: Polygon, size: FrameSize): Polygon {
  assertFrameSize(size);
  return polygon.map(([x, y]): Point => [x / size.width, y / size.height]);
}

export function boxToPixels(box: Box, size: FrameSize): Box {
  assertFrameSize(size);
  const { width: w, height: h } = size;
  return [box[0] * w, box[1] * h, box[2] * w, box[3] * h];
}

export function boxFromPixels(box: Box, size: FrameSize): Box {
  assertFrameSize(size);
  const { width: w, height: h } = size;
  return [box[0] / w, box[1] / h, box[2] / w, box[3] / h];
}

/** Clamps value into [min, max]. NaN stays NaN so that a broken upstream value is not silently hidden. */
export function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

export function clampUnit(value: number): number {
  return clamp(value, 0, 1);
}

/** Clamps a normalised point into the frame. */
export function clampPoint(point: Point): Point {
  return [clampUnit(point[0]), clampUnit(point[1])];
}

/** Clamps a normalised polygon's vertices into the frame. */
export function clampPolygon(polygon: Polygon): Polygon {
  return polygon.map(clampPoint);
}

/**
 * Clamps a normalised box into the frame and puts its corners in order (x1 <= x2, y1 <= y2), so a detector box
 * that spills over the frame edge or arrives with swapped corners becomes a valid Box.
 */
export function clampBox(box: Box): Box {
  const [x1, y1, x2, y2] = box.map(clampUnit);
  return [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)];
}

/** Pixel-space variant of clampBox: clamps into [0, width] x [0, height]. */
export function clampPixelBox(box: Box, size: FrameSize): Box {
  assertFrameSize(size);
  const x1 = clamp(box[0], 0, size.width);
  const y1 = clamp(box[1], 0, size.height);
  const x2 = clamp(box[2], 0, size.width);
  const y2 = clamp(box[3], 0, size.height);
  return [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)];
}
