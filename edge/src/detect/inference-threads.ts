import { availableParallelism } from 'node:os';

/**
 * Inference threads when none are configured: all cores but one. Capture decodes in ffmpeg beside inference; when
 * onnxruntime's pool spins on every core, the decoder and the pool preempt each other and the pipeline falls to
 * 72-89 % of bare inference on 2 cores, against 91-92 % with one core left free (BENCHMARKS.md, 2026-11-21).
 */
export function defaultIntraOpThreads(cores = availableParallelism()): number {
  return Math.max(1, cores - 1);
}
