import type { EdgeConfig, ModelProvenance } from '@vigil/contracts';

import type { Detection } from '../detect/detector.types';
import { RulesEngine, type RulesEngineOptions, type RulesOutput } from '../rules/rules-engine';
import { ByteTracker, trackerThresholdsFor, type ByteTrackerOptions } from '../track/byte-tracker';
import type { TrackSnapshot } from '../track/track.types';
import type { Clock } from './clock';

export const TRACKER_ID = 'bytetrack-v1';

/** What the detector says about itself that provenance needs (WorkerDetector.provenance satisfies it). */
export interface DetectorIdentity {
  modelId: string;
  sha256: string;
  nmsIou: number;
}

/**
 * The provenance of events from now on: the model, and the thresholds IN FORCE (the tracker's, set from the
 * configuration, and the detector's NMS IoU), so every automated decision names what actually produced it.
 */
export function provenanceFor(detector: DetectorIdentity, detection: EdgeConfig['detection']): ModelProvenance {
  return {
    modelId: detector.modelId,
    sha256: detector.sha256,
    scoreThreshold: detection.scoreThreshold,
    nmsIou: detector.nmsIou,
    classThresholds: { ...detection.classThresholds },
    trackerId: TRACKER_ID,
  };
}

export interface CameraAnalysisOptions {
  cameraId: string;
  config: EdgeConfig;
  model: ModelProvenance;
  clock: Clock;
  tracker?: Partial<Omit<ByteTrackerOptions, 'highScore' | 'classHighScore'>>;
  rules?: Omit<RulesEngineOptions, 'cameraId' | 'model'>;
}

/** One frame's tracks and what the rules made of them. */
export interface FrameAnalysis extends RulesOutput {
  tracks: TrackSnapshot[];
}

/**
 * Tracking and rules for one camera, on the monotonic clock: the tracker's Kalman steps and lost-track buffer and
 * the rules' dwell, stationarity and hysteresis are measured on `clock.monoMs()`, while the rules get each frame's
 * wall-clock time for schedules, count interval edges and message timestamps. A wall-clock step (NTP, an operator)
 * therefore neither creates nor inflates a dwell, nor freezes the rules; it only moves timestamps.
 */
export class CameraAnalysis {
  readonly tracker: ByteTracker;
  readonly engine: RulesEngine;
  private readonly clock: Clock;
  private lastMono = -Infinity;

  /** Builds everything; throws (building nothing that runs) when the configuration cannot be applied. */
  constructor(o: CameraAnalysisOptions) {
    this.clock = o.clock;
    this.tracker = new ByteTracker({ ...o.tracker, ...trackerThresholdsFor(o.config.detection) });
    this.engine = new RulesEngine(o.config, { ...o.rules, cameraId: o.cameraId, model: o.model });
  }

  /** Throws what constructing the analysis for this configuration would throw; changes nothing. */
  static check(o: Omit<CameraAnalysisOptions, 'clock'>): void {
    new CameraAnalysis({ ...o, clock: { monoMs: () => 0, wallMs: () => 0 } });
  }

  /** Rule time now: the monotonic clock, never before a time already used (frames are handled in order). */
  private now(): number {
    this.lastMono = Math.max(this.lastMono, this.clock.monoMs());
    return this.lastMono;
  }

  /** One analysed frame; `wallMs` is its capture time (wall clock), which its messages carry. */
  analyse(detections: readonly Detection[], wallMs: number): FrameAnalysis {
    const t = this.now();
    const tracks = this.tracker.update(detections, t);
    return { ...this.engine.process(tracks, t, wallMs), tracks };
  }

  /** Count intervals that ended while no frame arrived. */
  tick(): RulesOutput {
    return this.engine.tick(this.now(), this.clock.wallMs());
  }

  /** A new configuration for a camera that keeps running: thresholds, provenance and rules apply at once. */
  reconfigure(config: EdgeConfig, model: ModelProvenance): RulesOutput {
    this.tracker.setThresholds(trackerThresholdsFor(config.detection));
    this.engine.setModel(model);
    return this.engine.applyConfig(config, this.now(), this.clock.wallMs());
  }

  /** Ends violations and publishes open counts (the camera stops). */
  shutdown(): RulesOutput {
    return this.engine.shutdown(this.now(), this.clock.wallMs());
  }
}
