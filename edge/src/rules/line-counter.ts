import type { Direction, LineConfig, ObjectClass, RuleConfig } from '@vigil/contracts';
import {
  boxBottomCentre,
  boxHeight,
  clampPoint,
  cross,
  distanceBetweenPoints,
  SIDE,
  segmentIntersection,
  sideOfLine,
  type Box,
  type Point,
  type Segment,
} from '@vigil/geometry';

import { classGroupOf, type ClassGroup } from '../track/class-groups';
import type { TrackedObject } from '../track/track.types';
import type { ActiveViolation, RuleFrame, RuleOutput } from './dwell-violation';
import type { RetireReason, Rule } from './rule.types';
import { isoTime, type IdFactory, type RuleMessage } from './rules.types';

export type LineCountRule = Extract<RuleConfig, { kind: 'line_count' }>;

/** Line-crossing parameters; see README.md for why each default. */
export interface LineCounterOptions {
  /** Consecutive frames the bottom-centre must spend on the new side before a crossing counts (hysteresis). */
  confirmFrames: number;
  /** Points closer than this (normalised distance) to the line are ON it: neither side. */
  deadBand: number;
  /** A track born within this time after an earlier track of the same class group vanished (or crossed) nearby
   *  is treated as that track after an id switch. */
  idSwitchWindowMs: number;
  /** "Nearby" for the id-switch test: distance between bottom-centres, as a multiple of the larger side of the
   *  earlier track's last box (the earlier track's position is extrapolated to the new track's birth)... */
  idSwitchRadius: number;
  /** ...growing by this many box sizes per second of gap, because the extrapolation gets less sure (a car lost
   *  while standing at the line and found again as it pulls away had no velocity to extrapolate). */
  idSwitchRadiusGrowthPerS: number;
  /** An interval's count is published this long after it ends, so a crossing still being confirmed at the
   *  boundary lands in the interval it happened in. */
  closeGraceMs: number;
  /** Per-track state is dropped after the track has not been seen for this long. */
  forgetAfterMs: number;
}

export const DEFAULT_LINE_COUNTER_OPTIONS: Readonly<LineCounterOptions> = {
  confirmFrames: 2,
  deadBand: 0.004,
  idSwitchWindowMs: 2000,
  idSwitchRadius: 0.75,
  idSwitchRadiusGrowthPerS: 1,
  closeGraceMs: 2000,
  forgetAfterMs: 10_000,
};

type LineSide = typeof SIDE.LEFT | typeof SIDE.RIGHT;

interface PendingCrossing {
  from: LineSide;
  to: LineSide;
  atMs: number;
  point: Point;
  framesOnNewSide: number;
}

interface TrackLineState {
  group: ClassGroup;
  lastPoint: Point;
  lastBox: Box;
  lastSeenMs: number;
  /** Bottom-centre velocity per ms, smoothed; used to extrapolate a vanished track for id-switch matching. */
  velocity: [number, number];
  /** Side confirmed by the hysteresis; null until the track has been off the line. */
  stableSide: LineSide | null;
  /** Consecutive frames on a side other than stableSide without a segment crossing (passing beside the line). */
  sideRun: { side: LineSide; frames: number } | null;
  pending: PendingCrossing | null;
  /** This track (or the track it continues after an id switch) has been counted on this line. */
  counted: boolean;
  /** `counted` came from the track this one continues (after an id switch). */
  countedUnderEarlierId: boolean;
  countedAtMs: number | null;
  countedDirection: Direction | null;
  /** Directions an overlapping duplicate track already counted; a crossing in one of them is not counted again. */
  suppressedDirections: Set<Direction>;
  /** Already continued by a newer track (one successor per vanished track). */
  succeeded: boolean;
}

interface Bucket {
  startMs: number;
  observed: boolean;
  rows: Map<string, { objectClass: ObjectClass; direction: Direction; count: number }>;
}

export interface LineCounterStats {
  counted: number;
  /** Crossings not counted because the vehicle had already been counted under an earlier id. */
  suppressed: number;
}

/**
 * Counts road users crossing one line (one `line_count` rule). Anchor: bottom-centre of the box. A crossing starts
 * when the anchor's movement segment (previous frame -> this frame) meets the line SEGMENT while leaving the
 * confirmed side; it counts once the anchor has spent `confirmFrames` consecutive frames on the other side (going
 * back first cancels it). Each (track, line) counts once. A new track born close in space and time to a track that
 * vanished (an id switch) continues that track's state, so the switch neither double-counts nor loses a crossing.
 */
/** Distance from a point to the infinite line through the segment. */
function distancePointToLine(p: Point, [a, b]: Segment): number {
  const length = distanceBetweenPoints(a, b);
  return length > 0 ? Math.abs(cross(a, b, p)) / length : distanceBetweenPoints(a, p);
}

export class LineCounter implements Rule {
  readonly options: Readonly<LineCounterOptions>;
  readonly stats: LineCounterStats = { counted: 0, suppressed: 0 };
  private readonly segment: Segment;
  private readonly states = new Map<number, TrackLineState>();
  private readonly buckets = new Map<number, Bucket>();
  /** Everything before this time has been published. */
  private closedUntilMs = -Infinity;
  private started = false;

  constructor(
    readonly line: LineConfig,
    private rule: LineCountRule,
    private readonly newId: IdFactory,
    options: Partial<LineCounterOptions> = {},
    /** Wall-clock time of a rule time (see ViolationDeps.wallOf); interval edges are wall-clock. */
    private readonly wallOf: (ruleMs: number) => number = (ms) => ms,
  ) {
    this.options = { ...DEFAULT_LINE_COUNTER_OPTIONS, ...options };
    if (!(Number.isInteger(this.options.confirmFrames) && this.options.confirmFrames >= 1)) {
      throw new RangeError('confirmFrames must be an integer >= 1');
    }
    this.segment = [line.start, line.end];
  }

  get ruleId(): string {
    return this.rule.id;
  }

  private get intervalMs(): number {
    return this.rule.intervalSeconds * 1000;
  }

  /** Same line and interval: keep state, take the new settings (e.g. `crossings` switched on). */
  reconfigure(rule: RuleConfig): void {
    if (rule.kind !== 'line_count') throw new TypeError(`a line_count rule cannot become ${rule.kind}`);
    this.rule = rule;
  }

  process(frame: RuleFrame): RuleOutput {
    return { messages: this.update(frame.tracks, frame.tMs), evidence: [] };
  }

  retire(_reason: RetireReason, tMs: number): RuleMessage[] {
    return this.flush(tMs);
  }

  /** Counts have no evidence. */
  attachEvidence(): boolean {
    return false;
  }

  active(): ActiveViolation[] {
    return [];
  }

  update(tracks: readonly TrackedObject[], tMs: number): RuleMessage[] {
    const out: RuleMessage[] = [];
    this.bucketAt(this.wallOf(tMs)).observed = true;
    const births: TrackedObject[] = [];
    for (const track of tracks) {
      const state = this.states.get(track.id);
      if (state) this.step(state, track, tMs, out);
      else births.push(track);
    }
    // Births after the updates, so a donor "present in this frame" is known.
    for (const track of births) this.states.set(track.id, this.born(track, tMs, out));
    this.started = true;
    for (const [id, s] of this.states) if (tMs - s.lastSeenMs > this.options.forgetAfterMs) this.states.delete(id);
    out.push(...this.tick(tMs));
    return out;
  }

  /** Publishes intervals that ended (plus the grace) by `tMs`, e.g. from a timer while no frames arrive. */
  tick(tMs: number): RuleMessage[] {
    return this.close(this.wallOf(tMs) - this.options.closeGraceMs, tMs);
  }

  /** Publishes every interval that saw a frame, including the current one (shutdown, rule removed). */
  flush(tMs: number): RuleMessage[] {
    return this.close(Infinity, tMs);
  }

  private born(track: TrackedObject, tMs: number, out: RuleMessage[]): TrackLineState {
    const point = boxBottomCentre(track.box);
    const fresh: TrackLineState = {
      group: classGroupOf(track.cls),
      lastPoint: point,
      lastBox: track.box,
      lastSeenMs: tMs,
      velocity: [0, 0],
      stableSide: this.sideOf(point),
      sideRun: null,
      pending: null,
      counted: false,
      countedUnderEarlierId: false,
      countedAtMs: null,
      countedDirection: null,
      suppressedDirections: new Set(),
      succeeded: false,
    };
    // Tracks present when the counter starts are not births of new objects.
    if (!this.started) return fresh;
    const donor = this.findDonor(track, point, tMs);
    if (!donor) return fresh;
    if (donor.lastSeenMs < tMs) {
      // The earlier track vanished: this is the same vehicle under a new id. Continue its state, moving from
      // where it was last seen, so a crossing that happened during the switch is still seen (once).
      donor.succeeded = true;
      const continued: TrackLineState = {
        ...donor,
        pending: donor.pending ? { ...donor.pending } : null,
        suppressedDirections: new Set(donor.suppressedDirections),
        countedUnderEarlierId: donor.counted,
        succeeded: false,
      };
      // Near the line (stop-and-go, jitter) the new id is simply the counted vehicle: it never counts again. Farther
      // away the match is less certain, so only a crossing in the direction already counted is refused (a vehicle
      // does not cross the same way twice), as for a duplicate.
      if (donor.counted && distancePointToLine(point, this.segment) > boxHeight(donor.lastBox)) {
        continued.counted = false;
        continued.countedUnderEarlierId = false;
        if (donor.countedDirection) continued.suppressedDirections.add(donor.countedDirection);
      }
      this.step(continued, track, tMs, out);
      return continued;
    }
    // The earlier track is still there (a duplicate box): only refuse to count its direction again.
    if (donor.countedDirection) fresh.suppressedDirections.add(donor.countedDirection);
    return fresh;
  }

  private findDonor(track: TrackedObject, point: Point, tMs: number): TrackLineState | null {
    const o = this.options;
    const group = classGroupOf(track.cls);
    let best: TrackLineState | null = null;
    let bestScore = Infinity;
    for (const [id, s] of this.states) {
      if (id === track.id || s.group !== group || s.succeeded) continue;
      const size = Math.max(s.lastBox[2] - s.lastBox[0], s.lastBox[3] - s.lastBox[1]);
      let radius = o.idSwitchRadius * size;
      let distance: number;
      let vanished: boolean;
      if (s.lastSeenMs < tMs) {
        const gap = tMs - s.lastSeenMs;
        if (gap > o.idSwitchWindowMs) continue;
        // A vehicle already counted does not come back across the line: a new track well behind the line is the
        // vehicle that followed it (a queue), not this one.
        if (s.counted && s.stableSide !== null && this.sideOf(point) === -s.stableSide) {
          if (distancePointToLine(point, this.segment) > 0.5 * boxHeight(s.lastBox)) continue;
        }
        radius += o.idSwitchRadiusGrowthPerS * size * (gap / 1000);
        const predicted: Point = [s.lastPoint[0] + s.velocity[0] * gap, s.lastPoint[1] + s.velocity[1] * gap];
        distance = Math.min(distanceBetweenPoints(point, predicted), distanceBetweenPoints(point, s.lastPoint));
        vanished = true;
      } else {
        if (s.countedAtMs === null || tMs - s.countedAtMs > o.idSwitchWindowMs) continue;
        distance = distanceBetweenPoints(point, s.lastPoint);
        vanished = false;
      }
      if (distance > radius) continue;
      // Prefer a vanished track (a real id switch) over a still-present one, then the nearest.
      const score = (vanished ? 0 : 10) + distance / Math.max(radius, 1e-12);
      if (score < bestScore) {
        bestScore = score;
        best = s;
      }
    }
    return best;
  }

  private sideOf(point: Point): LineSide | null {
    const side = sideOfLine(point, this.segment, this.options.deadBand);
    return side === SIDE.ON ? null : side;
  }

  private step(s: TrackLineState, track: TrackedObject, tMs: number, out: RuleMessage[]): void {
    const point = boxBottomCentre(track.box);
    const side = this.sideOf(point);
    const movement: Segment = [s.lastPoint, point];
    const dt = tMs - s.lastSeenMs;
    if (dt > 0) {
      const vx = (point[0] - s.lastPoint[0]) / dt;
      const vy = (point[1] - s.lastPoint[1]) / dt;
      s.velocity = [0.5 * s.velocity[0] + 0.5 * vx, 0.5 * s.velocity[1] + 0.5 * vy];
    }
    s.lastPoint = point;
    s.lastBox = track.box;
    s.lastSeenMs = tMs;

    if (s.pending) {
      if (side === s.pending.to) {
        s.pending.framesOnNewSide += 1;
        if (s.pending.framesOnNewSide >= this.options.confirmFrames) this.confirm(s, track, tMs, out);
      } else if (side === s.pending.from) {
        s.pending = null; // jitter: back where it came from before confirming
      }
      return; // ON the line: wait
    }

    if (s.stableSide !== null && side !== s.stableSide) {
      const crossing = segmentIntersection(movement, this.segment);
      if (crossing) {
        const to: LineSide = s.stableSide === SIDE.LEFT ? SIDE.RIGHT : SIDE.LEFT;
        s.pending = { from: s.stableSide, to, atMs: tMs, point: crossing, framesOnNewSide: side === to ? 1 : 0 };
        s.sideRun = null;
        if (s.pending.framesOnNewSide >= this.options.confirmFrames) this.confirm(s, track, tMs, out);
        return;
      }
    }

    // No crossing of the segment: follow the side silently (passing beside the segment, or born on the line).
    if (side === null || side === s.stableSide) {
      s.sideRun = null;
      return;
    }
    s.sideRun = s.sideRun?.side === side ? { side, frames: s.sideRun.frames + 1 } : { side, frames: 1 };
    if (s.stableSide === null || s.sideRun.frames >= this.options.confirmFrames) {
      s.stableSide = side;
      s.sideRun = null;
    }
  }

  private confirm(s: TrackLineState, track: TrackedObject, tMs: number, out: RuleMessage[]): void {
    const pending = s.pending!;
    s.pending = null;
    s.stableSide = pending.to;
    // Side A is to the left of start -> end (contract), i.e. geometry's LEFT.
    const direction: Direction = pending.from === SIDE.LEFT ? 'a_to_b' : 'b_to_a';
    if (s.counted) {
      if (s.countedUnderEarlierId) this.stats.suppressed += 1;
      return;
    }
    if (this.line.classes && !this.line.classes.includes(track.cls)) return;
    s.counted = true;
    s.countedAtMs = tMs;
    s.countedDirection = direction;
    if (s.suppressedDirections.has(direction)) {
      this.stats.suppressed += 1;
      return;
    }
    this.stats.counted += 1;
    // Interval edges are wall-clock minutes: after a wall-clock step back, counts go to the (re-)opened interval of
    // the new wall time and close with it (the centre adds them up), rather than waiting for the old time to return.
    const crossedAt = this.wallOf(pending.atMs);
    const bucket = this.bucketAt(crossedAt < this.closedUntilMs ? this.wallOf(tMs) : crossedAt);
    const key = `${track.cls}|${direction}`;
    const row = bucket.rows.get(key);
    if (row) row.count += 1;
    else bucket.rows.set(key, { objectClass: track.cls, direction, count: 1 });
    if (this.rule.crossings) {
      out.push({
        kind: 'crossing',
        atMs: this.wallOf(tMs),
        body: {
          crossingId: this.newId(),
          lineId: this.line.id,
          trackId: track.id,
          objectClass: track.cls,
          direction,
          at: isoTime(crossedAt),
          point: clampPoint(pending.point) as [number, number],
          score: track.score,
        },
      });
    }
  }

  private bucketAt(wallMs: number): Bucket {
    // Aligned to wall-clock multiples of the interval (whole minutes for 60 s), so every edge agrees.
    const startMs = Math.floor(wallMs / this.intervalMs) * this.intervalMs;
    let b = this.buckets.get(startMs);
    if (!b) {
      b = { startMs, observed: false, rows: new Map() };
      this.buckets.set(startMs, b);
    }
    return b;
  }

  /** Publishes the intervals that end by `untilMs` (wall clock); `tMs` is the rule time now. */
  private close(untilMs: number, tMs: number): RuleMessage[] {
    const out: RuleMessage[] = [];
    const due = [...this.buckets.values()]
      .filter((b) => b.startMs + this.intervalMs <= untilMs)
      .sort((a, b) => a.startMs - b.startMs);
    for (const b of due) {
      this.buckets.delete(b.startMs);
      this.closedUntilMs = Math.max(this.closedUntilMs, b.startMs + this.intervalMs);
      // An interval without a single analysed frame is not published: the camera was down, and a zero would lie.
      if (!b.observed) continue;
      const dirOrder = (d: Direction) => (d === 'a_to_b' ? 0 : 1);
      out.push({
        kind: 'count',
        atMs: this.wallOf(tMs),
        body: {
          lineId: this.line.id,
          intervalStart: isoTime(b.startMs),
          intervalEnd: isoTime(b.startMs + this.intervalMs),
          counts: [...b.rows.values()]
            .sort((x, y) => dirOrder(x.direction) - dirOrder(y.direction) || x.objectClass.localeCompare(y.objectClass))
            .map((r) => ({ ...r })),
        },
      });
    }
    return out;
  }
}
