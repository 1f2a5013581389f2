import type { Tensor } from 'onnxruntime-node';

import {
  type DecodeContext,
  floatData,
  imageInputSize,
  type ModelIo,
  type OutputDecoder,
  type RawCandidate,
} from './decoder.types';
import { dimIs, gridCount, STANDARD_STRIDE_SETS } from './grid';

/**
 * Ultralytics YOLOv8 / YOLO11 head, `[1, 4 + C, N]` (channels first): rows 0-3 are cx, cy, w, h in input pixels
 * (DFL already decoded in the graph), rows 4.. are per-class sigmoid scores; there is no objectness.
 */
export class Yolov8Decoder implements OutputDecoder {
  readonly boxSpace = 'input';

  constructor(
    private readonly outputName: string,
    private readonly anchors: number,
  ) {}

  decode(outputs: Readonly<Record<string, Tensor>>, ctx: DecodeContext): RawCandidate[] {
    const data = floatData(outputs, this.outputName);
    const n = this.anchors;
    const { thresholds, mappedIds, minThreshold } = ctx;
    const found: RawCandidate[] = [];
    for (let i = 0; i < n; i++) {
      let best = -1;
      let bestScore = 0;
      for (let m = 0; m < mappedIds.length; m++) {
        const id = mappedIds[m];
        const score = data[(4 + id) * n + i];
        if (score >= minThreshold && score >= thresholds[id] && score > bestScore) {
          best = id;
          bestScore = score;
        }
      }
      if (best < 0) continue;
      const cx = data[i];
      const cy = data[n + i];
      const hw = data[2 * n + i] / 2;
      const hh = data[3 * n + i] / 2;
      found.push({ cocoId: best, score: bestScore, x1: cx - hw, y1: cy - hh, x2: cx + hw, y2: cy + hh });
    }
    return found;
  }
}

/** One float output `[1, 4+C, N]` whose N is the anchor count of a standard stride set for the input size. */
export function matchesYolov8Layout(io: ModelIo): boolean {
  if (io.outputs.length !== 1) return false;
  const [out] = io.outputs;
  if (out.type !== 'float32' || out.shape.length !== 3 || !dimIs(out.shape[0], 1)) return false;
  const [, k, n] = out.shape;
  if (typeof k !== 'number' || k < 5) return false;
  const size = imageInputSize(io);
  if (!size) return typeof n === 'string';
  return STANDARD_STRIDE_SETS.some((s) => dimIs(n, gridCount(size.width, size.height, s)));
}
