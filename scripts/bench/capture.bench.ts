import type { FitMode } from '../../edge/src/capture/capture.types';
import { FrameCapture } from '../../edge/src/capture/frame-capture.service';

export interface CaptureRateOptions {
  clip: string;
  width: number;
  height: number;
  fit?: FitMode;
  /** Detection rate (ffmpeg fps filter); undefined decodes every frame of the clip. */
  fps?: number;
  /** Stop after this many frames (default: the whole clip). */
  maxFrames?: number;
}

export interface CaptureRate {
  /** Frames cut from ffmpeg's output. */
  frames: number;
  seconds: number;
  /** frames / seconds: how fast the capture path (ffmpeg decode + scale + frame split) produces frames. */
  framesPerSecond: number;
  width: number;
  height: number;
  /** Frames overwritten before this (deliberately fast) consumer took them; non-zero means the consumer lagged. */
  dropped: number;
}

/**
 * Decodes a clip through the real capture path as fast as possible (no real-time pacing) with a consumer that takes
 * every frame at once, and reports frames/s. For benchmarks (scripts/bench/bench-edge.ts); start-up time is included, as
 * it is in a real camera restart.
 */
export async function measureCaptureRate(options: CaptureRateOptions): Promise<CaptureRate> {
  const capture = new FrameCapture({
    source: { kind: 'file', path: options.clip },
    output: { width: options.width, height: options.height, fit: options.fit, fps: options.fps },
  });
  // A clip that cannot be decoded would otherwise be retried for ever.
  const failure: { reason: string | null } = { reason: null };
  capture.onStatus((s) => {
    if (s.state !== 'failed' || s.cause === 'end-of-input') return;
    failure.reason = s.reason;
    void capture.close();
  });
  const t0 = process.hrtime.bigint();
  let t1 = t0;
  let frames = 0;
  let decodedAtLast = 0;
  let size = { width: 0, height: 0 };
  capture.start();
  try {
    for await (const frame of capture.frames()) {
      frames++;
      t1 = process.hrtime.bigint();
      decodedAtLast = capture.counters.framesDecoded;
      size = { width: frame.width, height: frame.height };
      if (options.maxFrames !== undefined && frames >= options.maxFrames) break;
    }
  } finally {
    await capture.close();
  }
  if (failure.reason !== null) throw new Error(`capture of ${options.clip} failed: ${failure.reason}`);
  const decoded = decodedAtLast;
  const seconds = Number(t1 - t0) / 1e9;
  return {
    frames: decoded,
    seconds,
    framesPerSecond: seconds > 0 ? decoded / seconds : 0,
    width: size.width,
    height: size.height,
    dropped: capture.counters.framesDropped,
  };
}
