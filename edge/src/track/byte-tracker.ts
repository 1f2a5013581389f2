import type { ObjectClass } from '@vigil/contracts/common.schema';
import { MIN_DETECTION_SCORE } from '@vigil/contracts/config.schema';
import { boxArea, boxIoU, type Box } from '@vigil/geometry';

import { classGroupOf } from './class-groups';
import { DEFAULT_KALMAN_NOISE, KalmanBoxFilter, type KalmanNoise } from './kalman-box.filter';
import { solveAssignment } from './linear-assignment';
import type { TrackSnapshot, TrackState, TrackerDetection } from './track.types';

/** Tracker parameters; every field has a default (see DEFAULT_BYTE_TRACKER_OPTIONS and the README). */
export interface ByteTrackerOptions {
  /** Detections at or above this score are "high" (stage 1, may start tracks). ByteTrack track_thresh 0.5. */
  highScore: number;
  /** Per-class `highScore` (the configuration's `classThresholds`); a class not listed uses `highScore`. */
  classHighScore: Partial<Record<ObjectClass, number>>;
  /** Detections below this are ignored; between lowScore and the class's high score they are "low" (stage 2
   *  only). 0.1, the contract's MIN_DETECTION_SCORE: the configuration cannot ask for less. */
  lowScore: number;
  /** A leftover high detection starts a (tentative) track only at its class's high score plus this (capped at 1).
   *  ByteTrack: new tracks at track_thresh + 0.1. */
  newTrackMargin: number;
  /** Stage 1 gate on 1 - IoU (x score when fuseScore): ByteTrack match_thresh 0.8. */
  matchCost: number;
  /** Stage 2 gate on 1 - IoU for low detections vs still-tracked tracks: 0.5 (IoU >= 0.5). */
  lowMatchCost: number;
  /** Gate for tentative tracks vs leftover high detections: 0.7. */
  tentativeMatchCost: number;
  /** Multiply IoU by the detection score in stages 1 and 3 (ByteTrack's fuse_score, on except for MOT20). */
  fuseScore: boolean;
  /** How long a confirmed track that lost its object is kept for re-association, in seconds. */
  lostBufferSeconds: number;
  /** Consecutive matched frames before a tentative track is confirmed and gets an id (>= 1). */
  confirmHits: number;
  /** A lost track overlapping a tracked one by more than this IoU is a duplicate and is dropped: 0.85. */
  duplicateIou: number;
  /** Buffered-IoU expansion (C-BIoU, Yang et al. 2023): each side of both boxes grows by this share of the box's
   *  width/height in a second pass for what plain IoU left unmatched, and for tentative tracks (which have no
   *  velocity yet). Keeps fast or low-frame-rate objects whose boxes no longer overlap between frames. 0 = off. */
  bufferScale: number;
  /** Only associate detections and tracks of the same class group (class-groups.ts). */
  classGating: boolean;
  /** Kalman noise model. */
  noise: KalmanNoise;
}

export const DEFAULT_BYTE_TRACKER_OPTIONS: Readonly<ByteTrackerOptions> = {
  highScore: 0.5,
  classHighScore: {},
  lowScore: MIN_DETECTION_SCORE,
  newTrackMargin: 0.1,
  matchCost: 0.8,
  lowMatchCost: 0.5,
  tentativeMatchCost: 0.7,
  fuseScore: true,
  lostBufferSeconds: 1.5,
  confirmHits: 2,
  duplicateIou: 0.85,
  bufferScale: 0.5,
  classGating: true,
  noise: DEFAULT_KALMAN_NOISE,
};

/** The score thresholds a configuration sets (`detection.scoreThreshold` and `classThresholds`). */
export type TrackerThresholds = Pick<ByteTrackerOptions, 'highScore' | 'classHighScore'>;

/** The tracker thresholds for a configuration's detection settings. */
export function trackerThresholdsFor(detection: {
  scoreThreshold: number;
  classThresholds: Partial<Record<ObjectClass, number>>;
}): TrackerThresholds {
  return { highScore: detection.scoreThreshold, classHighScore: { ...detection.classThresholds } };
}

function checkThresholds(o: Pick<ByteTrackerOptions, 'lowScore' | 'highScore' | 'classHighScore' | 'newTrackMargin'>) {
  const highs = [o.highScore, ...Object.values(o.classHighScore)];
  if (!highs.every((h) => h !== undefined && o.lowScore <= h && h <= 1)) {
    throw new RangeError(`tracker high scores must lie in [lowScore ${o.lowScore}, 1], got ${highs.join(', ')}`);
  }
  if (!(o.newTrackMargin >= 0)) throw new RangeError('newTrackMargin must be >= 0');
}

/** The box grown by `scale` of its width and height on every side (buffered IoU). */
function expand(box: Box, scale: number): Box {
  if (scale === 0) return box;
  const dx = (box[2] - box[0]) * scale;
  const dy = (box[3] - box[1]) * scale;
  return [box[0] - dx, box[1] - dy, box[2] + dx, box[3] + dy];
}

class Track {
  id: number | null = null;
  state: TrackState = 'tentative';
  hits = 1;
  lastSeenMs: number;
  lastPredictMs: number;
  readonly firstSeenMs: number;
  readonly filter: KalmanBoxFilter;
  readonly classScores: Partial<Record<ObjectClass, number>> = {};
  cls: ObjectClass;
  score: number;
  box: Box;

  constructor(det: TrackerDetection, tMs: number, noise: KalmanNoise) {
    this.filter = new KalmanBoxFilter(det.box, noise);
    this.firstSeenMs = this.lastSeenMs = this.lastPredictMs = tMs;
    this.cls = det.cls;
    this.score = det.score;
    this.box = det.box;
    this.vote(det);
  }

  predictTo(tMs: number): void {
    if (this.state !== 'tracked') this.filter.freezeScale();
    this.filter.predict((tMs - this.lastPredictMs) / 1000);
    this.lastPredictMs = tMs;
  }

  observe(det: TrackerDetection, tMs: number): void {
    this.filter.update(det.box);
    this.lastSeenMs = tMs;
    this.hits += 1;
    this.score = det.score;
    this.box = det.box;
    this.vote(det);
  }

  private vote(det: TrackerDetection): void {
    const total = (this.classScores[det.cls] ?? 0) + det.score;
    this.classScores[det.cls] = total;
    // Highest summed score wins; a tie keeps the current class so the label does not flap.
    if (det.cls !== this.cls && total > (this.classScores[this.cls] ?? 0)) this.cls = det.cls;
  }

  snapshot(): TrackSnapshot {
    if (this.id === null) throw new Error('snapshot of an unconfirmed track');
    return {
      id: this.id,
      cls: this.cls,
      score: this.score,
      box: this.box,
      state: this.state,
      filteredBox: this.filter.box(),
      velocity: this.filter.centreVelocity(),
      firstSeenMs: this.firstSeenMs,
      lastSeenMs: this.lastSeenMs,
      hits: this.hits,
      classScores: { ...this.classScores },
    };
  }
}

/**
 * ByteTrack-style multi-object tracker (our implementation of the algorithm of Zhang et al., ByteTrack, MIT).
 * Feed it every analysed frame's detections with the frame time; it returns the confirmed tracks that were matched
 * in that frame. Frame times must not go backwards. See README.md for the stages and why each default was chosen.
 */
export class ByteTracker {
  private current: Readonly<ByteTrackerOptions>;
  private tracks: Track[] = [];
  private nextId = 1;
  private lastFrameMs: number | null = null;

  constructor(options: Partial<ByteTrackerOptions> = {}) {
    const o = { ...DEFAULT_BYTE_TRACKER_OPTIONS, ...options };
    checkThresholds(o);
    if (!(o.lostBufferSeconds >= 0)) throw new RangeError('lostBufferSeconds must be >= 0');
    if (!(o.bufferScale >= 0)) throw new RangeError('bufferScale must be >= 0');
    if (!(Number.isInteger(o.confirmHits) && o.confirmHits >= 1)) throw new RangeError('confirmHits must be >= 1');
    this.current = o;
  }

  get options(): Readonly<ByteTrackerOptions> {
    return this.current;
  }

  /**
   * New score thresholds from the next frame on (a configuration change applies live, without losing the tracks).
   * Throws, changing nothing, when they are out of range.
   */
  setThresholds(thresholds: TrackerThresholds): void {
    const next = { ...this.options, ...thresholds };
    checkThresholds(next);
    this.current = next;
  }

  /** The score thresholds in force. */
  get thresholds(): TrackerThresholds {
    return { highScore: this.options.highScore, classHighScore: { ...this.options.classHighScore } };
  }

  private highScoreOf(cls: ObjectClass): number {
    return this.options.classHighScore[cls] ?? this.options.highScore;
  }

  /** Associates one frame's detections; returns the confirmed tracks seen in this frame, by id. */
  update(detections: readonly TrackerDetection[], tMs: number): TrackSnapshot[] {
    if (!Number.isFinite(tMs)) throw new RangeError(`frame time must be finite, got ${tMs}`);
    if (this.lastFrameMs !== null && tMs < this.lastFrameMs) {
      throw new RangeError(`frame time went backwards: ${tMs} < ${this.lastFrameMs}`);
    }
    this.lastFrameMs = tMs;
    const o = this.options;

    const usable = detections.filter((d) => d.score >= o.lowScore && boxArea(d.box) > 0);
    const high = usable.filter((d) => d.score >= this.highScoreOf(d.cls));
    const low = usable.filter((d) => d.score < this.highScoreOf(d.cls));

    for (const t of this.tracks) t.predictTo(tMs);
    const wasTracked = new Set(this.tracks.filter((t) => t.state === 'tracked'));
    const confirmed = this.tracks.filter((t) => t.state !== 'tentative');
    const tentative = this.tracks.filter((t) => t.state === 'tentative');

    // Stage 1: high-score detections against every confirmed track, tracked or lost; then, for what is left,
    // the same with buffered boxes (fast objects, low frame rates).
    const s1 = this.associate(confirmed, high, o.matchCost, o.fuseScore);
    for (const [ti, di] of s1.matches) this.reacquire(confirmed[ti], high[di], tMs);
    let unmatchedTracks = s1.unmatchedRows.map((i) => confirmed[i]);
    let leftover = s1.unmatchedCols.map((i) => high[i]);
    if (o.bufferScale > 0) {
      const s1b = this.associate(unmatchedTracks, leftover, o.matchCost, o.fuseScore, o.bufferScale);
      for (const [ti, di] of s1b.matches) this.reacquire(unmatchedTracks[ti], leftover[di], tMs);
      unmatchedTracks = s1b.unmatchedRows.map((i) => unmatchedTracks[i]);
      leftover = s1b.unmatchedCols.map((i) => leftover[i]);
    }

    // Stage 2: low-score detections (occluded, blurred objects) keep tracks that were tracked until now alive.
    // Lost tracks are not offered low detections: that is where false matches would come from.
    const pending = unmatchedTracks.filter((t) => wasTracked.has(t));
    const s2 = this.associate(pending, low, o.lowMatchCost, false);
    for (const [ti, di] of s2.matches) this.reacquire(pending[ti], low[di], tMs);
    for (const i of s2.unmatchedRows) pending[i].state = 'lost';

    // Stage 3: tentative tracks against the high detections left over; a miss kills a tentative track at once,
    // so a one-frame false detection never gets an id.
    const s3 = this.associate(tentative, leftover, o.tentativeMatchCost, o.fuseScore, o.bufferScale);
    const removed = new Set<Track>();
    for (const [ti, di] of s3.matches) {
      const t = tentative[ti];
      t.observe(leftover[di], tMs);
      if (t.hits >= o.confirmHits) this.confirm(t);
    }
    for (const i of s3.unmatchedRows) removed.add(tentative[i]);

    // Stage 4: new tentative tracks from confident leftovers.
    for (const i of s3.unmatchedCols) {
      const det = leftover[i];
      if (det.score < Math.min(1, this.highScoreOf(det.cls) + o.newTrackMargin)) continue;
      const t = new Track(det, tMs, o.noise);
      if (o.confirmHits <= 1) this.confirm(t);
      this.tracks.push(t);
    }

    // Stage 5: forget lost tracks past the buffer, and lost tracks that duplicate a tracked one.
    const bufferMs = o.lostBufferSeconds * 1000;
    const tracked = this.tracks.filter((t) => t.state === 'tracked');
    for (const t of this.tracks) {
      if (t.state !== 'lost') continue;
      if (tMs - t.lastSeenMs > bufferMs) removed.add(t);
      else if (tracked.some((k) => boxIoU(k.filter.box(), t.filter.box()) > o.duplicateIou)) removed.add(t);
    }
    this.tracks = this.tracks.filter((t) => !removed.has(t));

    return this.tracks
      .filter((t) => t.state === 'tracked' && t.id !== null && t.lastSeenMs === tMs)
      .map((t) => t.snapshot())
      .sort((a, b) => a.id - b.id);
  }

  /** Confirmed tracks currently lost (kept for re-association), for diagnostics. */
  lostTracks(): TrackSnapshot[] {
    return this.tracks.filter((t) => t.state === 'lost').map((t) => t.snapshot());
  }

  /** Number of tracks held, of every state. */
  get size(): number {
    return this.tracks.length;
  }

  private confirm(t: Track): void {
    t.state = 'tracked';
    t.id = this.nextId++;
  }

  private reacquire(t: Track, det: TrackerDetection, tMs: number): void {
    t.observe(det, tMs);
    t.state = 'tracked';
  }

  private associate(tracks: Track[], dets: TrackerDetection[], maxCost: number, fuseScore: boolean, buffer = 0) {
    const gating = this.options.classGating;
    const detBoxes = dets.map((d) => expand(d.box, buffer));
    const cost = tracks.map((t) => {
      const predicted = expand(t.filter.box(), buffer);
      const group = classGroupOf(t.cls);
      return dets.map((d, j) => {
        if (gating && classGroupOf(d.cls) !== group) return Infinity;
        const iou = boxIoU(predicted, detBoxes[j]);
        return 1 - (fuseScore ? iou * d.score : iou);
      });
    });
    return solveAssignment(cost, maxCost, dets.length);
  }
}
