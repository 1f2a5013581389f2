import type { RuleConfig } from '@vigil/contracts';

import type { BlockingOptions } from './pedestrian-blocking.rule';
import { createBlockingRule } from './pedestrian-blocking.rule';
import type { ViolationDeps, ViolationOptions } from './dwell-violation';
import { LineCounter, type LineCounterOptions } from './line-counter';
import { createParkingRule, type ParkingOptions } from './parking.rule';
import type { Rule, RuleGeometry } from './rule.types';

/** What rule factories get besides the rule and its geometry. */
export interface RuleFactoryContext {
  deps: Required<ViolationDeps>;
  lineCounter?: Partial<LineCounterOptions>;
  violation?: Partial<ViolationOptions>;
  parking?: Partial<ParkingOptions>;
  blocking?: Partial<BlockingOptions>;
}

interface RuleKind<C extends RuleConfig> {
  /**
   * What the rule's state depends on (its geometry); null when the rule is not on this camera. A rule whose key
   * changes is restarted, otherwise it keeps its state across configurations.
   */
  key(rule: C, geometry: RuleGeometry): string | null;
  create(rule: C, geometry: RuleGeometry, ctx: RuleFactoryContext): Rule;
}

type RuleKinds = { [K in RuleConfig['kind']]: RuleKind<Extract<RuleConfig, { kind: K }>> };

/**
 * The plug-in table of rule kinds (as decoder.registry.ts is for model families): the engine looks a rule up by
 * its `kind` instead of knowing any. A new kind is its Rule class plus one entry here (and its contract schema).
 */
const RULE_KINDS: RuleKinds = {
  line_count: {
    key: (rule, { lines }) => {
      const line = lines.get(rule.lineId);
      return line
        ? JSON.stringify(['line', line.id, line.start, line.end, line.classes ?? null, rule.intervalSeconds])
        : null;
    },
    create: (rule, { lines }, ctx) =>
      new LineCounter(lines.get(rule.lineId)!, rule, ctx.deps.newId, ctx.lineCounter, ctx.deps.wallOf),
  },
  parking_violation: {
    key: (rule, { zones }) => {
      const zone = zones.get(rule.zoneId);
      if (!zone) return null;
      const lane = rule.queueLaneZoneId === null ? null : (zones.get(rule.queueLaneZoneId)?.polygon ?? null);
      return JSON.stringify(['parking', zone.id, zone.polygon, rule.queueLaneZoneId, lane]);
    },
    create: (rule, { zones }, ctx) => {
      const lane = rule.queueLaneZoneId === null ? null : (zones.get(rule.queueLaneZoneId) ?? null);
      return createParkingRule(rule, zones.get(rule.zoneId)!, lane, ctx.deps, ctx.violation, ctx.parking);
    },
  },
  pedestrian_blocking: {
    key: (rule, { zones }) => {
      const zone = zones.get(rule.zoneId);
      return zone ? JSON.stringify(['blocking', zone.id, zone.polygon]) : null;
    },
    create: (rule, { zones }, ctx) =>
      createBlockingRule(rule, zones.get(rule.zoneId)!, ctx.deps, ctx.violation, ctx.blocking),
  },
};

function kindOf<C extends RuleConfig>(rule: C): RuleKind<C> {
  return RULE_KINDS[rule.kind] as unknown as RuleKind<C>;
}

/** The rule's geometry key on this camera (see RuleKind.key); null when it is another camera's. */
export function ruleKey(rule: RuleConfig, geometry: RuleGeometry): string | null {
  return kindOf(rule).key(rule, geometry);
}

export function createRule(rule: RuleConfig, geometry: RuleGeometry, ctx: RuleFactoryContext): Rule {
  return kindOf(rule).create(rule, geometry, ctx);
}

/** The rule kinds this edge runs. */
export function ruleKinds(): RuleConfig['kind'][] {
  return Object.keys(RULE_KINDS) as RuleConfig['kind'][];
}
