import type { DwellViolationRule, RuleOutput } from '../dwell-violation';
import { toRuleFrame } from '../dwell-violation';
import type { EventBody, RuleMessage, TrackedObject } from '../rules.types';
import { StationarityMonitor, type StationarityOptions } from '../stationarity';

/** Drives one dwell rule the way the engine does (stationarity first), collecting everything it produces. */
export class RuleHarness {
  readonly monitor: StationarityMonitor;
  readonly messages: RuleMessage[] = [];
  readonly evidence: RuleOutput['evidence'] = [];

  constructor(
    readonly rule: DwellViolationRule,
    stationarity: Partial<StationarityOptions> = {},
  ) {
    this.monitor = new StationarityMonitor(stationarity);
  }

  step(tracks: TrackedObject[], tMs: number): RuleOutput {
    const out = this.rule.process(toRuleFrame(tracks, this.monitor.update(tracks, tMs), tMs));
    this.messages.push(...out.messages);
    this.evidence.push(...out.evidence);
    return out;
  }

  /** Frames every `dtMs` from `fromMs` (inclusive) to `toMs` (exclusive); `tracksAt` gives each frame's tracks. */
  run(fromMs: number, toMs: number, dtMs: number, tracksAt: (tMs: number) => TrackedObject[]): void {
    for (let t = fromMs; t < toMs; t += dtMs) this.step(tracksAt(t), t);
  }

  events(): EventBody[] {
    return this.messages.flatMap((m) => (m.kind === 'event' ? [m.body] : []));
  }

  phases(): string[] {
    return this.events().map((e) => `${e.phase}${e.endReason ? `:${e.endReason}` : ''}`);
  }
}
