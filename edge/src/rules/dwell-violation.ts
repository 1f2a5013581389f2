import type { EventKind, ModelProvenance, ObjectClass, RuleConfig, ZoneConfig } from '@vigil/contracts';
import { boxIoU, clampBox, DEFAULT_FOOTPRINT_FRACTION, footprintFractionInPolygon, type Box } from '@vigil/geometry';

import type { TrackedObject } from '../track/track.types';
import { isoTime, type EventBody, type EvidenceRequest, type IdFactory, type RuleMessage } from './rules.types';
import type { RetireReason, Rule } from './rule.types';
import { ScheduleClock } from './schedule';

export type DwellRuleConfig = Extract<RuleConfig, { kind: 'parking_violation' | 'pedestrian_blocking' }>;
export type EvidenceRef = NonNullable<EventBody['evidence']>;

/** A confirmed track plus its stationarity, as the dwell rules see it in one frame. */
export interface RuleTrack extends TrackedObject {
  /** Start of the current still period (StationarityMonitor). */
  stillSinceMs: number;
  /** Still for at least the monitor's minStationaryMs. */
  stationary: boolean;
  /** The track whose still period this one continues after an id switch in place. */
  inheritedFrom: number | null;
}

export interface RuleFrame {
  tMs: number;
  tracks: readonly RuleTrack[];
}

/** Joins one frame's tracks with their stationarity (from StationarityMonitor.update of the same frame). */
export function toRuleFrame(
  tracks: readonly TrackedObject[],
  stillness: ReadonlyMap<number, { stillSinceMs: number; stationary: boolean; inheritedFrom: number | null }>,
  tMs: number,
): RuleFrame {
  return {
    tMs,
    tracks: tracks.map((t) => {
      const s = stillness.get(t.id);
      if (!s) throw new Error(`no stationarity for track ${t.id}`);
      return { ...t, stillSinceMs: s.stillSinceMs, stationary: s.stationary, inheritedFrom: s.inheritedFrom };
    }),
  };
}

export interface RuleOutput {
  messages: RuleMessage[];
  evidence: EvidenceRequest[];
}

/** Lifecycle parameters shared by parking and pedestrian-blocking rules; see README.md for the defaults. */
export interface ViolationOptions {
  /** Share of the footprint (bottom strip of the box) inside the zone for the vehicle to be in it: 0.5. */
  zoneFraction: number;
  /** Height share of the box taken as its footprint: 0.25 (see @vigil/geometry boxFootprint). */
  footprintFraction: number;
  /** IoU with a violation's place (its box at the start) for a vehicle to be the same vehicle: 0.5. */
  reidIou: number;
  /** How long a violation whose vehicle vanished waits for it to reappear in place before ending "lost": 120 s. */
  memoryMs: number;
  /** The vehicle has been away from its place this long: the violation ends "departed": 3 s. */
  departGraceMs: number;
  /** Periodic update while the violation lasts: 60 s. */
  updateIntervalMs: number;
  /** An update is also sent when the box has differed this much from the last published one (IoU below it)... */
  changeIou: number;
  /** ...for this long: 5 s (longer than departGraceMs, so a vehicle driving off ends instead of updating). */
  changeHoldMs: number;
}

export const DEFAULT_VIOLATION_OPTIONS: Readonly<ViolationOptions> = {
  zoneFraction: 0.5,
  footprintFraction: DEFAULT_FOOTPRINT_FRACTION,
  reidIou: 0.5,
  memoryMs: 120_000,
  departGraceMs: 3000,
  updateIntervalMs: 60_000,
  changeIou: 0.7,
  changeHoldMs: 5000,
};

/** What differs between the dwell rules. */
export interface ViolationHooks {
  /** True when a vehicle that qualifies must not start a violation now (e.g. it stands in a queue). */
  suppressStart?(track: RuleTrack, frame: RuleFrame, rule: DwellRuleConfig): boolean;
  /** A per-frame figure reported as its maximum over the event (pedestrians near the zone). */
  measure?(frame: RuleFrame): number;
}

interface Timer {
  inZoneSinceMs: number;
  lastSeenMs: number;
  /** The dwell start used for the measure's running maximum; it restarts when the dwell start moves. */
  dwellStartMs: number;
  measureMax: number | null;
}

interface Violation {
  eventId: string;
  trackId: number;
  objectClass: ObjectClass;
  score: number;
  maxScore: number;
  /** The vehicle's box when the violation started: where it is parked. */
  placeBox: Box;
  /** The latest box seen in place. */
  box: Box;
  /** Monotonic rule time of the dwell start (dwell and durations are measured on it). */
  startedAtMs: number;
  /** Wall-clock time of the dwell start, as the clock read when the violation started: `startedAt` of every message. */
  startedAtWallMs: number;
  lastSeenMs: number;
  awaySinceMs: number | null;
  lastEmitMs: number;
  /** Since when the box has differed from the published one (see changeHoldMs). */
  changedSinceMs: number | null;
  published: { trackId: number; objectClass: ObjectClass; box: Box; measure: number | null };
  measureMax: number | null;
  evidence: EvidenceRef | null;
}

export type EndReason = NonNullable<EventBody['endReason']>;

export interface ViolationDeps {
  newId: IdFactory;
  model: () => ModelProvenance;
  /**
   * Wall-clock time of a rule time. Rules step on a monotonic clock (a wall-clock step must not create, inflate or
   * freeze a dwell); the schedule and message timestamps are wall-clock. Identity when both are the same clock.
   */
  wallOf?: (ruleMs: number) => number;
}

/** Summary of an active violation, for diagnostics and tests. */
export interface ActiveViolation {
  eventId: string;
  ruleId: string;
  trackId: number;
  startedAtMs: number;
  present: boolean;
}

/**
 * The lifecycle shared by parking violations and pedestrian blocking: a vehicle of the rule's classes whose
 * footprint is in the zone, still, within the schedule, for the dwell time starts ONE violation (start), which is
 * updated periodically and on change (update) and ends when the vehicle departs, is lost for longer than the
 * memory, the schedule ends, or the rule goes (end). A vehicle that reappears in place (IoU with the violation's
 * place) within the memory continues the same violation under its new track id.
 */
export class DwellViolationRule implements Rule {
  readonly options: Readonly<ViolationOptions>;
  private rule: DwellRuleConfig;
  private schedule: ScheduleClock;
  private scheduleSinceMs: number | null = null;
  private readonly timers = new Map<number, Timer>();
  private violations: Violation[] = [];
  private lastFrameMs = -Infinity;

  constructor(
    readonly kind: EventKind,
    rule: DwellRuleConfig,
    readonly zone: ZoneConfig,
    private readonly deps: ViolationDeps,
    private readonly hooks: ViolationHooks = {},
    options: Partial<ViolationOptions> = {},
  ) {
    this.options = { ...DEFAULT_VIOLATION_OPTIONS, ...options };
    this.rule = rule;
    this.schedule = new ScheduleClock(rule.schedule);
  }

  get ruleId(): string {
    return this.rule.id;
  }

  private wallOf(ruleMs: number): number {
    return this.deps.wallOf ? this.deps.wallOf(ruleMs) : ruleMs;
  }

  /** New dwell, classes or schedule for the same zone: in-progress state is kept. */
  reconfigure(rule: RuleConfig): void {
    if (rule.kind !== this.kind) throw new TypeError(`a ${this.kind} rule cannot become ${rule.kind}`);
    this.rule = rule;
    this.schedule = new ScheduleClock(this.rule.schedule);
  }

  /** Dwell rules act on frames only. */
  tick(): RuleMessage[] {
    return [];
  }

  retire(reason: RetireReason, tMs: number): RuleMessage[] {
    return this.endAll(reason, tMs);
  }

  active(): ActiveViolation[] {
    return this.violations.map((v) => ({
      eventId: v.eventId,
      ruleId: this.rule.id,
      trackId: v.trackId,
      startedAtMs: v.startedAtMs,
      present: v.lastSeenMs === this.lastFrameMs && v.awaySinceMs === null,
    }));
  }

  /** Evidence rendered for an event: later updates and the end carry its reference. */
  attachEvidence(eventId: string, ref: EvidenceRef): boolean {
    const v = this.violations.find((x) => x.eventId === eventId);
    if (v) v.evidence = ref;
    return v !== undefined;
  }

  /** Ends every active violation (rule removed or changed, shutdown). */
  endAll(reason: EndReason, tMs: number): RuleMessage[] {
    const out = this.violations.map((v) => this.message(v, 'end', tMs, reason, tMs));
    this.violations = [];
    this.timers.clear();
    return out;
  }

  process(frame: RuleFrame): RuleOutput {
    const { tMs } = frame;
    this.lastFrameMs = tMs;
    const out: RuleOutput = { messages: [], evidence: [] };
    if (!this.schedule.isActive(this.wallOf(tMs))) {
      out.messages.push(...this.endAll('schedule_ended', tMs));
      this.scheduleSinceMs = null;
      return out;
    }
    this.scheduleSinceMs ??= tMs;
    const measure = this.hooks.measure ? this.hooks.measure(frame) : null;
    const byId = new Map(frame.tracks.map((t) => [t.id, t]));

    this.followViolations(byId, tMs, out.messages);
    this.reattach(frame, byId, tMs);
    this.startViolations(frame, measure, out);
    this.sendUpdates(byId, measure, tMs, out.messages);

    for (const [id, t] of this.timers) if (tMs - t.lastSeenMs > this.options.memoryMs) this.timers.delete(id);
    return out;
  }

  private followViolations(byId: Map<number, RuleTrack>, tMs: number, out: RuleMessage[]): void {
    const o = this.options;
    this.violations = this.violations.filter((v) => {
      const track = byId.get(v.trackId);
      if (track) {
        if (boxIoU(track.box, v.placeBox) >= o.reidIou) {
          v.lastSeenMs = tMs;
          v.awaySinceMs = null;
          v.box = track.box;
          v.objectClass = track.cls;
          v.score = track.score;
          v.maxScore = Math.max(v.maxScore, track.score);
          return true;
        }
        v.awaySinceMs ??= tMs;
        if (tMs - v.awaySinceMs < o.departGraceMs) return true;
        out.push(this.message(v, 'end', tMs, 'departed', v.awaySinceMs));
        return false;
      }
      if (v.awaySinceMs !== null) {
        // Seen leaving its place, then gone from view: it drove off.
        if (tMs - v.awaySinceMs < o.departGraceMs) return true;
        out.push(this.message(v, 'end', tMs, 'departed', v.awaySinceMs));
        return false;
      }
      if (tMs - v.lastSeenMs <= o.memoryMs) return true;
      out.push(this.message(v, 'end', tMs, 'lost', v.lastSeenMs));
      return false;
    });
  }

  /** A vehicle back in the place of a violation whose track vanished continues it, whatever its id now. */
  private reattach(frame: RuleFrame, byId: Map<number, RuleTrack>, tMs: number): void {
    const attached = new Set(this.violations.map((v) => v.trackId));
    for (const v of this.violations) {
      if (byId.has(v.trackId)) continue; // its vehicle is in view (in place, or leaving)
      let best: RuleTrack | null = null;
      let bestIou = this.options.reidIou;
      for (const t of frame.tracks) {
        if (attached.has(t.id) || !this.rule.classes.includes(t.cls)) continue;
        const iou = boxIoU(t.box, v.placeBox);
        if (iou >= bestIou) {
          bestIou = iou;
          best = t;
        }
      }
      if (!best) continue;
      attached.delete(v.trackId);
      attached.add(best.id);
      v.trackId = best.id;
      v.lastSeenMs = tMs;
      v.awaySinceMs = null;
      v.box = best.box;
      v.objectClass = best.cls;
      v.score = best.score;
      v.maxScore = Math.max(v.maxScore, best.score);
    }
  }

  private startViolations(frame: RuleFrame, measure: number | null, out: RuleOutput): void {
    const o = this.options;
    const { tMs } = frame;
    const dwellMs = this.rule.dwellSeconds * 1000;
    for (const track of frame.tracks) {
      if (!this.rule.classes.includes(track.cls)) continue;
      // One violation per vehicle: the vehicle of a violation, or anything standing in its place, starts none.
      if (this.violations.some((v) => v.trackId === track.id || boxIoU(track.box, v.placeBox) >= o.reidIou)) {
        continue;
      }
      if (footprintFractionInPolygon(track.box, this.zone.polygon, o.footprintFraction) < o.zoneFraction) {
        this.timers.delete(track.id);
        continue;
      }
      let timer = this.timers.get(track.id);
      if (!timer) {
        // After an id switch in place the vehicle has been in the zone since its predecessor got there.
        const predecessor = track.inheritedFrom === null ? undefined : this.timers.get(track.inheritedFrom);
        timer = {
          inZoneSinceMs: predecessor?.inZoneSinceMs ?? tMs,
          lastSeenMs: tMs,
          dwellStartMs: predecessor?.dwellStartMs ?? tMs,
          measureMax: predecessor?.measureMax ?? null,
        };
        this.timers.set(track.id, timer);
      }
      timer.lastSeenMs = tMs;
      const dwellStartMs = Math.max(track.stillSinceMs, timer.inZoneSinceMs, this.scheduleSinceMs ?? tMs);
      if (dwellStartMs !== timer.dwellStartMs) {
        timer.dwellStartMs = dwellStartMs;
        timer.measureMax = null;
      }
      if (measure !== null) timer.measureMax = Math.max(timer.measureMax ?? 0, measure);
      if (tMs - dwellStartMs < dwellMs) continue;
      if (this.hooks.suppressStart?.(track, frame, this.rule)) continue;
      this.start(track, dwellStartMs, timer.measureMax, tMs, out);
      this.timers.delete(track.id);
    }
  }

  private start(track: RuleTrack, startedAtMs: number, measureMax: number | null, tMs: number, out: RuleOutput) {
    const v: Violation = {
      eventId: this.deps.newId(),
      trackId: track.id,
      objectClass: track.cls,
      score: track.score,
      maxScore: track.score,
      placeBox: track.box,
      box: track.box,
      startedAtMs,
      startedAtWallMs: this.wallOf(startedAtMs),
      lastSeenMs: tMs,
      awaySinceMs: null,
      lastEmitMs: tMs,
      changedSinceMs: null,
      published: { trackId: track.id, objectClass: track.cls, box: track.box, measure: measureMax },
      measureMax,
      evidence: null,
    };
    this.violations.push(v);
    out.messages.push(this.message(v, 'start', tMs));
    out.evidence.push({
      eventId: v.eventId,
      ruleId: this.rule.id,
      kind: this.kind,
      frameMs: this.wallOf(tMs),
      trackId: track.id,
      objectClass: track.cls,
      box: clampBox(track.box),
    });
  }

  private sendUpdates(
    byId: ReadonlyMap<number, RuleTrack>,
    measure: number | null,
    tMs: number,
    out: RuleMessage[],
  ): void {
    const o = this.options;
    for (const v of this.violations) {
      if (v.lastSeenMs !== tMs || v.awaySinceMs !== null || !byId.has(v.trackId)) continue;
      if (v.lastEmitMs === tMs) continue; // just started
      if (measure !== null) v.measureMax = Math.max(v.measureMax ?? 0, measure);
      const p = v.published;
      // A box change matters when it lasts (re-parked a little), not while the vehicle pulls away ("end"
      // follows within departGraceMs) or for a bad detection.
      if (boxIoU(p.box, v.box) >= o.changeIou) v.changedSinceMs = null;
      else v.changedSinceMs ??= tMs;
      const moved = v.changedSinceMs !== null && tMs - v.changedSinceMs >= o.changeHoldMs;
      const changed = p.trackId !== v.trackId || p.objectClass !== v.objectClass || p.measure !== v.measureMax || moved;
      if (!changed && tMs - v.lastEmitMs < o.updateIntervalMs) continue;
      out.push(this.message(v, 'update', tMs));
      v.lastEmitMs = tMs;
      v.published = { trackId: v.trackId, objectClass: v.objectClass, box: v.box, measure: v.measureMax };
    }
  }

  private message(
    v: Violation,
    phase: 'start' | 'update' | 'end',
    tMs: number,
    endReason: EndReason | null = null,
    endedAtMs: number | null = null,
  ): RuleMessage {
    const until = endedAtMs ?? tMs;
    // Durations on the monotonic rule clock; `endedAt` follows from them, so endedAt - startedAt is the dwell.
    const dwellMs = Math.max(0, until - v.startedAtMs);
    const body: EventBody = {
      eventId: v.eventId,
      phase,
      kind: this.kind,
      ruleId: this.rule.id,
      zoneId: this.zone.id,
      objectClass: v.objectClass,
      trackId: v.trackId,
      score: clampScore(v.score),
      maxScore: clampScore(v.maxScore),
      box: clampBox(v.box) as EventBody['box'],
      startedAt: isoTime(v.startedAtWallMs),
      endedAt: phase === 'end' ? isoTime(v.startedAtWallMs + dwellMs) : null,
      endReason: phase === 'end' ? endReason : null,
      dwellSeconds: dwellMs / 1000,
      pedestriansPresent: this.kind === 'pedestrian_blocking' ? (v.measureMax ?? 0) : null,
      evidence: v.evidence,
      model: this.deps.model(),
    };
    return { kind: 'event', atMs: this.wallOf(tMs), body };
  }
}

function clampScore(s: number): number {
  return Math.min(1, Math.max(0, s));
}
