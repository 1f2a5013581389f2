import type { Tensor } from 'onnxruntime-node';

import { type DecodeContext, floatData, type ModelIo, type OutputDecoder, type RawCandidate } from './decoder.types';

export interface DetrOutputNames {
  labels: string;
  boxes: string;
  scores: string;
}

/**
 * DETR family exported with its post-processor (RT-DETR, D-FINE, DEIM, DEIMv2): the graph takes the original frame
 * size (`orig_target_sizes` = [[W, H]]) and returns the top queries as labels, xyxy boxes in original pixels and
 * scores. Set prediction: no grid, no NMS needed within a class.
 */
export class DetrDecoder implements OutputDecoder {
  readonly boxSpace = 'frame';

  constructor(private readonly names: DetrOutputNames) {}

  decode(outputs: Readonly<Record<string, Tensor>>, ctx: DecodeContext): RawCandidate[] {
    const labelsTensor = outputs[this.names.labels];
    if (!labelsTensor || !(labelsTensor.data instanceof BigInt64Array)) {
      throw new Error(`output "${this.names.labels}" missing or not int64`);
    }
    const labels = labelsTensor.data;
    const boxes = floatData(outputs, this.names.boxes);
    const scores = floatData(outputs, this.names.scores);
    const { thresholds, minThreshold } = ctx;
    const found: RawCandidate[] = [];
    for (let i = 0; i < scores.length; i++) {
      const score = scores[i];
      if (score < minThreshold) continue;
      const id = Number(labels[i]);
      // Ids outside the class table (or unmapped, +Infinity) never pass.
      if (!(id >= 0 && id < thresholds.length) || score < thresholds[id]) continue;
      const b = i * 4;
      found.push({ cocoId: id, score, x1: boxes[b], y1: boxes[b + 1], x2: boxes[b + 2], y2: boxes[b + 3] });
    }
    return found;
  }
}

/** An int64 `[N, 2]` size input beside the image, and outputs int64 labels `[N, Q]`, float boxes `[N, Q, 4]`, scores. */
export function matchesDetrLayout(io: ModelIo): boolean {
  const sizeInput = io.inputs.some((i) => i.type === 'int64' && i.shape.length === 2 && i.shape[1] === 2);
  if (!sizeInput || io.outputs.length !== 3) return false;
  const labels = io.outputs.filter((o) => o.type === 'int64' && o.shape.length === 2);
  const boxes = io.outputs.filter((o) => o.type === 'float32' && o.shape.length === 3 && o.shape[2] === 4);
  const scores = io.outputs.filter((o) => o.type === 'float32' && o.shape.length === 2);
  return labels.length === 1 && boxes.length === 1 && scores.length === 1;
}
