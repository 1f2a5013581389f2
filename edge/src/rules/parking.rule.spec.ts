import { DetectionEventSchema, type ZoneConfig } from '@vigil/contracts';
import type { Box } from '@vigil/geometry';

import type { TrackedObject } from '../track/track.types';
import { createParkingRule, type ParkingRuleConfig } from './parking.rule';
import { RuleHarness } from './testing/rule-harness';
import { boxOnGround, envelope, rect, sequentialIds, TEST_MODEL, tracked } from './testing/synthetic-tracks';

const S = 1000;
const DT = 500; // 2 fps is plenty for minutes-long parking scenes
const T0 = Date.parse('2026-11-23T10:00:00Z'); // Monday

const ZONE: ZoneConfig = {
  id: 'kerb',
  cameraId: 'cam-1',
  name: 'Kerb',
  kind: 'no_parking',
  polygon: rect(0.6, 0.1, 0.95, 0.4),
};
const LANE: ZoneConfig = {
  id: 'lane-1',
  cameraId: 'cam-1',
  name: 'Lane',
  kind: 'lane',
  polygon: rect(0.3, 0.0, 0.6, 1.0),
};

function rule(over: Partial<ParkingRuleConfig> = {}): ParkingRuleConfig {
  return {
    id: 'no-parking-kerb',
    kind: 'parking_violation',
    zoneId: 'kerb',
    dwellSeconds: 60,
    classes: ['car', 'motorcycle', 'bus', 'truck'],
    schedule: null,
    queueLaneZoneId: null,
    ...over,
  };
}

function harness(r: ParkingRuleConfig = rule(), lane: ZoneConfig | null = null) {
  return new RuleHarness(createParkingRule(r, ZONE, lane, { newId: sequentialIds(), model: () => TEST_MODEL }));
}

const PARKED: Box = boxOnGround(0.75, 0.3, 0.12, 0.08);

/** Small deterministic detector jitter. */
function jit(box: Box, t: number, a = 0.003): Box {
  const k = t / DT;
  return [
    box[0] + a * Math.sin(k * 1.7),
    box[1] + a * Math.cos(k * 2.3),
    box[2] + a * Math.sin(k * 3.1),
    box[3] + a * Math.cos(k * 0.7),
  ];
}

/** Drives from (0.45, 0.9) to the parked position in 5 s. */
function arriving(id: number, t: number, tArrive: number): TrackedObject {
  const f = Math.min(1, Math.max(0, (t - (tArrive - 5 * S)) / (5 * S)));
  return tracked(id, boxOnGround(0.45 + f * 0.3, 0.9 - f * 0.6, 0.12, 0.08));
}

describe('parking violation', () => {
  it('starts once after the dwell, updates periodically, ends when the car drives off; events are valid', () => {
    const h = harness();
    const stop = T0 + 5 * S;
    h.run(T0, T0 + 300 * S, DT, (t) => [t < stop ? arriving(1, t, stop) : tracked(1, jit(PARKED, t))]);
    // Drives away from t = 300 s.
    h.run(T0 + 300 * S, T0 + 310 * S, DT, (t) => [
      tracked(1, boxOnGround(0.75 - (t - T0 - 300 * S) / 20_000, 0.3 + (t - T0 - 300 * S) / 15_000, 0.12, 0.08)),
    ]);
    const events = h.events();
    // Start at ~65 s, updates every 60 s while parked (~125, 185, 245 s), end when it leaves at 300 s.
    expect(h.phases()).toEqual(['start', 'update', 'update', 'update', 'end:departed']);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(1);
    const [start] = events;
    expect(Date.parse(start.startedAt) - stop).toBeLessThanOrEqual(1000); // dwell from when it stopped
    expect(start.dwellSeconds).toBeGreaterThanOrEqual(60);
    expect(start.dwellSeconds).toBeLessThan(61);
    expect(start.pedestriansPresent).toBeNull();
    expect(h.evidence).toEqual([
      expect.objectContaining({ eventId: start.eventId, trackId: 1, kind: 'parking_violation' }),
    ]);
    const end = events[events.length - 1];
    expect(Date.parse(end.endedAt!)).toBeGreaterThanOrEqual(T0 + 300 * S);
    expect(Date.parse(end.endedAt!)).toBeLessThan(T0 + 302 * S);
    h.messages.forEach((m, i) => {
      const parsed = DetectionEventSchema.safeParse({ ...envelope(i + 1, m.atMs), ...m.body });
      expect(parsed.error?.issues).toBeUndefined();
    });
  });

  it('does not flag a car that drives through, one outside the zone, or a person standing in it', () => {
    const h = harness();
    h.run(T0, T0 + 200 * S, DT, (t) => [
      tracked(1, boxOnGround(0.6 + ((t - T0) % 20_000) / 60_000, 0.3, 0.12, 0.08)), // loops through the zone
      tracked(2, jit(boxOnGround(0.2, 0.3, 0.12, 0.08), t)), // parked outside the zone
      tracked(3, jit(boxOnGround(0.8, 0.2, 0.03, 0.1), t), 'person'), // standing in it
    ]);
    expect(h.events()).toEqual([]);
  });

  it('keeps the same violation when the parked car is hidden for 40 s and comes back under a new id', () => {
    const h = harness();
    h.run(T0, T0 + 100 * S, DT, (t) => [tracked(1, jit(PARKED, t))]);
    h.run(T0 + 100 * S, T0 + 140 * S, DT, () => []); // a bus stops in front of it
    h.run(T0 + 140 * S, T0 + 201 * S, DT, (t) => [tracked(9, jit(PARKED, t))]);
    const events = h.events();
    expect(h.phases()).toEqual(['start', 'update', 'update']); // the re-acquisition, then the 60 s update
    expect(new Set(events.map((e) => e.eventId)).size).toBe(1);
    expect(events.map((e) => e.trackId)).toEqual([1, 9, 9]);
    expect(events[1].dwellSeconds).toBeCloseTo(140, 0);
  });

  it('ends "lost" when the car stays hidden past the memory, then a car there later is a new violation', () => {
    const h = harness();
    h.run(T0, T0 + 100 * S, DT, (t) => [tracked(1, jit(PARKED, t))]);
    h.run(T0 + 100 * S, T0 + 300 * S, DT, () => []);
    h.run(T0 + 300 * S, T0 + 370 * S, DT, (t) => [tracked(9, jit(PARKED, t))]);
    const events = h.events();
    expect(h.phases()).toEqual(['start', 'end:lost', 'start']);
    expect(Date.parse(events[1].endedAt!)).toBe(T0 + 100 * S - DT); // last seen
    expect(events[2].eventId).not.toBe(events[0].eventId);
  });

  it('keeps the dwell running through an id switch before the violation started', () => {
    const h = harness();
    h.run(T0, T0 + 40 * S, DT, (t) => [tracked(1, jit(PARKED, t))]);
    h.run(T0 + 40 * S, T0 + 50 * S, DT, () => []);
    h.run(T0 + 50 * S, T0 + 70 * S, DT, (t) => [tracked(2, jit(PARKED, t))]);
    const [start] = h.events();
    expect(start.trackId).toBe(2);
    expect(start.startedAt).toBe(new Date(T0).toISOString());
    expect(h.evidence[0].frameMs).toBe(T0 + 60 * S); // not 60 s after the new id appeared
  });

  it('sends an update when the parked car moves a little and stays there, not for jitter', () => {
    const h = harness();
    const nudged: Box = [PARKED[0] + 0.03, PARKED[1], PARKED[2] + 0.03, PARKED[3]]; // IoU 0.6 with its place
    h.run(T0, T0 + 70 * S, DT, (t) => [tracked(1, jit(PARKED, t))]);
    h.run(T0 + 70 * S, T0 + 71 * S, DT, (t) => [
      tracked(1, [
        PARKED[0] + (t - T0 - 70 * S) / 33_333,
        PARKED[1],
        PARKED[2] + (t - T0 - 70 * S) / 33_333,
        PARKED[3],
      ]),
    ]);
    h.run(T0 + 71 * S, T0 + 80 * S, DT, (t) => [tracked(1, jit(nudged, t))]);
    expect(h.phases()).toEqual(['start', 'update']);
    expect(h.events()[1].box[0]).toBeCloseTo(nudged[0], 2);
    expect(h.events()[1].dwellSeconds).toBeGreaterThanOrEqual(75); // the change held for 5 s
  });

  it('starts one violation per parked vehicle even when the detector gives it two tracks', () => {
    const h = harness();
    h.run(T0, T0 + 90 * S, DT, (t) => [
      tracked(1, jit(PARKED, t)),
      ...(t > T0 + 61 * S ? [tracked(2, jit([PARKED[0] + 0.005, PARKED[1], PARKED[2], PARKED[3] + 0.004], t))] : []),
    ]);
    expect(h.phases()).toEqual(['start']);
  });

  describe('queue vs parking', () => {
    const queued = (id: number, y: number, t: number) => tracked(id, jit(boxOnGround(0.45, y, 0.12, 0.08), t));

    it('does not flag a car standing beside a queue (red light), nor after the queue moves off with it', () => {
      const h = harness(rule({ queueLaneZoneId: 'lane-1' }), LANE);
      // 90 s red light: three cars queue in the lane, a fourth waits in the kerb zone; then all drive off.
      h.run(T0, T0 + 90 * S, DT, (t) => [
        queued(1, 0.3, t),
        queued(2, 0.45, t),
        queued(3, 0.6, t),
        tracked(4, jit(PARKED, t)),
      ]);
      h.run(T0 + 90 * S, T0 + 100 * S, DT, (t) => {
        const d = (t - T0 - 90 * S) / 10_000;
        return [
          queued(1, 0.3 - d, t),
          queued(2, 0.45 - d, t),
          queued(3, 0.6 - d, t),
          tracked(4, boxOnGround(0.75, 0.3 - d, 0.12, 0.08)),
        ];
      });
      expect(h.events()).toEqual([]);
    });

    it('flags the same car when the lane flows past it', () => {
      const h = harness(rule({ queueLaneZoneId: 'lane-1' }), LANE);
      h.run(T0, T0 + 90 * S, DT, (t) => {
        const y = 1 - ((t - T0) % 4000) / 4000; // a car drives up the lane every 4 s
        return [
          tracked(100 + Math.floor((t - T0) / 4000), boxOnGround(0.45, y, 0.12, 0.08)),
          tracked(4, jit(PARKED, t)),
        ];
      });
      expect(h.phases()).toEqual(['start']);
      expect(h.evidence[0].frameMs).toBe(T0 + 60 * S);
    });

    it('starts as soon as the queue clears if the car is still there, counting the dwell from when it stopped', () => {
      const h = harness(rule({ queueLaneZoneId: 'lane-1' }), LANE);
      h.run(T0, T0 + 80 * S, DT, (t) => [queued(1, 0.3, t), queued(2, 0.45, t), tracked(4, jit(PARKED, t))]);
      h.run(T0 + 80 * S, T0 + 90 * S, DT, (t) => [tracked(4, jit(PARKED, t))]); // the queue has gone
      const [start] = h.events();
      expect(h.phases()).toEqual(['start']);
      expect(h.evidence[0].frameMs).toBe(T0 + 80 * S);
      expect(start.startedAt).toBe(new Date(T0).toISOString());
      expect(start.dwellSeconds).toBe(80);
    });
  });

  describe('schedule', () => {
    // Mon-Fri 08:00-19:30 in Rome (UTC+1 in November).
    const scheduled = rule({
      dwellSeconds: 300,
      schedule: {
        timezone: 'Europe/Rome',
        windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '19:30' }],
      },
    });
    const local = (hhmm: string, day = '23') => Date.parse(`2026-11-${day}T${hhmm}:00+01:00`);

    it('counts the dwell from the start of the window, ends at its end, and starts afresh the next morning', () => {
      const h = harness(scheduled);
      const every = 5 * S; // sparse frames: the rule is time-based
      h.run(local('07:50'), local('08:10'), every, (t) => [tracked(1, jit(PARKED, t))]);
      h.run(local('19:20'), local('19:35'), every, (t) => [tracked(1, jit(PARKED, t))]);
      h.run(local('07:55', '24'), local('08:06', '24'), every, (t) => [tracked(1, jit(PARKED, t))]);
      const events = h.events().filter((e) => e.phase !== 'update');
      expect(events.map((e) => `${e.phase}${e.endReason ? `:${e.endReason}` : ''}`)).toEqual([
        'start',
        'end:schedule_ended',
        'start',
      ]);
      expect(events[0].startedAt).toBe(new Date(local('08:00')).toISOString());
      expect(h.evidence[0].frameMs).toBe(local('08:05'));
      expect(events[1].endedAt).toBe(new Date(local('19:30')).toISOString());
      expect(events[2].startedAt).toBe(new Date(local('08:00', '24')).toISOString());
      expect(events[2].eventId).not.toBe(events[0].eventId);
    });

    it('never starts on a day outside the schedule', () => {
      const h = harness(scheduled);
      h.run(local('09:00', '22'), local('10:00', '22'), 5 * S, (t) => [tracked(1, jit(PARKED, t))]); // Sunday
      expect(h.events()).toEqual([]);
    });
  });
});
