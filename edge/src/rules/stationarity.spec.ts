import type { Box } from '@vigil/geometry';

import { StationarityMonitor, type StationarityInfo } from './stationarity';

const DT = 100; // 10 fps

function boxAt(cx: number, cy: number, w = 0.1, h = 0.08): Box {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

/** Deterministic jitter in [-a, a] (a detector box that never sits still). */
function jitter(k: number, a: number): number {
  return a * Math.sin(k * 12.9898 + 78.233) * Math.cos(k * 4.1414);
}

function jittered(box: Box, k: number, a = 0.004): Box {
  return [box[0] + jitter(k, a), box[1] + jitter(k + 1, a), box[2] + jitter(k + 2, a), box[3] + jitter(k + 3, a)];
}

describe('StationarityMonitor', () => {
  it('keeps a jittering parked box still from its first frame; stationary after minStationaryMs', () => {
    const m = new StationarityMonitor({ minStationaryMs: 2000 });
    const base = boxAt(0.7, 0.3);
    let info = m.update([{ id: 1, box: base }], 0).get(1)!;
    for (let k = 1; k <= 100; k++) {
      info = m.update([{ id: 1, box: jittered(base, k) }], k * DT).get(1)!;
      expect(info.stillSinceMs).toBe(0);
      expect(info.stationary).toBe(k * DT >= 2000);
    }
  });

  it('never calls a moving object stationary, and starts the still period where it stops', () => {
    const m = new StationarityMonitor();
    let info: StationarityInfo | undefined;
    for (let k = 0; k <= 50; k++) {
      const x = Math.min(0.1 + 0.02 * k, 0.6); // 0.2 per second, stops at frame 25
      info = m.update([{ id: 7, box: jittered(boxAt(x, 0.5), k, 0.002) }], k * DT).get(7)!;
      if (k < 25) expect(info.stationary).toBe(false);
    }
    expect(info?.stillSinceMs).toBeGreaterThanOrEqual(23 * DT);
    expect(info?.stillSinceMs).toBeLessThanOrEqual(26 * DT);
    expect(info?.stationary).toBe(true);
  });

  it('treats a slow creep (a queue crawling forward) as movement', () => {
    const m = new StationarityMonitor();
    let resets = 0;
    let last = 0;
    for (let k = 0; k <= 100; k++) {
      const info = m.update([{ id: 1, box: boxAt(0.2 + 0.001 * k, 0.5) }], k * DT).get(1)!; // 0.01 per second
      if (info.stillSinceMs !== last) resets++;
      last = info.stillSinceMs;
    }
    expect(resets).toBeGreaterThanOrEqual(2);
  });

  it('survives a one-frame outlier box, a partial occlusion and a full occlusion of the same track', () => {
    const m = new StationarityMonitor();
    const base = boxAt(0.5, 0.5);
    const frames: (Box | null)[] = [];
    for (let k = 0; k < 20; k++) frames.push(jittered(base, k));
    frames.push([base[0] + 0.04, base[1] + 0.03, base[2] + 0.04, base[3] + 0.03]); // outlier, IoU ~0.4
    for (let k = 0; k < 5; k++) frames.push([base[0], base[1], base[0] + 0.045, base[3]]); // left half hidden
    for (let k = 0; k < 30; k++) frames.push(null); // fully hidden for 3 s
    for (let k = 0; k < 10; k++) frames.push(jittered(base, 100 + k));
    frames.forEach((box, k) => {
      const info = m.update(box ? [{ id: 3, box }] : [], k * DT).get(3);
      if (box) expect(info!.stillSinceMs).toBe(0);
    });
  });

  it('hands the still period to a new id at the same place, not to one elsewhere', () => {
    const m = new StationarityMonitor();
    const parked = boxAt(0.8, 0.2);
    for (let k = 0; k <= 50; k++) m.update([{ id: 1, box: jittered(parked, k) }], k * DT);
    // Track 1 vanishes; 2 s later track 5 appears in place and track 6 appears elsewhere.
    const out = m.update(
      [
        { id: 5, box: jittered(parked, 77) },
        { id: 6, box: boxAt(0.2, 0.2) },
      ],
      7000,
    );
    expect(out.get(5)).toEqual({ stillSinceMs: 0, stationary: true, inheritedFrom: 1 });
    expect(out.get(6)).toEqual({ stillSinceMs: 7000, stationary: false, inheritedFrom: null });
  });

  it('does not hand over a period past the memory window', () => {
    const m = new StationarityMonitor({ memoryMs: 5000 });
    const parked = boxAt(0.8, 0.2);
    m.update([{ id: 1, box: parked }], 0);
    m.update([], 5001);
    expect(m.update([{ id: 2, box: parked }], 6000).get(2)!.inheritedFrom).toBeNull();
  });
});
