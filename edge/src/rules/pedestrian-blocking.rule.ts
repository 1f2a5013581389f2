import type { ZoneConfig } from '@vigil/contracts';
import { boxBottomCentre, distancePointToSegment, pointInPolygon, type Point, type Polygon } from '@vigil/geometry';

import {
  DwellViolationRule,
  type DwellRuleConfig,
  type RuleFrame,
  type ViolationDeps,
  type ViolationOptions,
} from './dwell-violation';

export type BlockingRuleConfig = Extract<DwellRuleConfig, { kind: 'pedestrian_blocking' }>;

export interface BlockingOptions {
  /** A person whose feet (bottom-centre) are within this normalised distance of the zone is "next to" it: 0.05. */
  pedestrianMargin: number;
}

export const DEFAULT_BLOCKING_OPTIONS: Readonly<BlockingOptions> = { pedestrianMargin: 0.05 };

/** Distance from a point to a polygon: 0 inside, else to the nearest edge. */
export function distanceToPolygon(point: Point, polygon: Polygon): number {
  if (pointInPolygon(point, polygon)) return 0;
  let best = Infinity;
  for (let i = 0; i < polygon.length; i++) {
    best = Math.min(best, distancePointToSegment(point, [polygon[i], polygon[(i + 1) % polygon.length]]));
  }
  return best;
}

/** Person tracks with their feet in the zone or within `margin` of it (people waiting at the kerb count). */
export function countPedestrians(frame: RuleFrame, zone: Polygon, margin: number): number {
  let n = 0;
  for (const t of frame.tracks) {
    if (t.cls === 'person' && distanceToPolygon(boxBottomCentre(t.box), zone) <= margin) n += 1;
  }
  return n;
}

/**
 * Pedestrian blocking: a vehicle stationary in a crosswalk or sidewalk zone for longer than the rule's dwell
 * (seconds). Same lifecycle and re-identification as parking (DwellViolationRule); no queue exemption, because a
 * vehicle standing on a crosswalk blocks it whether or not it is queueing. Each event reports the most pedestrians
 * seen in or next to the zone from the start of the vehicle's dwell to the current message.
 */
export function createBlockingRule(
  rule: BlockingRuleConfig,
  zone: ZoneConfig,
  deps: ViolationDeps,
  options: Partial<ViolationOptions> = {},
  blockingOptions: Partial<BlockingOptions> = {},
): DwellViolationRule {
  const { pedestrianMargin } = { ...DEFAULT_BLOCKING_OPTIONS, ...blockingOptions };
  return new DwellViolationRule(
    'pedestrian_blocking',
    rule,
    zone,
    deps,
    { measure: (frame) => countPedestrians(frame, zone.polygon, pedestrianMargin) },
    options,
  );
}
