import { randomUUID } from 'node:crypto';

import type { EdgeConfig, LineConfig, ModelProvenance, RuleConfig, ZoneConfig } from '@vigil/contracts';

import type { TrackedObject } from '../track/track.types';
import {
  DwellViolationRule,
  type ActiveViolation,
  type EvidenceRef,
  toRuleFrame,
  type RuleOutput,
  type ViolationOptions,
} from './dwell-violation';
import { LineCounter, type LineCounterOptions } from './line-counter';
import { createParkingRule, type ParkingOptions } from './parking.rule';
import { createBlockingRule, type BlockingOptions } from './pedestrian-blocking.rule';
import type { IdFactory, RuleMessage } from './rules.types';
import { StationarityMonitor, type StationarityOptions } from './stationarity';

export interface RulesEngineOptions {
  /** The camera whose zones, lines and rules this engine runs. */
  cameraId: string;
  /** Provenance stamped on every event (model id, sha256, thresholds, tracker). */
  model: ModelProvenance;
  /** Event and crossing ids; node:crypto randomUUID by default. */
  newId?: IdFactory;
  stationarity?: Partial<StationarityOptions>;
  lineCounter?: Partial<LineCounterOptions>;
  violation?: Partial<ViolationOptions>;
  parking?: Partial<ParkingOptions>;
  blocking?: Partial<BlockingOptions>;
}

/** Everything a frame produced: messages to publish in order, and snapshots the evidence module should render. */
export type RulesOutput = RuleOutput;

interface Installed {
  rule: RuleConfig;
  /** Geometry the state depends on; a rule whose key changes is restarted, otherwise it keeps its state. */
  key: string;
  runner: LineCounter | DwellViolationRule;
}

/**
 * The rules of one camera. Call `process` with every analysed frame's confirmed tracks and the frame time; publish
 * the returned messages in order and render the evidence requests. `applyConfig` swaps the configuration at run
 * time: a rule whose id, kind and geometry are unchanged keeps its state (dwell timers, open violations, counts of
 * the current interval); a removed or reshaped rule ends its violations ("rule_removed") and publishes its counts.
 */
export class RulesEngine {
  private readonly newId: IdFactory;
  private model: ModelProvenance;
  private readonly stationarity: StationarityMonitor;
  private installed = new Map<string, Installed>();
  private lastMs = -Infinity;
  /** Wall clock minus rule clock, as of the latest call: converts rule times to message timestamps. */
  private wallOffsetMs = 0;
  private readonly wallOf = (ruleMs: number): number => ruleMs + this.wallOffsetMs;

  constructor(
    config: EdgeConfig,
    private readonly options: RulesEngineOptions,
  ) {
    this.newId = options.newId ?? randomUUID;
    this.model = options.model;
    this.stationarity = new StationarityMonitor(options.stationarity);
    this.install(config, -Infinity, []);
  }

  get ruleIds(): string[] {
    return [...this.installed.keys()];
  }

  /** Provenance for events from now on (the detector was reloaded or its thresholds changed). */
  setModel(model: ModelProvenance): void {
    this.model = model;
  }

  /** The provenance events carry now. */
  get provenance(): ModelProvenance {
    return this.model;
  }

  /**
   * One frame. `tMs` is the rule clock (monotonic: dwell, stationarity and crossings are measured on it) and `wallMs`
   * the wall-clock time of the same instant (schedules, count interval edges, message timestamps); by default the
   * same. A wall-clock step therefore moves timestamps, never a measured duration.
   */
  process(tracks: readonly TrackedObject[], tMs: number, wallMs = tMs): RulesOutput {
    this.advance(tMs, wallMs);
    const frame = toRuleFrame(tracks, this.stationarity.update(tracks, tMs), tMs);
    const out: RulesOutput = { messages: [], evidence: [] };
    for (const { runner } of this.installed.values()) {
      if (runner instanceof LineCounter) {
        out.messages.push(...runner.update(tracks, tMs));
      } else {
        const r = runner.process(frame);
        out.messages.push(...r.messages);
        out.evidence.push(...r.evidence);
      }
    }
    return out;
  }

  /** Publishes count intervals that have ended while no frame arrived (call from a timer, e.g. every 10 s). */
  tick(tMs: number, wallMs = tMs): RulesOutput {
    this.advance(tMs, wallMs);
    const messages: RuleMessage[] = [];
    for (const { runner } of this.installed.values())
      if (runner instanceof LineCounter) messages.push(...runner.tick(tMs));
    return { messages, evidence: [] };
  }

  applyConfig(config: EdgeConfig, tMs: number, wallMs = tMs): RulesOutput {
    this.advance(tMs, wallMs);
    const messages: RuleMessage[] = [];
    this.install(config, tMs, messages);
    return { messages, evidence: [] };
  }

  /** Ends every violation ("shutdown") and publishes every open count interval. */
  shutdown(tMs: number, wallMs = tMs): RulesOutput {
    this.advance(tMs, wallMs);
    const messages: RuleMessage[] = [];
    for (const { runner } of this.installed.values()) messages.push(...this.retire(runner, 'shutdown', tMs));
    return { messages, evidence: [] };
  }

  attachEvidence(eventId: string, ref: EvidenceRef): boolean {
    for (const { runner } of this.installed.values()) {
      if (runner instanceof DwellViolationRule && runner.attachEvidence(eventId, ref)) return true;
    }
    return false;
  }

  activeViolations(): ActiveViolation[] {
    return [...this.installed.values()].flatMap(({ runner }) =>
      runner instanceof DwellViolationRule ? runner.active() : [],
    );
  }

  private advance(tMs: number, wallMs: number): void {
    if (!Number.isFinite(tMs) || !Number.isFinite(wallMs)) throw new RangeError(`time must be finite, got ${tMs}`);
    if (tMs < this.lastMs) throw new RangeError(`rule time went backwards: ${tMs} < ${this.lastMs}`);
    this.lastMs = tMs;
    this.wallOffsetMs = wallMs - tMs;
  }

  private retire(runner: LineCounter | DwellViolationRule, reason: 'rule_removed' | 'shutdown', tMs: number) {
    return runner instanceof LineCounter ? runner.flush(tMs) : runner.endAll(reason, tMs);
  }

  private install(config: EdgeConfig, tMs: number, out: RuleMessage[]): void {
    const cam = this.options.cameraId;
    const zones = new Map(config.zones.filter((z) => z.cameraId === cam).map((z) => [z.id, z]));
    const lines = new Map(config.lines.filter((l) => l.cameraId === cam).map((l) => [l.id, l]));
    const next = new Map<string, Installed>();
    for (const rule of config.rules) {
      const key = geometryKey(rule, zones, lines);
      if (key === null) continue; // another camera's rule
      const old = this.installed.get(rule.id);
      if (old && old.key === key) {
        if (old.runner instanceof LineCounter && rule.kind === 'line_count') old.runner.reconfigure(rule);
        else if (old.runner instanceof DwellViolationRule && rule.kind !== 'line_count') old.runner.reconfigure(rule);
        next.set(rule.id, { rule, key, runner: old.runner });
        continue;
      }
      next.set(rule.id, { rule, key, runner: this.create(rule, zones, lines) });
    }
    for (const [id, old] of this.installed) {
      if (next.get(id)?.runner !== old.runner) out.push(...this.retire(old.runner, 'rule_removed', tMs));
    }
    this.installed = next;
  }

  private create(rule: RuleConfig, zones: Map<string, ZoneConfig>, lines: Map<string, LineConfig>) {
    const o = this.options;
    const deps = { newId: this.newId, model: () => this.model, wallOf: this.wallOf };
    switch (rule.kind) {
      case 'line_count':
        return new LineCounter(lines.get(rule.lineId)!, rule, this.newId, o.lineCounter, this.wallOf);
      case 'parking_violation': {
        const lane = rule.queueLaneZoneId === null ? null : (zones.get(rule.queueLaneZoneId) ?? null);
        return createParkingRule(rule, zones.get(rule.zoneId)!, lane, deps, o.violation, o.parking);
      }
      case 'pedestrian_blocking':
        return createBlockingRule(rule, zones.get(rule.zoneId)!, deps, o.violation, o.blocking);
    }
  }
}

/** What a rule's state depends on; null when the rule is not on this camera. */
function geometryKey(rule: RuleConfig, zones: Map<string, ZoneConfig>, lines: Map<string, LineConfig>): string | null {
  switch (rule.kind) {
    case 'line_count': {
      const line = lines.get(rule.lineId);
      return line
        ? JSON.stringify(['line', line.id, line.start, line.end, line.classes ?? null, rule.intervalSeconds])
        : null;
    }
    case 'parking_violation': {
      const zone = zones.get(rule.zoneId);
      if (!zone) return null;
      const lane = rule.queueLaneZoneId === null ? null : (zones.get(rule.queueLaneZoneId)?.polygon ?? null);
      return JSON.stringify(['parking', zone.id, zone.polygon, rule.queueLaneZoneId, lane]);
    }
    case 'pedestrian_blocking': {
      const zone = zones.get(rule.zoneId);
      return zone ? JSON.stringify(['blocking', zone.id, zone.polygon]) : null;
    }
  }
}
