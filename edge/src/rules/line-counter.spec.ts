import { CrossingSchema, LineCountSchema, type LineConfig } from '@vigil/contracts';

import type { TrackedObject } from '../track/track.types';
import { LineCounter, type LineCountRule, type LineCounterOptions } from './line-counter';
import type { CrossingBody, LineCountBody, RuleMessage } from './rules.types';
import { boxOnGround, envelope, sequentialIds, tracked } from './testing/synthetic-tracks';

const DT = 100; // 10 fps
const T0 = Date.parse('2026-11-23T08:00:00Z'); // a whole minute

// Drawn left to right at y = 0.5: side A (left of the arrow) is ABOVE the line on screen.
const LINE: LineConfig = {
  id: 'stop-line',
  cameraId: 'cam-1',
  name: 'Stop line',
  start: [0.2, 0.5],
  end: [0.8, 0.5],
  directions: { a_to_b: 'southbound', b_to_a: 'northbound' },
};
const RULE: LineCountRule = {
  id: 'count-stop-line',
  kind: 'line_count',
  lineId: 'stop-line',
  intervalSeconds: 60,
  crossings: true,
};

function counter(options: Partial<LineCounterOptions> = {}, line: LineConfig = LINE, rule: LineCountRule = RULE) {
  return new LineCounter(line, rule, sequentialIds(), options);
}

/** Feeds frames (one array of tracks per frame, 10 fps from `startMs`); returns every message. */
function feed(c: LineCounter, frames: TrackedObject[][], startMs = T0): RuleMessage[] {
  return frames.flatMap((tracks, k) => c.update(tracks, startMs + k * DT));
}

/** One track whose bottom-centre visits the given points, one per frame. */
function path(id: number, points: [number, number][], cls: TrackedObject['cls'] = 'car'): TrackedObject[][] {
  return points.map(([x, y]) => [tracked(id, boxOnGround(x, y), cls)]);
}

/** Straight motion from (x0, y0) to (x1, y1) in n frames. */
function line(x0: number, y0: number, x1: number, y1: number, n: number): [number, number][] {
  return Array.from({ length: n }, (_, k) => [x0 + ((x1 - x0) * k) / (n - 1), y0 + ((y1 - y0) * k) / (n - 1)]);
}

function crossings(messages: RuleMessage[]): CrossingBody[] {
  return messages.flatMap((m) => (m.kind === 'crossing' ? [m.body] : []));
}

function counts(messages: RuleMessage[]): LineCountBody[] {
  return messages.flatMap((m) => (m.kind === 'count' ? [m.body] : []));
}

function totals(c: LineCounter, messages: RuleMessage[], endMs: number): Record<string, number> {
  const all = [...counts(messages), ...counts(c.flush(endMs))];
  const t: Record<string, number> = {};
  for (const b of all) for (const r of b.counts) t[r.direction] = (t[r.direction] ?? 0) + r.count;
  return t;
}

describe('LineCounter', () => {
  it('counts one crossing each way with the named direction (A is left of start -> end)', () => {
    const c = counter();
    const down = path(1, line(0.5, 0.3, 0.5, 0.7, 11)); // above -> below: A to B
    const up = path(2, line(0.4, 0.7, 0.4, 0.3, 11)); // below -> above: B to A
    const msgs = feed(c, [...down, ...up]);
    const x = crossings(msgs);
    expect(x.map((m) => [m.trackId, m.direction])).toEqual([
      [1, 'a_to_b'],
      [2, 'b_to_a'],
    ]);
    // The crossing happens when the anchor reaches the line (frame 5 of the first path), confirmed 2 frames later.
    expect(x[0].at).toBe(new Date(T0 + 5 * DT).toISOString());
    expect(x[0].point[0]).toBeCloseTo(0.5, 9);
    expect(x[0].point[1]).toBeCloseTo(0.5, 9);
    expect(totals(c, msgs, T0 + 30 * DT)).toEqual({ a_to_b: 1, b_to_a: 1 });
  });

  it.each([
    { x: 0.2, counted: true, what: 'through the start point' },
    { x: 0.8, counted: true, what: 'through the end point' },
    { x: 0.7999, counted: true, what: 'just inside the end' },
    { x: 0.8001, counted: false, what: 'just beside the end' },
    { x: 0.1, counted: false, what: 'well beside the start' },
  ])('at the segment ends: $what (x = $x) counted: $counted', ({ x, counted }) => {
    const c = counter();
    const msgs = feed(c, path(1, line(x, 0.3, x, 0.7, 9)));
    expect(crossings(msgs)).toHaveLength(counted ? 1 : 0);
  });

  it('counts a diagonal movement whose step passes exactly through a segment end', () => {
    const c = counter();
    // Steps of (0.05, 0.05): (0.75, 0.45) -> (0.8, 0.5) -> (0.85, 0.55): touches the end point, then beyond it.
    const msgs = feed(c, path(1, line(0.6, 0.3, 0.95, 0.65, 8)));
    expect(crossings(msgs).map((m) => m.direction)).toEqual(['a_to_b']);
  });

  it('does not count an object that passes beside the segment, even when it later comes back along the line', () => {
    const c = counter();
    const beside = line(0.9, 0.3, 0.9, 0.7, 9); // crosses the infinite line at x = 0.9
    const along = line(0.9, 0.7, 0.5, 0.7, 9); // then drives along below the line
    const msgs = feed(c, path(1, [...beside, ...along]));
    expect(crossings(msgs)).toEqual([]);
  });

  it('does not count a box jittering on the line, and counts it once when it finally crosses', () => {
    const c = counter();
    const approach = line(0.5, 0.3, 0.5, 0.49, 6);
    // 60 frames flipping sides every frame by more than the dead band: never two frames in a row on side B.
    const jitter: [number, number][] = Array.from({ length: 60 }, (_, k) => [0.5, k % 2 === 0 ? 0.492 : 0.508]);
    const msgs1 = feed(c, path(1, [...approach, ...jitter]));
    expect(crossings(msgs1)).toEqual([]);
    const leave = line(0.5, 0.51, 0.5, 0.7, 8);
    const msgs2 = feed(c, path(1, leave), T0 + 66 * DT);
    expect(crossings(msgs2).map((m) => m.direction)).toEqual(['a_to_b']);
  });

  it('counts stop-and-go ON the line once, never once per stop', () => {
    const c = counter();
    const points: [number, number][] = [...line(0.5, 0.8, 0.5, 0.52, 8)]; // approaching from below (side B)
    // 15 stop-and-go cycles rocking across the line: 3 frames just above, 3 on it, 3 just below, 4 stopped on it.
    for (let cycle = 0; cycle < 15; cycle++) {
      for (let k = 0; k < 3; k++) points.push([0.5, 0.49]);
      for (let k = 0; k < 3; k++) points.push([0.5, 0.5]);
      for (let k = 0; k < 3; k++) points.push([0.5, 0.51]);
      for (let k = 0; k < 4; k++) points.push([0.5, 0.5 + (k % 2 ? 0.002 : -0.002)]); // inside the dead band
    }
    points.push(...line(0.5, 0.49, 0.5, 0.2, 8));
    const msgs = feed(c, path(1, points));
    expect(crossings(msgs).map((m) => m.direction)).toEqual(['b_to_a']);
    expect(totals(c, msgs, T0 + points.length * DT)).toEqual({ b_to_a: 1 });
  });

  describe('id switch at the line', () => {
    it('does not count again when the new id rocks back over the line (stop-and-go after the switch)', () => {
      const c = counter();
      const first = path(1, line(0.5, 0.8, 0.5, 0.42, 9)); // crosses upward, confirmed in its last frame
      const gap: TrackedObject[][] = [[], []]; // occluded for 2 frames
      const rocking: [number, number][] = [
        ...line(0.5, 0.47, 0.5, 0.53, 4), // back below the line under the new id
        [0.5, 0.53],
        [0.5, 0.53],
        ...line(0.5, 0.52, 0.5, 0.3, 6), // and forward again
      ];
      const msgs = feed(c, [...first, ...gap, ...path(2, rocking)]);
      expect(crossings(msgs).map((m) => m.trackId)).toEqual([1]);
      // Both re-crossings of the new id (back down, then up again) belong to the vehicle already counted.
      expect(c.stats).toEqual({ counted: 1, suppressed: 2 });
    });

    it('counts once when the switch happens while the crossing is being confirmed', () => {
      const c = counter({ confirmFrames: 3 });
      const first = path(1, line(0.5, 0.8, 0.5, 0.49, 8)); // reaches side A in its last frame: not yet confirmed
      const second = path(2, line(0.5, 0.48, 0.5, 0.3, 8)); // new id continues on side A
      const msgs = feed(c, [...first, [], ...second]);
      expect(crossings(msgs).map((m) => [m.trackId, m.direction])).toEqual([[2, 'b_to_a']]);
    });

    it('counts once when the old id vanishes ON the line and the new id appears on it', () => {
      const c = counter();
      const first = path(1, line(0.5, 0.8, 0.5, 0.5, 8)); // stops on the line, then is lost
      const second = path(2, [[0.5, 0.5], [0.5, 0.5], ...line(0.5, 0.48, 0.5, 0.3, 6)]);
      const msgs = feed(c, [...first, [], [], ...second]);
      expect(crossings(msgs).map((m) => [m.trackId, m.direction])).toEqual([[2, 'b_to_a']]);
    });

    it('still counts a different vehicle that follows in the same lane, and one born far away', () => {
      const c = counter();
      // Car 1 crosses; car 2 was tracked 0.25 behind it the whole time and crosses 1.2 s later.
      const frames: TrackedObject[][] = [];
      for (let k = 0; k < 30; k++) {
        const y1 = 0.7 - 0.02 * k;
        const y2 = 0.95 - 0.02 * k;
        frames.push([tracked(1, boxOnGround(0.5, y1)), tracked(2, boxOnGround(0.5, y2))]);
      }
      // Car 3 appears far from where car 1 vanished (another lane), just after car 1 left the view.
      frames.push(...path(3, line(0.3, 0.6, 0.3, 0.3, 10)));
      const msgs = feed(c, frames);
      expect(crossings(msgs).map((m) => m.trackId)).toEqual([1, 2, 3]);
      expect(c.stats.suppressed).toBe(0);
    });

    it('does not count a duplicate track born next to a track that has just crossed the same way', () => {
      const c = counter();
      const frames: TrackedObject[][] = [];
      const big = (y: number) => boxOnGround(0.5, y, 0.12, 0.1);
      for (let k = 0; k < 12; k++) frames.push([tracked(1, big(0.7 - 0.02 * k))]); // on the line at k = 10
      for (let k = 12; k < 25; k++) {
        // From k = 12 (confirmation) a second box on the same vehicle, its bottom still behind the line.
        frames.push([tracked(1, big(0.7 - 0.02 * k)), tracked(2, boxOnGround(0.51, 0.7 - 0.02 * k + 0.06))]);
      }
      const msgs = feed(c, frames);
      expect(crossings(msgs).map((m) => m.trackId)).toEqual([1]);
      expect(c.stats).toEqual({ counted: 1, suppressed: 1 });
    });

    it('counts the car queued behind a counted car whose track vanished just past the line', () => {
      const c = counter();
      const wide = (id: number, pts: [number, number][]) =>
        pts.map(([x, y]) => [tracked(id, boxOnGround(x, y, 0.12, 0.05))]);
      const first = wide(1, line(0.5, 0.79, 0.5, 0.46, 12)); // crosses upward, counted at 0.46, then vanishes
      // One frame later a car is first seen 0.03 behind the line, close to where the first one was last seen.
      const second = wide(2, [...line(0.5, 0.53, 0.5, 0.51, 3), ...line(0.5, 0.49, 0.5, 0.3, 6)]);
      const msgs = feed(c, [...first, [], ...second]);
      expect(crossings(msgs).map((m) => m.trackId)).toEqual([1, 2]);
    });

    it('counts a new id that vanished too long ago to be the same vehicle (outside the window)', () => {
      const c = counter({ idSwitchWindowMs: 500 });
      const first = path(1, line(0.5, 0.8, 0.5, 0.42, 9));
      const gap: TrackedObject[][] = Array.from({ length: 10 }, () => []); // 1 s
      const second = path(2, [...line(0.5, 0.43, 0.5, 0.53, 4), [0.5, 0.53], ...line(0.5, 0.52, 0.5, 0.3, 6)]);
      const msgs = feed(c, [...first, ...gap, ...second]);
      expect(crossings(msgs).map((m) => m.trackId)).toEqual([1, 2]);
    });
  });

  it('counts each (track, line) once, even when the track later crosses back', () => {
    const c = counter();
    const msgs = feed(c, path(1, [...line(0.5, 0.3, 0.5, 0.7, 9), ...line(0.5, 0.7, 0.5, 0.3, 9)]));
    expect(crossings(msgs).map((m) => m.direction)).toEqual(['a_to_b']);
  });

  it('aggregates per wall-clock interval, a crossing at the boundary in the interval it happened in', () => {
    const c = counter();
    const start = T0 + 59_400; // the anchor reaches the line at frame 5 (59.9 s), confirmed at frame 7 (60.1 s)
    const msgs = [
      ...feed(c, path(1, line(0.5, 0.3, 0.5, 0.7, 11)), start),
      ...feed(c, path(2, line(0.4, 0.7, 0.4, 0.3, 11)), T0 + 62_000), // reaches the line at 62.5 s
      ...c.tick(T0 + 125_000),
    ];
    const intervals = counts(msgs);
    expect(intervals).toEqual([
      {
        lineId: 'stop-line',
        intervalStart: new Date(T0).toISOString(),
        intervalEnd: new Date(T0 + 60_000).toISOString(),
        counts: [{ objectClass: 'car', direction: 'a_to_b', count: 1 }],
      },
      {
        lineId: 'stop-line',
        intervalStart: new Date(T0 + 60_000).toISOString(),
        intervalEnd: new Date(T0 + 120_000).toISOString(),
        counts: [{ objectClass: 'car', direction: 'b_to_a', count: 1 }],
      },
    ]);
    // [0, 60 s) is published only after the grace period, once the boundary crossing was confirmed.
    const first = msgs.find((m) => m.kind === 'count')!;
    expect(first.atMs).toBeGreaterThanOrEqual(T0 + 62_000);
  });

  it('publishes an interval with frames but no crossings as empty, and nothing for one without frames', () => {
    const c = counter();
    const msgs = [...c.update([], T0 + 1000), ...c.update([], T0 + 200_000), ...c.flush(T0 + 200_100)];
    expect(counts(msgs).map((b) => [b.intervalStart, b.counts])).toEqual([
      [new Date(T0).toISOString(), []],
      [new Date(T0 + 180_000).toISOString(), []],
    ]);
  });

  it('counts only the line classes when the line names some, and omits crossing records when not asked', () => {
    const c = counter({}, { ...LINE, classes: ['car'] }, { ...RULE, crossings: false });
    const msgs = feed(c, [
      ...path(1, line(0.5, 0.3, 0.5, 0.7, 9), 'person'),
      ...path(2, line(0.6, 0.3, 0.6, 0.7, 9), 'car'),
    ]);
    expect(crossings(msgs)).toEqual([]);
    expect(totals(c, msgs, T0 + 20 * DT)).toEqual({ a_to_b: 1 });
  });

  it('produces bodies that are valid contract messages once enveloped', () => {
    const c = counter();
    const msgs = feed(c, path(1, line(0.2, 0.3, 0.2, 0.7, 9)));
    const all = [...msgs, ...c.flush(T0 + 10 * DT)];
    expect(all.map((m) => m.kind).sort()).toEqual(['count', 'crossing']);
    all.forEach((m, i) => {
      const schema = m.kind === 'crossing' ? CrossingSchema : LineCountSchema;
      expect(schema.safeParse({ ...envelope(i + 1, m.atMs), ...m.body }).success).toBe(true);
    });
  });
});
