import { availableParallelism } from 'node:os';

/**
 * Inference threads when none are configured: all cores but one. Capture decodes in ffmpeg beside inference; when
 * onnxruntime's pool spins on every core, the decoder and the pool preempt each other and the pipeline falls to
 * 72-89 % of bare inference on 2 cores, against 91-92 % with one core left free (BENCHMARKS.md, 2026-11-21).
 */
export function defaultIntraOpThreads(cores = availableParallelism()): number {
  return Math.max(1, cores - 1);
}

/** Share of a session's thread the cameras may keep busy before another session is added (headroom for bursts). */
export const SESSION_BUSY_SHARE = 0.8;

/**
 * Detector sessions (each its own thread and onnxruntime session) for a node's cameras: enough that the frames they
 * ask for per second, at `inferenceMs` each, keep no session busier than SESSION_BUSY_SHARE; at least one, at most as
 * many as the cores hold at `threadsPerSession` each. One session is ~50 MB (model, activations, thread), so a node
 * whose cameras one inference thread can serve keeps one.
 */
export function detectorSessionsFor(
  framesPerSecond: readonly number[],
  inferenceMs: number,
  threadsPerSession = defaultIntraOpThreads(),
  cores = availableParallelism(),
): number {
  const demand = (framesPerSecond.reduce((a, b) => a + b, 0) * Math.max(0, inferenceMs)) / 1000;
  const wanted = Math.max(1, Math.ceil(demand / SESSION_BUSY_SHARE));
  // 0 = onnxruntime's own choice, every core.
  const threads = threadsPerSession === 0 ? cores : threadsPerSession;
  const most = Math.max(1, Math.floor(cores / threads));
  return Math.min(wanted, most);
}
