import { DetectionEventSchema, type ZoneConfig } from '@vigil/contracts';
import type { Box } from '@vigil/geometry';

import type { TrackedObject } from '../track/track.types';
import {
  countPedestrians,
  createBlockingRule,
  distanceToPolygon,
  type BlockingRuleConfig,
} from './pedestrian-blocking.rule';
import { RuleHarness } from './testing/rule-harness';
import { boxOnGround, envelope, rect, sequentialIds, TEST_MODEL, tracked } from './testing/synthetic-tracks';

const S = 1000;
const DT = 200; // 5 fps
const T0 = Date.parse('2026-11-23T10:00:00Z');

const CROSSWALK: ZoneConfig = {
  id: 'crosswalk-1',
  cameraId: 'cam-1',
  name: 'Crosswalk',
  kind: 'crosswalk',
  polygon: rect(0.3, 0.5, 0.7, 0.6),
};
const RULE: BlockingRuleConfig = {
  id: 'crosswalk-blocking',
  kind: 'pedestrian_blocking',
  zoneId: 'crosswalk-1',
  dwellSeconds: 10,
  classes: ['car', 'motorcycle', 'bus', 'truck'],
  schedule: null,
};

function harness() {
  return new RuleHarness(createBlockingRule(RULE, CROSSWALK, { newId: sequentialIds(), model: () => TEST_MODEL }));
}

const VAN: Box = boxOnGround(0.5, 0.58, 0.16, 0.12);
const person = (id: number, x: number, y: number) => tracked(id, boxOnGround(x, y, 0.02, 0.06), 'person');

describe('pedestrian blocking', () => {
  it('measures distance to a zone: 0 inside, to the nearest edge outside', () => {
    const zone = rect(0.3, 0.5, 0.7, 0.6);
    expect(distanceToPolygon([0.5, 0.55], zone)).toBe(0);
    expect(distanceToPolygon([0.5, 0.65], zone)).toBeCloseTo(0.05, 12);
    expect(distanceToPolygon([0.8, 0.7], zone)).toBeCloseTo(Math.hypot(0.1, 0.1), 12);
  });

  it('counts persons with their feet in or next to the zone, not vehicles or persons far away', () => {
    const tracks = [
      person(1, 0.5, 0.55), // on the crosswalk
      person(2, 0.28, 0.55), // waiting at the kerb, 0.02 from it
      person(3, 0.5, 0.9), // far
      tracked(4, boxOnGround(0.5, 0.55)), // a car
    ].map((t) => ({ ...t, stillSinceMs: 0, stationary: false, inheritedFrom: null }));
    expect(countPedestrians({ tMs: 0, tracks }, CROSSWALK.polygon, 0.05)).toBe(2);
    expect(countPedestrians({ tMs: 0, tracks }, CROSSWALK.polygon, 0.01)).toBe(1);
  });

  it('flags a van standing on the crosswalk past the dwell, with the most pedestrians seen, then ends it', () => {
    const h = harness();
    const pedestrians = (t: number): TrackedObject[] => {
      const s = (t - T0) / S;
      const out = [person(10, 0.27, 0.55)]; // waiting next to the crosswalk the whole time
      if (s >= 4 && s < 8) out.push(person(11, 0.25 + (s - 4) * 0.01, 0.57)); // arrives next to it during the dwell
      if (s >= 14 && s < 18) out.push(person(12, 0.35, 0.56), person(13, 0.4, 0.56)); // two walk round the van
      out.push(person(14, 0.9, 0.9)); // far away: never counted
      return out;
    };
    h.run(T0, T0 + 25 * S, DT, (t) => [tracked(1, VAN, 'truck'), ...pedestrians(t)]);
    // Drives off.
    h.run(T0 + 25 * S, T0 + 30 * S, DT, (t) => [
      tracked(1, boxOnGround(0.5 + (t - T0 - 25 * S) / 10_000, 0.58, 0.16, 0.12), 'truck'),
    ]);
    const events = h.events();
    expect(h.phases()).toEqual(['start', 'update', 'end:departed']);
    expect(events[0].kind).toBe('pedestrian_blocking');
    expect(events[0].objectClass).toBe('truck');
    expect(events[0].pedestriansPresent).toBe(2); // person 10 and person 11 during the dwell
    expect(events[1].pedestriansPresent).toBe(3); // the two walking round it, and person 10
    expect(events[2].pedestriansPresent).toBe(3);
    expect(h.evidence[0].frameMs).toBe(T0 + 10 * S);
    h.messages.forEach((m, i) =>
      expect(DetectionEventSchema.safeParse({ ...envelope(i + 1, m.atMs), ...m.body }).success).toBe(true),
    );
  });

  it('does not flag a vehicle that drives over the crosswalk or stops on it for less than the dwell', () => {
    const h = harness();
    h.run(T0, T0 + 8 * S, DT, (t) => [tracked(1, boxOnGround(0.1 + (t - T0) / 10_000, 0.58, 0.16, 0.12))]);
    h.run(T0 + 8 * S, T0 + 30 * S, DT, (t) => [
      tracked(2, t < T0 + 16 * S ? VAN : boxOnGround(0.5, 0.58 - (t - T0 - 16 * S) / 20_000, 0.16, 0.12)),
    ]);
    expect(h.events()).toEqual([]);
  });
});
