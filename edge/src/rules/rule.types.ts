import type { LineConfig, RuleConfig, ZoneConfig } from '@vigil/contracts';

import type { ActiveViolation, EvidenceRef, RuleFrame, RuleOutput } from './dwell-violation';
import type { RuleMessage } from './rules.types';

/** Why a rule's state is wound up: the rule was removed or reshaped, or the camera stops. */
export type RetireReason = 'rule_removed' | 'shutdown';

/**
 * One configured rule running on one camera. The engine feeds every rule the same frame (tracks with their
 * stationarity) and the same clock; a rule kind is one class implementing this plus one entry in rule.registry.ts.
 */
export interface Rule {
  readonly ruleId: string;
  /** One analysed frame: messages to publish in order, and snapshots to render. */
  process(frame: RuleFrame): RuleOutput;
  /** Time passed without a frame (count intervals still close). */
  tick(tMs: number): RuleMessage[];
  /** New settings of the same kind and geometry: in-progress state is kept. */
  reconfigure(rule: RuleConfig): void;
  /** The rule goes: end what is open (violations end, counts are published). */
  retire(reason: RetireReason, tMs: number): RuleMessage[];
  /** Evidence rendered for one of this rule's events; false when the event is not this rule's. */
  attachEvidence(eventId: string, ref: EvidenceRef): boolean;
  active(): ActiveViolation[];
}

/** The camera's zones and lines by id, for rules to find their geometry. */
export interface RuleGeometry {
  zones: ReadonlyMap<string, ZoneConfig>;
  lines: ReadonlyMap<string, LineConfig>;
}
