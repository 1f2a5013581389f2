import type { ObjectClass } from '@vigil/contracts/common.schema';

export type PixelFormat = 'bgr24' | 'rgb24';

/** One decoded video frame as ffmpeg's rawvideo muxer writes it: packed 3 bytes per pixel, rows without padding. */
export interface RawFrame {
  data: Uint8Array;
  width: number;
  height: number;
  pixelFormat: PixelFormat;
}

export type BoxXyxy = [x1: number, y1: number, x2: number, y2: number];

export interface Detection {
  cls: ObjectClass;
  score: number;
  /** Normalised 0..1 to the original frame. */
  box: BoxXyxy;
  /** The model's COCO-80 index (person 0, bicycle 1, car 2, motorcycle 3, bus 5, truck 7). */
  cocoId: number;
}

export interface ThreadOptions {
  /**
   * Threads inside one operator. Default: cores - 1 (at least 1), so the camera's ffmpeg decoder keeps a core;
   * 0 lets onnxruntime pick (all cores).
   */
  intraOpNumThreads?: number;
  /** Threads across independent operators; only used with executionMode 'parallel'. */
  interOpNumThreads?: number;
  executionMode?: 'sequential' | 'parallel';
}

export interface DetectorOptions {
  threads?: ThreadOptions;
  /** Overrides the manifest's score threshold for every class without its own. */
  scoreThreshold?: number;
  /** Per-class score thresholds, over the manifest's. */
  classThresholds?: Partial<Record<ObjectClass, number>>;
  /** IoU above which a lower-scored box of the same class (or another vehicle class) is suppressed. */
  nmsIou?: number;
  /** IoU above which boxes of two different vehicle classes are one vehicle (default: the manifest's, else nmsIou). */
  vehicleMergeIou?: number;
  /** Verify the file's sha256 against the manifest at load (default true; ~10 ms for a 4 MB model). */
  verifySha256?: boolean;
  resizeFilter?: 'bilinear' | 'nearest';
  /** Upper bound on detections returned per frame (highest scores first). */
  maxDetections?: number;
}

/** Wall time of the stages of the last detect() call, for metrics and benchmarks. */
export interface DetectTimings {
  preprocessMs: number;
  inferenceMs: number;
  decodeMs: number;
}
