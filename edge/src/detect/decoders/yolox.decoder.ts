import type { Tensor } from 'onnxruntime-node';

import {
  type DecodeContext,
  floatData,
  imageInputSize,
  type ModelIo,
  type OutputDecoder,
  type RawCandidate,
} from './decoder.types';
import { buildGrid, dimIs, type Grid, gridCount, STANDARD_STRIDE_SETS } from './grid';

/**
 * YOLOX raw head, `[1, N, 5 + C]`: per anchor tx, ty, tw, th, objectness, C class scores. The export leaves the grid
 * decode to us (decode_in_inference=False) but has already applied the sigmoid to objectness and classes.
 */
export class YoloxDecoder implements OutputDecoder {
  readonly boxSpace = 'input';
  private readonly grid: Grid;

  constructor(
    private readonly outputName: string,
    inputWidth: number,
    inputHeight: number,
    strides: readonly number[],
    private readonly numClasses: number,
  ) {
    this.grid = buildGrid(inputWidth, inputHeight, strides);
  }

  decode(outputs: Readonly<Record<string, Tensor>>, ctx: DecodeContext): RawCandidate[] {
    const data = floatData(outputs, this.outputName);
    const { gx, gy, stride } = this.grid;
    const k = 5 + this.numClasses;
    const n = gx.length;
    const { thresholds, mappedIds, minThreshold } = ctx;
    const found: RawCandidate[] = [];
    for (let i = 0; i < n; i++) {
      const row = i * k;
      const obj = data[row + 4];
      // score = obj * cls <= obj, so a weak objectness cannot reach any threshold.
      if (obj < minThreshold) continue;
      let best = -1;
      let bestScore = 0;
      for (let m = 0; m < mappedIds.length; m++) {
        const id = mappedIds[m];
        const score = obj * data[row + 5 + id];
        if (score >= thresholds[id] && score > bestScore) {
          best = id;
          bestScore = score;
        }
      }
      if (best < 0) continue;
      const s = stride[i];
      const cx = (data[row] + gx[i]) * s;
      const cy = (data[row + 1] + gy[i]) * s;
      const hw = (Math.exp(data[row + 2]) * s) / 2;
      const hh = (Math.exp(data[row + 3]) * s) / 2;
      found.push({ cocoId: best, score: bestScore, x1: cx - hw, y1: cy - hh, x2: cx + hw, y2: cy + hh });
    }
    return found;
  }
}

/** One float output `[1, N, 5+C]` whose N is the anchor count of a standard stride set for the input size. */
export function matchesYoloxLayout(io: ModelIo): boolean {
  if (io.outputs.length !== 1) return false;
  const [out] = io.outputs;
  if (out.type !== 'float32' || out.shape.length !== 3 || !dimIs(out.shape[0], 1)) return false;
  const [, n, k] = out.shape;
  if (typeof k !== 'number' || k < 6) return false;
  const size = imageInputSize(io);
  if (!size) return typeof n === 'string';
  return STANDARD_STRIDE_SETS.some((s) => dimIs(n, gridCount(size.width, size.height, s)));
}
