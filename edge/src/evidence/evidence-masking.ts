import type { Box, Polygon } from '@vigil/geometry';

/** Packed RGB, 3 bytes per pixel, rows without padding: what sharp takes as raw input. */
export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
}

/** Integer pixel rectangle, x2/y2 exclusive. */
export interface PixelRect {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export type Rgb = readonly [r: number, g: number, b: number];

/** A copy in RGB order (the frame itself is never modified: the detector and other rules still read it). */
export function toRgb(frame: {
  data: Uint8Array;
  width: number;
  height: number;
  pixelFormat: 'bgr24' | 'rgb24';
}): RgbImage {
  const n = frame.width * frame.height * 3;
  if (frame.data.length < n) {
    throw new RangeError(`frame of ${frame.data.length} bytes is too small for ${frame.width}x${frame.height}x3`);
  }
  const src = frame.data;
  const out = Buffer.allocUnsafe(n);
  if (frame.pixelFormat === 'rgb24') {
    out.set(src.subarray(0, n));
  } else {
    for (let i = 0; i < n; i += 3) {
      out[i] = src[i + 2];
      out[i + 1] = src[i + 1];
      out[i + 2] = src[i];
    }
  }
  return { data: out, width: frame.width, height: frame.height };
}

/**
 * The pixels a normalised box covers, grown by `margin` (a fraction of its size on each side) and clamped to the
 * image; covers every pixel the box touches. Null when nothing is left inside the image.
 */
export function boxToRect(box: Box, width: number, height: number, margin = 0): PixelRect | null {
  const [bx1, by1, bx2, by2] = box;
  const mx = (bx2 - bx1) * margin;
  const my = (by2 - by1) * margin;
  // A millionth of a pixel of slack, so 0.1 + 0.2 does not round outwards to one more pixel.
  const x1 = Math.max(0, Math.floor((bx1 - mx) * width + 1e-6));
  const y1 = Math.max(0, Math.floor((by1 - my) * height + 1e-6));
  const x2 = Math.min(width, Math.ceil((bx2 + mx) * width - 1e-6));
  const y2 = Math.min(height, Math.ceil((by2 + my) * height - 1e-6));
  if (x2 <= x1 || y2 <= y1) return null;
  return { x1, y1, x2, y2 };
}

/**
 * Destroys the detail of a region: averages it down to cells of `cell` pixels, then interpolates the cells back
 * (bilinear), so the region keeps only its coarse colours and no block edges. With the cell at an eighth of a
 * person's height, a face (about a seventh of it) becomes about one cell: unrecognisable.
 */
export function blurRect(img: RgbImage, rect: PixelRect, cell: number): void {
  const { data, width } = img;
  const rw = rect.x2 - rect.x1;
  const rh = rect.y2 - rect.y1;
  const c = Math.max(1, Math.round(cell));
  const cw = Math.ceil(rw / c);
  const ch = Math.ceil(rh / c);
  const sums = new Float64Array(cw * ch * 3);
  const counts = new Uint32Array(cw * ch);
  for (let y = 0; y < rh; y++) {
    const cy = Math.floor(y / c);
    let p = ((rect.y1 + y) * width + rect.x1) * 3;
    for (let x = 0; x < rw; x++, p += 3) {
      const ci = cy * cw + Math.floor(x / c);
      sums[ci * 3] += data[p];
      sums[ci * 3 + 1] += data[p + 1];
      sums[ci * 3 + 2] += data[p + 2];
      counts[ci]++;
    }
  }
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] || 1;
    sums[i * 3] /= n;
    sums[i * 3 + 1] /= n;
    sums[i * 3 + 2] /= n;
  }
  for (let y = 0; y < rh; y++) {
    const fy = Math.min(Math.max((y + 0.5) / c - 0.5, 0), ch - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, ch - 1);
    const wy = fy - y0;
    let p = ((rect.y1 + y) * width + rect.x1) * 3;
    for (let x = 0; x < rw; x++, p += 3) {
      const fx = Math.min(Math.max((x + 0.5) / c - 0.5, 0), cw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, cw - 1);
      const wx = fx - x0;
      for (let k = 0; k < 3; k++) {
        const a = sums[(y0 * cw + x0) * 3 + k];
        const b = sums[(y0 * cw + x1) * 3 + k];
        const d = sums[(y1 * cw + x0) * 3 + k];
        const e = sums[(y1 * cw + x1) * 3 + k];
        data[p + k] = Math.round((a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy);
      }
    }
  }
}

/** Cell size for a person's box: an eighth of its larger side, at least 4 px. */
export function personCell(rect: PixelRect): number {
  return Math.max(4, Math.round(Math.max(rect.x2 - rect.x1, rect.y2 - rect.y1) / 8));
}

/**
 * Fills a normalised polygon solid. Conservative: a pixel is filled when the polygon's span crosses it at the
 * top, middle or bottom of its row, so a privacy zone never leaves a sliver of the pixels it touches.
 */
export function fillPolygon(img: RgbImage, polygon: Polygon, colour: Rgb): number {
  const { data, width, height } = img;
  const pts = polygon.map(([x, y]) => [x * width, y * height] as const);
  if (pts.length < 3) return 0;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const [, y] of pts) {
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  let filled = 0;
  const rowStart = Math.max(0, Math.floor(minY));
  const rowEnd = Math.min(height, Math.ceil(maxY));
  for (let row = rowStart; row < rowEnd; row++) {
    const spans: [number, number][] = [];
    for (const sy of [row, row + 0.5, row + 1]) {
      spans.push(...spansAt(pts, Math.min(Math.max(sy, minY), maxY)));
    }
    const covered = new Uint8Array(width);
    for (const [a, b] of spans) {
      const from = Math.max(0, Math.floor(a));
      const to = Math.min(width, Math.ceil(b));
      for (let x = from; x < to; x++) covered[x] = 1;
      // A span thinner than a pixel still covers the pixel it lies in.
      if (to <= from && from < width) covered[from] = 1;
    }
    let p = row * width * 3;
    for (let x = 0; x < width; x++, p += 3) {
      if (!covered[x]) continue;
      data[p] = colour[0];
      data[p + 1] = colour[1];
      data[p + 2] = colour[2];
      filled++;
    }
  }
  return filled;
}

/** Inside spans (even-odd) of a horizontal line at height `y`; edges are half-open in y so a shared vertex counts once. */
function spansAt(pts: readonly (readonly [number, number])[], y: number): [number, number][] {
  const xs: number[] = [];
  const n = pts.length;
  for (let i = 0; i < n; i++) {
    const [ax, ay] = pts[i];
    const [bx, by] = pts[(i + 1) % n];
    if ((ay <= y && y < by) || (by <= y && y < ay)) xs.push(ax + ((y - ay) * (bx - ax)) / (by - ay));
  }
  xs.sort((a, b) => a - b);
  const spans: [number, number][] = [];
  for (let i = 0; i + 1 < xs.length; i += 2) spans.push([xs[i], xs[i + 1]]);
  return spans;
}

/** Draws a rectangle outline of `thickness` pixels just outside `rect` (the object itself stays visible). */
export function drawRect(img: RgbImage, rect: PixelRect, thickness: number, colour: Rgb): void {
  const { width, height } = img;
  const t = Math.max(1, Math.round(thickness));
  const x1 = Math.max(0, rect.x1 - t);
  const y1 = Math.max(0, rect.y1 - t);
  const x2 = Math.min(width, rect.x2 + t);
  const y2 = Math.min(height, rect.y2 + t);
  paint(img, x1, y1, x2, Math.min(y2, rect.y1), colour);
  paint(img, x1, Math.max(y1, rect.y2), x2, y2, colour);
  paint(img, x1, y1, Math.min(x2, rect.x1), y2, colour);
  paint(img, Math.max(x1, rect.x2), y1, x2, y2, colour);
}

function paint(img: RgbImage, x1: number, y1: number, x2: number, y2: number, colour: Rgb): void {
  for (let y = y1; y < y2; y++) {
    let p = (y * img.width + x1) * 3;
    for (let x = x1; x < x2; x++, p += 3) {
      img.data[p] = colour[0];
      img.data[p + 1] = colour[1];
      img.data[p + 2] = colour[2];
    }
  }
}
