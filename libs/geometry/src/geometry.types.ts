/**
 * Shared shapes for Vigil's 2-D geometry.
 *
 * Coordinates are normalised to the frame: x in [0, 1] from the left edge, y in [0, 1] from the TOP edge
 * (y grows downwards, as in every image buffer), so zones and lines survive a camera resolution change.
 * The functions themselves are unit-agnostic and work on pixel coordinates too; only the tolerance is absolute.
 */

/** [x, y]. */
export type Point = readonly [x: number, y: number];

/** Vertices in order, implicitly closed (do not repeat the first vertex at the end). */
export type Polygon = readonly Point[];

/** A line segment [a, b]; for sideOfLine it is also the directed line from a to b. */
export type Segment = readonly [a: Point, b: Point];

/** Axis-aligned box [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2 (top-left, bottom-right). */
export type Box = readonly [x1: number, y1: number, x2: number, y2: number];

/** Frame dimensions in pixels. */
export interface FrameSize {
  readonly width: number;
  readonly height: number;
}

/**
 * Absolute distance tolerance: points closer than this to a line, edge or other point count as ON it.
 *
 * 1e-9 of the frame is about 1e-5 px even on an 8K frame, so it never changes a real decision, yet it is
 * roughly 10 million times larger than float64 rounding for coordinates of magnitude ~1 (and still ~1000 times
 * larger for pixel coordinates up to ~10^4), so a point computed to lie on a line (a shared vertex, an
 * intersection) is reliably classified as on it instead of flipping sides on a rounding error.
 */
export const GEOMETRY_EPSILON = 1e-9;
