import { boxArea, boxIntersectionArea, boxIoU, type Box } from '@vigil/geometry';

/**
 * Frigate-style stationarity: an object is still when its current box overlaps the AVERAGE of its recent boxes,
 * which a jittering detector box keeps doing while a moving object does not. All thresholds are IoU values, so
 * they mean the same for near and far objects (a pixel threshold would not). See README.md for the defaults.
 */
export interface StationarityOptions {
  /** Boxes kept per object (Frigate MAX_STATIONARY_HISTORY 10; one second at 10 fps). */
  historySize: number;
  /** IoU with the history average below which the object moved (Frigate THRESHOLD_ACTIVE_IOU 0.2). */
  movedIou: number;
  /** At or above this IoU with the average the object is still (Frigate THRESHOLD_STATIONARY_IOU 0.6). Between
   *  movedIou and this, a box is a doubtful one: an outlier if it happens once, movement if it persists. */
  stationaryIou: number;
  /** Consecutive doubtful boxes that mean movement: 3. A single bad detection is ignored (not added to the
   *  history), a vehicle pulling away produces a run of them. */
  doubtfulFrames: number;
  /** IoU with the box at which the still period began below which a slow creep counts as movement: 0.5. */
  driftIou: number;
  /** A box this much inside the average box (intersection / its own area), or the reverse, is a partial
   *  occlusion (a pedestrian passing in front), not movement: it neither resets nor enters the history. 0.9. */
  occlusionContainment: number;
  /** Still for this long before `stationary` is true (used for queue detection): 2000 ms. */
  minStationaryMs: number;
  /** A new track whose first box overlaps a vanished still object's last box by this IoU continues that
   *  object's still period (the id changed, the vehicle did not): 0.6. */
  inheritIou: number;
  /** How long a vanished object's still period can be inherited, and how long its state is kept: 120 s. */
  memoryMs: number;
}

export const DEFAULT_STATIONARITY_OPTIONS: Readonly<StationarityOptions> = {
  historySize: 10,
  movedIou: 0.2,
  stationaryIou: 0.6,
  doubtfulFrames: 3,
  driftIou: 0.5,
  occlusionContainment: 0.9,
  minStationaryMs: 2000,
  inheritIou: 0.6,
  memoryMs: 120_000,
};

export interface StationarityInfo {
  /** Start of the current still period (the first box since the last movement). */
  stillSinceMs: number;
  /** Still for at least minStationaryMs. */
  stationary: boolean;
  /** Track whose still period this track continued, if its id changed in place. */
  inheritedFrom: number | null;
}

interface ObjectState {
  history: Box[];
  anchor: Box;
  stillSinceMs: number;
  lastBox: Box;
  lastSeenMs: number;
  inheritedFrom: number | null;
  doubtful: number;
}

function averageBox(boxes: readonly Box[]): Box {
  const s = [0, 0, 0, 0];
  for (const b of boxes) for (let i = 0; i < 4; i++) s[i] += b[i];
  return [s[0] / boxes.length, s[1] / boxes.length, s[2] / boxes.length, s[3] / boxes.length];
}

function containment(inner: Box, outer: Box): number {
  const area = boxArea(inner);
  return area > 0 ? boxIntersectionArea(inner, outer) / area : 0;
}

/** Stationarity of every track of one camera, updated once per frame and shared by all rules. */
export class StationarityMonitor {
  readonly options: Readonly<StationarityOptions>;
  private readonly objects = new Map<number, ObjectState>();

  constructor(options: Partial<StationarityOptions> = {}) {
    this.options = { ...DEFAULT_STATIONARITY_OPTIONS, ...options };
  }

  /** Observes the tracks seen in one frame; returns each one's stationarity. */
  update(tracks: readonly { id: number; box: Box }[], tMs: number): Map<number, StationarityInfo> {
    const o = this.options;
    const present = new Set(tracks.map((t) => t.id));
    const result = new Map<number, StationarityInfo>();
    for (const { id, box } of tracks) {
      let s = this.objects.get(id);
      if (!s) {
        s = this.adopt(id, box, tMs, present);
        this.objects.set(id, s);
      } else {
        this.observe(s, box, tMs);
      }
      result.set(id, {
        stillSinceMs: s.stillSinceMs,
        stationary: tMs - s.stillSinceMs >= o.minStationaryMs,
        inheritedFrom: s.inheritedFrom,
      });
    }
    for (const [id, s] of this.objects) if (tMs - s.lastSeenMs > o.memoryMs) this.objects.delete(id);
    return result;
  }

  private observe(s: ObjectState, box: Box, tMs: number): void {
    const o = this.options;
    s.lastSeenMs = tMs;
    const avg = averageBox(s.history);
    const iou = boxIoU(box, avg);
    let moved: boolean;
    if (iou >= o.stationaryIou) {
      moved = boxIoU(box, s.anchor) < o.driftIou; // a slow creep never jumps, but it still moves
    } else if (containment(box, avg) >= o.occlusionContainment || containment(avg, box) >= o.occlusionContainment) {
      // Partly hidden (or a passer-by merged into the box): the object is where it was; keep the clean history.
      return;
    } else if (iou < o.movedIou) {
      moved = true;
    } else {
      s.doubtful += 1;
      if (s.doubtful < o.doubtfulFrames) return; // one bad box: ignore it, keep the history clean
      moved = true;
    }
    s.doubtful = 0;
    if (moved) {
      s.history = [box];
      s.anchor = box;
      s.stillSinceMs = tMs;
      s.inheritedFrom = null;
    } else {
      s.history.push(box);
      if (s.history.length > o.historySize) s.history.shift();
    }
    s.lastBox = box;
  }

  /** A new id: continue the still period of a vanished object at the same place, or start afresh. */
  private adopt(id: number, box: Box, tMs: number, present: ReadonlySet<number>): ObjectState {
    let donor: [number, ObjectState] | null = null;
    let best = this.options.inheritIou;
    for (const [otherId, s] of this.objects) {
      if (present.has(otherId)) continue;
      const iou = boxIoU(box, s.lastBox);
      if (iou >= best) {
        best = iou;
        donor = [otherId, s];
      }
    }
    if (donor) {
      const [donorId, s] = donor;
      this.objects.delete(donorId); // one successor per vanished object
      const state: ObjectState = { ...s, history: [...s.history], inheritedFrom: donorId };
      this.observe(state, box, tMs);
      return state;
    }
    return {
      history: [box],
      anchor: box,
      stillSinceMs: tMs,
      lastBox: box,
      lastSeenMs: tMs,
      inheritedFrom: null,
      doubtful: 0,
    };
  }
}
