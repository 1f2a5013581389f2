import { DetectorError, DetectorErrorCode } from './detector.errors';
import type { PixelFormat, RawFrame } from './detector.types';
import { computeGeometry, type InputGeometry } from './letterbox';
import type { Normalization, ResizeSpec } from './model-manifest.schema';

export interface PreprocessSpec {
  width: number;
  height: number;
  colorOrder: 'bgr' | 'rgb';
  normalization: Normalization;
  resize: ResizeSpec;
  filter: 'bilinear' | 'nearest';
}

/** Fixed-point 1.0 for the bilinear weights. */
export const WEIGHT_ONE = 2048;

/** Per source-size lookup tables: computed once per camera resolution, reused for every frame. */
interface ResizeTables {
  geometry: InputGeometry;
  pixelFormat: PixelFormat;
  /** Per output column: byte offset of the left source pixel (its right neighbour is 3 bytes on), right weight. */
  x0: Int32Array;
  wx: Int32Array;
  /** Per output row: byte offset of the upper source row (the lower one is a row on), lower row's weight. */
  y0: Int32Array;
  wy: Int32Array;
  /** A 1-pixel-wide or -high source has no neighbour to blend with. */
  filter: 'bilinear' | 'nearest';
}

export function assertFrame(frame: RawFrame): void {
  const { width, height, data, pixelFormat } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new DetectorError(
      DetectorErrorCode.INVALID_FRAME,
      `frame size must be positive integers, got ${width}x${height}`,
    );
  }
  if (pixelFormat !== 'bgr24' && pixelFormat !== 'rgb24') {
    throw new DetectorError(DetectorErrorCode.INVALID_FRAME, `unsupported pixel format "${String(pixelFormat)}"`);
  }
  const expected = width * height * 3;
  if (data.length !== expected) {
    throw new DetectorError(
      DetectorErrorCode.INVALID_FRAME,
      `${pixelFormat} frame ${width}x${height} needs ${expected} bytes (width*height*3), got ${data.length}`,
    );
  }
}

/**
 * Resize + letterbox + channel order + normalisation from a packed 8-bit frame straight into an NCHW float tensor,
 * in one pass over the output pixels. The output buffer and the resize tables are allocated once and reused: a
 * camera's frames all have the same size, so only the first frame (or a resolution change) pays for the tables and
 * for painting the padding.
 */
export class FramePreprocessor {
  /**
   * NCHW [1, 3, height, width]; overwritten by every run(). A worker-thread detector transfers it to the worker and
   * gets the same memory back (`adopt`), so the letterbox padding painted into it once stays valid.
   */
  tensor: Float32Array;
  private readonly scale = new Float32Array(3);
  private readonly bias = new Float32Array(3);
  private tables: ResizeTables | undefined;

  constructor(private readonly spec: PreprocessSpec) {
    this.tensor = new Float32Array(3 * spec.width * spec.height);
    const n = spec.normalization;
    for (let c = 0; c < 3; c++) {
      switch (n.kind) {
        case 'raw':
          this.scale[c] = 1;
          this.bias[c] = 0;
          break;
        case 'unit':
          this.scale[c] = 1 / 255;
          this.bias[c] = 0;
          break;
        case 'mean-std':
          this.scale[c] = 1 / n.std[c];
          this.bias[c] = -n.mean[c] / n.std[c];
          break;
      }
    }
  }

  /** Takes back this preprocessor's own tensor after it travelled to a worker and back. */
  adopt(tensor: Float32Array): void {
    if (tensor.length !== 3 * this.spec.width * this.spec.height) {
      throw new RangeError(`tensor of ${tensor.length} values for a ${this.spec.width}x${this.spec.height} input`);
    }
    this.tensor = tensor;
  }

  /** Fills `tensor` from the frame and returns where the frame landed in it. */
  run(frame: RawFrame): InputGeometry {
    assertFrame(frame);
    const t = this.tablesFor(frame);
    // Model channel c reads source byte c of each pixel when orders agree, byte 2-c when they are swapped.
    const swap = (frame.pixelFormat === 'bgr24') !== (this.spec.colorOrder === 'bgr');
    const s0 = swap ? 2 : 0;
    const s2 = swap ? 0 : 2;
    const g = t.geometry;
    // Capture can already scale to the model's size (ffmpeg does it in C): then this is a plain convert.
    if (g.resizedWidth === g.srcWidth && g.resizedHeight === g.srcHeight) this.convert(frame.data, t, s0, s2);
    else if (t.filter === 'nearest') this.nearest(frame.data, t, s0, s2);
    else this.bilinear(frame.data, t, s0, s2);
    return t.geometry;
  }

  private tablesFor(frame: RawFrame): ResizeTables {
    const cached = this.tables;
    if (
      cached &&
      cached.geometry.srcWidth === frame.width &&
      cached.geometry.srcHeight === frame.height &&
      cached.pixelFormat === frame.pixelFormat
    ) {
      return cached;
    }
    const { width, height, resize } = this.spec;
    const g = computeGeometry(frame.width, frame.height, width, height, resize);
    const filter = frame.width < 2 || frame.height < 2 ? 'nearest' : this.spec.filter;
    const x0 = new Int32Array(g.resizedWidth);
    const wx = new Int32Array(g.resizedWidth);
    const y0 = new Int32Array(g.resizedHeight);
    const wy = new Int32Array(g.resizedHeight);
    fillAxis(g.srcWidth, g.resizedWidth, 3, x0, wx, filter);
    fillAxis(g.srcHeight, g.resizedHeight, frame.width * 3, y0, wy, filter);
    this.paintPadding(g, resize);
    this.tables = { geometry: g, pixelFormat: frame.pixelFormat, x0, wx, y0, wy, filter };
    return this.tables;
  }

  /** The padding never changes between frames of one size, so it is painted once per geometry. */
  private paintPadding(g: InputGeometry, resize: ResizeSpec): void {
    if (resize.mode !== 'letterbox') return;
    const plane = g.dstWidth * g.dstHeight;
    for (let c = 0; c < 3; c++) {
      this.tensor.fill(resize.padValue * this.scale[c] + this.bias[c], c * plane, (c + 1) * plane);
    }
  }

  /**
   * Integer weights (11 bits, as OpenCV's INTER_LINEAR): the four tap weights of a pixel multiply to at most 2^22,
   * so a blend stays below 255 * 2^22 (int32-exact), and one multiply at the end folds the 2^-22 back in together
   * with the normalisation. The taps are a, a+3 (right), c = a + one row, c+3.
   */
  private bilinear(src: Uint8Array, t: ResizeTables, s0: number, s2: number): void {
    const { geometry: g, x0, wx, y0, wy } = t;
    const out = this.tensor;
    const W = g.dstWidth;
    const plane = W * g.dstHeight;
    const plane2 = 2 * plane;
    const row = g.srcWidth * 3;
    const unit = 1 / (WEIGHT_ONE * WEIGHT_ONE);
    const k0 = this.scale[0] * unit;
    const k1 = this.scale[1] * unit;
    const k2 = this.scale[2] * unit;
    const b0 = this.bias[0];
    const b1 = this.bias[1];
    const b2 = this.bias[2];
    const r0 = s0 + 3;
    const r2 = s2 + 3;
    for (let y = 0; y < g.resizedHeight; y++) {
      const top = y0[y];
      const fy = wy[y];
      const gy = WEIGHT_ONE - fy;
      let o = (g.padY + y) * W + g.padX;
      for (let x = 0; x < g.resizedWidth; x++, o++) {
        const a = top + x0[x];
        const c = a + row;
        const fx = wx[x];
        const gx = WEIGHT_ONE - fx;
        const wa = gx * gy;
        const wb = fx * gy;
        const wc = gx * fy;
        const wd = fx * fy;
        out[o] = (src[a + s0] * wa + src[a + r0] * wb + src[c + s0] * wc + src[c + r0] * wd) * k0 + b0;
        out[o + plane] = (src[a + 1] * wa + src[a + 4] * wb + src[c + 1] * wc + src[c + 4] * wd) * k1 + b1;
        out[o + plane2] = (src[a + s2] * wa + src[a + r2] * wb + src[c + s2] * wc + src[c + r2] * wd) * k2 + b2;
      }
    }
  }

  private convert(src: Uint8Array, t: ResizeTables, s0: number, s2: number): void {
    const g = t.geometry;
    const out = this.tensor;
    const W = g.dstWidth;
    const plane = W * g.dstHeight;
    const k0 = this.scale[0];
    const k1 = this.scale[1];
    const k2 = this.scale[2];
    const b0 = this.bias[0];
    const b1 = this.bias[1];
    const b2 = this.bias[2];
    let p = 0;
    for (let y = 0; y < g.srcHeight; y++) {
      let o = (g.padY + y) * W + g.padX;
      for (let x = 0; x < g.srcWidth; x++, o++, p += 3) {
        out[o] = src[p + s0] * k0 + b0;
        out[o + plane] = src[p + 1] * k1 + b1;
        out[o + 2 * plane] = src[p + s2] * k2 + b2;
      }
    }
  }

  private nearest(src: Uint8Array, t: ResizeTables, s0: number, s2: number): void {
    const { geometry: g, x0, y0 } = t;
    const out = this.tensor;
    const W = g.dstWidth;
    const plane = W * g.dstHeight;
    const k0 = this.scale[0];
    const k1 = this.scale[1];
    const k2 = this.scale[2];
    const b0 = this.bias[0];
    const b1 = this.bias[1];
    const b2 = this.bias[2];
    for (let y = 0; y < g.resizedHeight; y++) {
      const r = y0[y];
      let o = (g.padY + y) * W + g.padX;
      for (let x = 0; x < g.resizedWidth; x++, o++) {
        const p = r + x0[x];
        out[o] = src[p + s0] * k0 + b0;
        out[o + plane] = src[p + 1] * k1 + b1;
        out[o + 2 * plane] = src[p + s2] * k2 + b2;
      }
    }
  }
}

/**
 * Source sample positions for one axis, pixel-centre aligned like OpenCV's INTER_LINEAR:
 * src = (dst + 0.5) * srcLen / dstLen - 0.5, clamped at the borders. `step` turns indices into byte offsets.
 * Bilinear: `i0` is the lower sample (the upper is the next one, so it needs srcLen >= 2) and `w` the upper one's
 * share in units of WEIGHT_ONE; at the far border the pair is moved one left with full weight on the last sample.
 * Nearest: `i0` is the covering sample and `w` is 0.
 */
export function fillAxis(
  srcLen: number,
  dstLen: number,
  step: number,
  i0: Int32Array,
  w: Int32Array,
  filter: 'bilinear' | 'nearest',
): void {
  const ratio = srcLen / dstLen;
  for (let d = 0; d < dstLen; d++) {
    if (filter === 'nearest') {
      i0[d] = Math.min(srcLen - 1, Math.floor((d + 0.5) * ratio)) * step;
      w[d] = 0;
      continue;
    }
    const s = Math.max(0, (d + 0.5) * ratio - 0.5);
    let lo = Math.floor(s);
    let frac = s - lo;
    if (lo >= srcLen - 1) {
      lo = srcLen - 2;
      frac = 1;
    }
    i0[d] = lo * step;
    w[d] = Math.round(frac * WEIGHT_ONE);
  }
}
