import { CrossingSchema, DetectionEventSchema, LineCountSchema, type EdgeConfig } from '@vigil/contracts';
import type { Box } from '@vigil/geometry';

import { ByteTracker } from '../track/byte-tracker';
import type { TrackedObject, TrackerDetection } from '../track/track.types';
import { RulesEngine } from './rules-engine';
import type { EventBody, RuleMessage } from './rules.types';
import {
  boxOnGround,
  edgeConfig,
  envelope,
  rect,
  sequentialIds,
  TEST_MODEL,
  tracked,
} from './testing/synthetic-tracks';

const S = 1000;
const DT = 200;
const T0 = Date.parse('2026-11-23T10:00:00Z');

const CAMERAS = [
  { id: 'cam-1', name: 'North', source: { kind: 'file' as const, path: 'a.avi' } },
  { id: 'cam-2', name: 'South', source: { kind: 'file' as const, path: 'b.avi' } },
];

function config(dwellSeconds = 30, lineY = 0.5, extraRules: EdgeConfig['rules'] = []): EdgeConfig {
  return edgeConfig({
    cameras: CAMERAS,
    zones: [
      { id: 'kerb', cameraId: 'cam-1', name: 'Kerb', kind: 'no_parking', polygon: rect(0.6, 0.1, 0.95, 0.4) },
      { id: 'kerb-2', cameraId: 'cam-2', name: 'Kerb 2', kind: 'no_parking', polygon: rect(0, 0, 1, 1) },
    ],
    lines: [
      {
        id: 'stop-line',
        cameraId: 'cam-1',
        name: 'Stop line',
        start: [0.1, lineY],
        end: [0.55, lineY],
        directions: { a_to_b: 'southbound', b_to_a: 'northbound' },
      },
    ],
    rules: [
      { id: 'park', kind: 'parking_violation', zoneId: 'kerb', dwellSeconds },
      { id: 'park-2', kind: 'parking_violation', zoneId: 'kerb-2', dwellSeconds: 1 },
      { id: 'count', kind: 'line_count', lineId: 'stop-line', intervalSeconds: 60 },
      ...extraRules,
    ],
  });
}

const PARKED: Box = boxOnGround(0.75, 0.3, 0.12, 0.08);

function engine(cfg = config()) {
  return new RulesEngine(cfg, { cameraId: 'cam-1', model: TEST_MODEL, newId: sequentialIds() });
}

/** A parked car (id 1) plus a car (id 2 + n) crossing the line upward every 10 s. */
function scene(t: number): TrackedObject[] {
  const s = (t - T0) / S;
  const k = Math.floor(s / 10);
  const y = 0.9 - ((s % 10) / 10) * 0.8;
  return [tracked(1, PARKED), tracked(2 + k, boxOnGround(0.3, y))];
}

function drive(e: RulesEngine, from: number, to: number, tracksAt: (t: number) => TrackedObject[] = scene) {
  const messages: RuleMessage[] = [];
  for (let t = from; t < to; t += DT) messages.push(...e.process(tracksAt(t), t).messages);
  return messages;
}

const events = (m: RuleMessage[]): EventBody[] => m.flatMap((x) => (x.kind === 'event' ? [x.body] : []));
const phases = (m: RuleMessage[]) => events(m).map((e) => `${e.phase}${e.endReason ? `:${e.endReason}` : ''}`);
const countTotal = (m: RuleMessage[]) =>
  m.flatMap((x) => (x.kind === 'count' ? x.body.counts.map((c) => c.count) : [])).reduce((a, b) => a + b, 0);

describe('RulesEngine', () => {
  it("runs this camera's rules only, producing events, evidence requests, crossings and counts", () => {
    const e = engine();
    expect(e.ruleIds.sort()).toEqual(['count', 'park']);
    const out = { messages: [] as RuleMessage[], evidence: [] as unknown[] };
    for (let t = T0; t < T0 + 65 * S; t += DT) {
      const r = e.process(scene(t), t);
      out.messages.push(...r.messages);
      out.evidence.push(...r.evidence);
    }
    expect(phases(out.messages)).toEqual(['start']);
    expect(out.evidence).toEqual([expect.objectContaining({ ruleId: 'park', trackId: 1, frameMs: T0 + 30 * S })]);
    expect(out.messages.filter((m) => m.kind === 'crossing')).toHaveLength(6); // at ~5 s, 15 s, ... 55 s
    expect(out.messages.filter((m) => m.kind === 'count').map((m) => m.atMs)).toEqual([T0 + 62 * S]);
    expect(countTotal(out.messages)).toBe(6);
    const schemas = { event: DetectionEventSchema, crossing: CrossingSchema, count: LineCountSchema };
    out.messages.forEach((m, i) => {
      const parsed = schemas[m.kind].safeParse({ ...envelope(i + 1, m.atMs), ...m.body });
      expect(parsed.error?.issues).toBeUndefined();
    });
  });

  it('keeps in-progress state across a config change that keeps ids and geometry', () => {
    const e = engine(config(30));
    const before = drive(e, T0, T0 + 40 * S); // violation started at 30 s, 4 crossings
    expect(phases(before)).toEqual(['start']);
    const changed = e.applyConfig(config(45), T0 + 40 * S); // new dwell, same zone and line
    expect(changed.messages).toEqual([]);
    const after = drive(e, T0 + 40 * S, T0 + 65 * S);
    expect(phases(after)).toEqual([]); // the same violation goes on: no end, no second start
    expect(countTotal(after)).toBe(6); // the interval's count includes the crossings before the change
    expect(e.activeViolations()).toEqual([expect.objectContaining({ ruleId: 'park', trackId: 1, present: true })]);
  });

  it('ends violations and publishes counts of rules that are removed or reshaped', () => {
    const e = engine(config(30));
    drive(e, T0, T0 + 40 * S);
    const reshaped = e.applyConfig(config(30, 0.45), T0 + 40 * S); // the line moved
    expect(reshaped.messages.map((m) => m.kind)).toEqual(['count']);
    expect(countTotal(reshaped.messages)).toBe(4);
    drive(e, T0 + 40 * S, T0 + 41 * S);
    const removed = e.applyConfig(edgeConfig({ cameras: CAMERAS }), T0 + 41 * S);
    expect(phases(removed.messages)).toEqual(['end:rule_removed']);
    expect(removed.messages.map((m) => m.kind)).toEqual(['event', 'count']);
    expect(e.ruleIds).toEqual([]);
  });

  it('carries attached evidence on later messages and ends everything on shutdown', () => {
    const e = engine();
    const started = events(drive(e, T0, T0 + 31 * S));
    const ref = { evidenceId: '1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b', sha256: 'a'.repeat(64) };
    expect(e.attachEvidence(started[0].eventId, ref)).toBe(true);
    expect(e.attachEvidence('00000000-0000-4000-8000-00000000ffff', ref)).toBe(false);
    const down = e.shutdown(T0 + 32 * S);
    expect(phases(down.messages)).toEqual(['end:shutdown']);
    expect(events(down.messages)[0].evidence).toEqual(ref);
    expect(down.messages.filter((m) => m.kind === 'count')).toHaveLength(1);
  });

  it('publishes ended intervals from tick() while no frame arrives, and refuses time going backwards', () => {
    const e = engine();
    drive(e, T0, T0 + 20 * S);
    expect(e.tick(T0 + 61 * S).messages).toEqual([]); // still inside the grace period
    expect(e.tick(T0 + 62 * S).messages.map((m) => m.kind)).toEqual(['count']);
    expect(() => e.process([], T0 + 61 * S)).toThrow(RangeError);
  });

  describe('with the tracker on noisy synthetic detections', () => {
    /** Deterministic pseudo-random numbers in [0, 1). */
    function rng(seed: number) {
      let s = seed >>> 0;
      return () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return s / 2 ** 32;
      };
    }

    it('gives one violation for a parked van the detector flickers, drops and mislabels', () => {
      const rand = rng(7);
      const tracker = new ByteTracker();
      const e = engine(config(30));
      const messages: RuleMessage[] = [];
      for (let t = T0; t < T0 + 120 * S; t += DT) {
        const s = (t - T0) / S;
        const dets: TrackerDetection[] = [];
        const occluded = s >= 50 && s < 58; // a bus in front for 8 s: the track is lost and a new id follows
        if (!occluded && rand() > 0.15) {
          const j = () => (rand() - 0.5) * 0.006;
          const box: Box = [PARKED[0] + j(), PARKED[1] + j(), PARKED[2] + j(), PARKED[3] + j()];
          dets.push({ cls: rand() < 0.35 ? 'truck' : 'car', score: 0.4 + rand() * 0.5, box });
        }
        if (rand() < 0.05) dets.push({ cls: 'car', score: 0.7, box: [rand() * 0.5, rand() * 0.5, 0.55, 0.55] });
        messages.push(...e.process(tracker.update(dets, t), t).messages);
      }
      const evs = events(messages);
      expect(new Set(evs.map((x) => x.eventId)).size).toBe(1);
      expect(evs[0].phase).toBe('start');
      expect(evs.every((x) => x.phase !== 'end')).toBe(true);
      expect(evs.every((x) => x.objectClass === 'car')).toBe(true);
      expect(new Set(evs.map((x) => x.trackId)).size).toBeGreaterThan(1); // it was re-acquired under a new id
    });

    it('counts each of 20 cars once when their detections flicker near the line', () => {
      const rand = rng(11);
      const tracker = new ByteTracker();
      const e = engine(config());
      const messages: RuleMessage[] = [];
      // Car n enters at the bottom at n * 3 s, drives up 0.16/s, stops for 4 s with its bottom ON the line.
      const yOf = (n: number, s: number) => {
        const u = s - n * 3;
        if (u < 0) return null;
        const y = 0.95 - 0.16 * u;
        if (y > 0.5) return y;
        if (u < 0.45 / 0.16 + 4) return 0.5 + (rand() - 0.5) * 0.01; // stop-and-go jitter on the line
        const y2 = 0.5 - 0.16 * (u - 0.45 / 0.16 - 4);
        return y2 > 0.05 ? y2 : null;
      };
      for (let t = T0; t < T0 + 80 * S; t += DT) {
        const s = (t - T0) / S;
        const dets: TrackerDetection[] = [];
        for (let n = 0; n < 20; n++) {
          const y = yOf(n, s);
          if (y === null || rand() < 0.1) continue; // 10 % missed detections
          const x = n % 2 === 0 ? 0.22 : 0.42;
          dets.push({ cls: 'car', score: rand() < 0.2 ? 0.3 : 0.85, box: boxOnGround(x, y, 0.1, 0.08) });
        }
        messages.push(...e.process(tracker.update(dets, t), t).messages);
      }
      messages.push(...e.shutdown(T0 + 80 * S).messages);
      expect(countTotal(messages)).toBe(20);
      expect(
        messages
          .filter((m) => m.kind === 'crossing')
          .every((m) => m.kind === 'crossing' && m.body.direction === 'b_to_a'),
      ).toBe(true);
    });
  });
});
