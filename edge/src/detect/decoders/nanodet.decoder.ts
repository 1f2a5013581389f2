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

export interface NanodetLevel {
  stride: number;
  cls: string;
  dis: string;
}

/**
 * NanoDet-m (GFL head, not "Plus"): per stride a class map `[1, N, C]` (sigmoided) and a distance map
 * `[1, N, 4 * (regMax + 1)]`. Each side (left, top, right, bottom) is a softmax over regMax + 1 bins; its expectation
 * times the stride is the distance from the anchor centre `g * s + 0.5 * (s - 1)`.
 */
export class NanodetDecoder implements OutputDecoder {
  readonly boxSpace = 'input';
  private readonly bins: number;
  private readonly prob: Float32Array;

  constructor(
    private readonly levels: readonly NanodetLevel[],
    private readonly inputWidth: number,
    private readonly inputHeight: number,
    regMax: number,
    private readonly numClasses: number,
  ) {
    this.bins = regMax + 1;
    this.prob = new Float32Array(this.bins);
  }

  decode(outputs: Readonly<Record<string, Tensor>>, ctx: DecodeContext): RawCandidate[] {
    const { thresholds, mappedIds, minThreshold } = ctx;
    const c = this.numClasses;
    const bins = this.bins;
    const found: RawCandidate[] = [];
    for (const level of this.levels) {
      const cls = floatData(outputs, level.cls);
      const dis = floatData(outputs, level.dis);
      const s = level.stride;
      const ws = Math.floor(this.inputWidth / s);
      const n = ws * Math.floor(this.inputHeight / s);
      for (let i = 0; i < n; i++) {
        const row = i * c;
        let best = -1;
        let bestScore = 0;
        for (let m = 0; m < mappedIds.length; m++) {
          const id = mappedIds[m];
          const score = cls[row + id];
          if (score >= minThreshold && score >= thresholds[id] && score > bestScore) {
            best = id;
            bestScore = score;
          }
        }
        if (best < 0) continue;
        // Only anchors that passed the score test pay for the four softmaxes.
        const base = i * 4 * bins;
        const l = this.expectation(dis, base) * s;
        const t = this.expectation(dis, base + bins) * s;
        const r = this.expectation(dis, base + 2 * bins) * s;
        const b = this.expectation(dis, base + 3 * bins) * s;
        const cx = (i % ws) * s + 0.5 * (s - 1);
        const cy = Math.floor(i / ws) * s + 0.5 * (s - 1);
        found.push({ cocoId: best, score: bestScore, x1: cx - l, y1: cy - t, x2: cx + r, y2: cy + b });
      }
    }
    return found;
  }

  /** Softmax over one side's bins, then sum of bin index x probability. */
  private expectation(dis: Float32Array, offset: number): number {
    const p = this.prob;
    let max = -Infinity;
    for (let j = 0; j < this.bins; j++) if (dis[offset + j] > max) max = dis[offset + j];
    let sum = 0;
    for (let j = 0; j < this.bins; j++) {
      p[j] = Math.exp(dis[offset + j] - max);
      sum += p[j];
    }
    let e = 0;
    for (let j = 1; j < this.bins; j++) e += j * p[j];
    return e / sum;
  }
}

/**
 * Float outputs `[1, N, K]` in pairs of equal N (class map + distance map), one pair per stride of a standard set:
 * the N of each pair is that stride's anchor count for the input size.
 */
export function matchesNanodetLayout(io: ModelIo): boolean {
  const outs = io.outputs;
  if (outs.length < 4 || outs.length % 2 !== 0) return false;
  if (!outs.every((o) => o.type === 'float32' && o.shape.length === 3 && dimIs(o.shape[0], 1))) return false;
  const byN = new Map<number | string, number>();
  for (const o of outs) byN.set(o.shape[1], (byN.get(o.shape[1]) ?? 0) + 1);
  if (![...byN.values()].every((count) => count === 2)) return false;
  const size = imageInputSize(io);
  if (!size) return true;
  return STANDARD_STRIDE_SETS.some(
    (strides) => strides.length === byN.size && strides.every((s) => byN.has(gridCount(size.width, size.height, [s]))),
  );
}
