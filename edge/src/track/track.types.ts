import type { ObjectClass } from '@vigil/contracts/common.schema';
import type { Box } from '@vigil/geometry';

/** What the tracker consumes: the detector's `Detection` satisfies it (box normalised [x1, y1, x2, y2]). */
export interface TrackerDetection {
  cls: ObjectClass;
  score: number;
  box: Box;
}

/**
 * A confirmed track as the rules see it at one frame. The rules only need id, class, score and box, so tests can
 * build these by hand without running the tracker.
 */
export interface TrackedObject {
  /** Monotonic per tracker, from 1; given only to confirmed tracks. */
  id: number;
  /** The class with the highest summed detection score over the track's life (a van flickering car/truck keeps one). */
  cls: ObjectClass;
  /** Score of the detection matched in this frame. */
  score: number;
  /** The detection's box in this frame (normalised), not the filter's smoothed estimate. */
  box: Box;
}

export type TrackState = 'tentative' | 'tracked' | 'lost';

/** The tracker's full view of a confirmed track, a superset of what the rules need. */
export interface TrackSnapshot extends TrackedObject {
  state: TrackState;
  /** Kalman estimate after this frame's correction (or the prediction, for a lost track). */
  filteredBox: Box;
  /** Centre velocity, normalised units per second. */
  velocity: [vx: number, vy: number];
  firstSeenMs: number;
  lastSeenMs: number;
  /** Frames with a matched detection. */
  hits: number;
  /** Summed detection score per class (the class vote). */
  classScores: Partial<Record<ObjectClass, number>>;
}
