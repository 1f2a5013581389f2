import { randomUUID } from 'node:crypto';

import type { EdgeConfig, ModelProvenance, RuleConfig } from '@vigil/contracts';

import type { TrackedObject } from '../track/track.types';
import {
  type ActiveViolation,
  type EvidenceRef,
  toRuleFrame,
  type RuleOutput,
  type ViolationOptions,
} from './dwell-violation';
import type { LineCounterOptions } from './line-counter';
import type { ParkingOptions } from './parking.rule';
import type { BlockingOptions } from './pedestrian-blocking.rule';
import { createRule, ruleKey, type RuleFactoryContext } from './rule.registry';
import type { RetireReason, Rule, RuleGeometry } from './rule.types';
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
  runner: Rule;
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
      const r = runner.process(frame);
      out.messages.push(...r.messages);
      out.evidence.push(...r.evidence);
    }
    return out;
  }

  /** Publishes count intervals that have ended while no frame arrived (call from a timer, e.g. every 10 s). */
  tick(tMs: number, wallMs = tMs): RulesOutput {
    this.advance(tMs, wallMs);
    const messages: RuleMessage[] = [];
    for (const { runner } of this.installed.values()) messages.push(...runner.tick(tMs));
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
    return [...this.installed.values()].some(({ runner }) => runner.attachEvidence(eventId, ref));
  }

  activeViolations(): ActiveViolation[] {
    return [...this.installed.values()].flatMap(({ runner }) => runner.active());
  }

  private advance(tMs: number, wallMs: number): void {
    if (!Number.isFinite(tMs) || !Number.isFinite(wallMs)) throw new RangeError(`time must be finite, got ${tMs}`);
    if (tMs < this.lastMs) throw new RangeError(`rule time went backwards: ${tMs} < ${this.lastMs}`);
    this.lastMs = tMs;
    this.wallOffsetMs = wallMs - tMs;
  }

  private retire(runner: Rule, reason: RetireReason, tMs: number): RuleMessage[] {
    return runner.retire(reason, tMs);
  }

  private install(config: EdgeConfig, tMs: number, out: RuleMessage[]): void {
    const cam = this.options.cameraId;
    const geometry: RuleGeometry = {
      zones: new Map(config.zones.filter((z) => z.cameraId === cam).map((z) => [z.id, z])),
      lines: new Map(config.lines.filter((l) => l.cameraId === cam).map((l) => [l.id, l])),
    };
    const next = new Map<string, Installed>();
    for (const rule of config.rules) {
      const key = ruleKey(rule, geometry);
      if (key === null) continue; // another camera's rule
      const old = this.installed.get(rule.id);
      if (old && old.key === key && old.rule.kind === rule.kind) {
        old.runner.reconfigure(rule);
        next.set(rule.id, { rule, key, runner: old.runner });
        continue;
      }
      next.set(rule.id, { rule, key, runner: createRule(rule, geometry, this.factoryContext()) });
    }
    for (const [id, old] of this.installed) {
      if (next.get(id)?.runner !== old.runner) out.push(...this.retire(old.runner, 'rule_removed', tMs));
    }
    this.installed = next;
  }

  private factoryContext(): RuleFactoryContext {
    const o = this.options;
    return {
      deps: { newId: this.newId, model: () => this.model, wallOf: this.wallOf },
      lineCounter: o.lineCounter,
      violation: o.violation,
      parking: o.parking,
      blocking: o.blocking,
    };
  }
}
