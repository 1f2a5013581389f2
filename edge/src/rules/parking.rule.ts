import type { ZoneConfig } from '@vigil/contracts';
import { footprintFractionInPolygon } from '@vigil/geometry';

import {
  DwellViolationRule,
  type RuleFrame,
  type RuleTrack,
  type ViolationDeps,
  type ViolationOptions,
  type DwellRuleConfig,
} from './dwell-violation';

export type ParkingRuleConfig = Extract<DwellRuleConfig, { kind: 'parking_violation' }>;

/** Queue detection in the adjacent lane; see README.md. */
export interface ParkingOptions {
  /** The lane is congested when at least this many OTHER stationary vehicles stand in it: 2. */
  queueMinVehicles: number;
  /** Share of a vehicle's footprint inside the lane zone for it to be in the lane: 0.5. */
  laneFraction: number;
}

export const DEFAULT_PARKING_OPTIONS: Readonly<ParkingOptions> = { queueMinVehicles: 2, laneFraction: 0.5 };

/**
 * Parking violation: a vehicle of the rule's classes with its footprint in a no-parking zone, stationary for the
 * rule's dwell, within its schedule (see DwellViolationRule for the lifecycle). A queue is not parking: while the
 * rule's `queueLaneZoneId` lane holds at least `queueMinVehicles` other stationary vehicles (traffic standing at a
 * red light or in a jam), a vehicle that has reached its dwell does not start a violation; it starts as soon as the
 * lane flows again and it is still standing, with the dwell counted from when it stopped. A violation that has
 * started is not ended by a queue forming beside it.
 */
export function createParkingRule(
  rule: ParkingRuleConfig,
  zone: ZoneConfig,
  lane: ZoneConfig | null,
  deps: ViolationDeps,
  options: Partial<ViolationOptions> = {},
  parkingOptions: Partial<ParkingOptions> = {},
): DwellViolationRule {
  const p = { ...DEFAULT_PARKING_OPTIONS, ...parkingOptions };
  const inQueue = (candidate: RuleTrack, frame: RuleFrame, current: DwellRuleConfig): boolean => {
    if (!lane) return false;
    let standing = 0;
    for (const t of frame.tracks) {
      if (t.id === candidate.id || !t.stationary || !current.classes.includes(t.cls)) continue;
      if (footprintFractionInPolygon(t.box, lane.polygon) >= p.laneFraction) standing += 1;
    }
    return standing >= p.queueMinVehicles;
  };
  return new DwellViolationRule('parking_violation', rule, zone, deps, { suppressStart: inQueue }, options);
}
