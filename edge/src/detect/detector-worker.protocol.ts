import type { DetectorProvenance } from './detector';
import type { Detection, DetectorOptions } from './detector.types';
import type { InputGeometry } from './letterbox';
import type { ModelManifest } from './model-manifest.schema';

/** What the detector worker is started with. */
export interface DetectorWorkerData {
  manifest: ModelManifest;
  modelsDir: string;
  options: DetectorOptions;
}

/** Main thread -> worker. `input` is transferred (not copied) and comes back with the answer. */
export type ToDetectorWorker =
  | { type: 'infer'; id: number; input: Float32Array; frameSize: [number, number]; geometry: InputGeometry }
  /** New NMS IoU for the requests after this one (messages are handled in order). */
  | { type: 'configure'; nmsIou: number }
  | { type: 'close' };

/** Worker -> main thread. */
export type FromDetectorWorker =
  | { type: 'ready'; provenance: DetectorProvenance; warmInferenceMs: number }
  | { type: 'load-failed'; code: string; message: string }
  | {
      type: 'result';
      id: number;
      input: Float32Array;
      detections: Detection[];
      inferenceMs: number;
      decodeMs: number;
    }
  | { type: 'failed'; id: number; input: Float32Array; code: string; message: string }
  | { type: 'closed' };
