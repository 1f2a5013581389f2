import type { ObjectClass } from '@vigil/contracts/common.schema';
import type { Box } from '@vigil/geometry';

import { ByteTracker } from './byte-tracker';
import type { TrackSnapshot, TrackerDetection } from './track.types';

const FPS = 10;
const DT_MS = 1000 / FPS;

function boxAt(cx: number, cy: number, w = 0.08, h = 0.06): Box {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

function det(box: Box, score = 0.9, cls: ObjectClass = 'car'): TrackerDetection {
  return { cls, score, box };
}

/** Runs frames through the tracker; returns per frame the tracks found. */
function run(tracker: ByteTracker, frames: TrackerDetection[][], startMs = 0, dtMs = DT_MS): TrackSnapshot[][] {
  return frames.map((dets, k) => tracker.update(dets, startMs + k * dtMs));
}

/** The track whose box is nearest to the point, if any is within 0.05. */
function trackNear(tracks: TrackSnapshot[], x: number, y: number): TrackSnapshot | undefined {
  let best: TrackSnapshot | undefined;
  let bestD = 0.05;
  for (const t of tracks) {
    const d = Math.hypot((t.box[0] + t.box[2]) / 2 - x, (t.box[1] + t.box[3]) / 2 - y);
    if (d < bestD) {
      bestD = d;
      best = t;
    }
  }
  return best;
}

describe('ByteTracker', () => {
  it('keeps one id per object for constant-velocity objects, ids monotonic from 1', () => {
    const tracker = new ByteTracker();
    const objects = [
      { x: 0.1, y: 0.2, vx: 0.3, vy: 0 }, // per second
      { x: 0.9, y: 0.5, vx: -0.2, vy: 0.05 },
      { x: 0.5, y: 0.9, vx: 0.02, vy: -0.25 },
    ];
    const frames = Array.from({ length: 25 }, (_, k) =>
      objects.map((o) => det(boxAt(o.x + (o.vx * k) / FPS, o.y + (o.vy * k) / FPS))),
    );
    const out = run(tracker, frames);
    expect(out[0]).toEqual([]); // confirmation needs a second frame
    const idsPerObject = objects.map((o) => {
      const ids = new Set<number>();
      out.slice(1).forEach((tracks, i) => {
        const k = i + 1;
        const t = trackNear(tracks, o.x + (o.vx * k) / FPS, o.y + (o.vy * k) / FPS);
        expect(t).toBeDefined();
        ids.add(t!.id);
      });
      return [...ids];
    });
    expect(idsPerObject).toEqual([[1], [2], [3]]);
  });

  it('keeps the ids of two objects whose paths cross (box overlap at the crossing)', () => {
    const tracker = new ByteTracker();
    // A drives right along y = 0.5, B drives down along x = 0.5; both reach (0.5, 0.5) at frame 10.
    const frames = Array.from({ length: 21 }, (_, k) => [
      det(boxAt(0.2 + 0.03 * k, 0.5)),
      det(boxAt(0.5, 0.3 + 0.02 * k)),
    ]);
    const out = run(tracker, frames);
    const idsA = new Set<number>();
    const idsB = new Set<number>();
    out.slice(1).forEach((tracks, i) => {
      const k = i + 1;
      if (k === 10) return; // the two boxes coincide: which is which is undefined for that one frame
      idsA.add(trackNear(tracks, 0.2 + 0.03 * k, 0.5)!.id);
      idsB.add(trackNear(tracks, 0.5, 0.3 + 0.02 * k)!.id);
    });
    expect(idsA.size).toBe(1);
    expect(idsB.size).toBe(1);
    expect([...idsA][0]).not.toBe([...idsB][0]);
  });

  it.each([
    { gapS: 1.2, sameId: true },
    { gapS: 2.0, sameId: false },
  ])('after an occlusion of $gapS s (buffer 1.5 s) keeps the id: $sameId', ({ gapS, sameId }) => {
    const tracker = new ByteTracker({ lostBufferSeconds: 1.5 });
    const gapFrames = Math.round(gapS * FPS);
    const x = (k: number) => 0.1 + 0.02 * k; // 0.2 per second
    const frames = Array.from({ length: 10 + gapFrames + 10 }, (_, k) =>
      k >= 10 && k < 10 + gapFrames ? [] : [det(boxAt(x(k), 0.5))],
    );
    const out = run(tracker, frames);
    const before = out[9][0].id;
    expect(out.slice(10, 10 + gapFrames).every((f) => f.length === 0)).toBe(true);
    // The first frame back: a surviving track is matched at once; a new one needs a confirming frame.
    const back = out[10 + gapFrames + 1][0];
    expect(back.id === before).toBe(sameId);
    if (!sameId) expect(back.id).toBe(before + 1);
  });

  it('keeps a track alive on low-score detections (second stage), and loses it without them', () => {
    const score = (k: number) => (k >= 5 && k < 30 ? 0.3 : 0.9); // 2.5 s of low confidence (partial occlusion)
    const frames = Array.from({ length: 40 }, (_, k) => [det(boxAt(0.1 + 0.02 * k, 0.5), score(k))]);
    const withLow = run(new ByteTracker({ lostBufferSeconds: 1 }), frames);
    expect(withLow.slice(1).every((f) => f.length === 1 && f[0].id === 1)).toBe(true);
    expect(withLow[20][0].score).toBe(0.3);

    // The same scene with those detections below the low floor: the track is lost and a new id appears.
    const withoutLow = run(
      new ByteTracker({ lostBufferSeconds: 1 }),
      frames.map((f, k) => (score(k) < 0.5 ? [det(f[0].box, 0.05)] : f)),
    );
    expect(withoutLow[20]).toEqual([]);
    expect(withoutLow[39][0].id).toBe(2);
  });

  it('never gives an id to one-frame false detections, and low-score detections never start tracks', () => {
    const tracker = new ByteTracker();
    const frames: TrackerDetection[][] = Array.from({ length: 30 }, (_, k) => [
      det(boxAt(0.1 + ((k * 0.37) % 0.8), 0.1 + ((k * 0.53) % 0.8)), 0.95), // jumps far every frame
      det(boxAt(0.5, 0.5), 0.45), // steady but never confident
    ]);
    const out = run(tracker, frames);
    expect(out.every((f) => f.length === 0)).toBe(true);
    // The next confirmed track still gets id 1: no ids were burnt.
    const later = run(tracker, [[det(boxAt(0.3, 0.3))], [det(boxAt(0.3, 0.3))]], 10_000);
    expect(later[1].map((t) => t.id)).toEqual([1]);
  });

  it('keeps one class per track by summed score while the detector flickers car/truck', () => {
    const tracker = new ByteTracker();
    const frames = Array.from({ length: 20 }, (_, k) => [
      k % 3 === 2 ? det(boxAt(0.2 + 0.01 * k, 0.5), 0.8, 'truck') : det(boxAt(0.2 + 0.01 * k, 0.5), 0.6, 'car'),
    ]);
    const out = run(tracker, frames);
    const seen = out.slice(1).map((f) => [f[0].id, f[0].cls]);
    expect(new Set(seen.map(([id]) => id))).toEqual(new Set([1]));
    expect(new Set(seen.slice(3).map(([, cls]) => cls))).toEqual(new Set(['car']));
  });

  it('does not associate a person with a vehicle box (class groups)', () => {
    const tracker = new ByteTracker();
    const box = boxAt(0.5, 0.5);
    const out = run(tracker, [[det(box, 0.9, 'car')], [det(box, 0.9, 'car')], [det(box, 0.9, 'person')]]);
    expect(out[1].map((t) => t.cls)).toEqual(['car']);
    expect(out[2]).toEqual([]); // the car track is lost, the person is only tentative
  });

  it('works at any frame rate: the same motion at 4 fps and at 25 fps keeps its id', () => {
    for (const fps of [4, 25]) {
      const tracker = new ByteTracker();
      const frames = Array.from({ length: fps * 3 }, (_, k) => [det(boxAt(0.1 + (0.15 * k) / fps, 0.5))]);
      const out = run(tracker, frames, 0, 1000 / fps);
      expect(new Set(out.slice(1).map((f) => f[0]?.id))).toEqual(new Set([1]));
    }
  });

  it('keeps a fast object whose boxes barely overlap between frames (buffered IoU), which plain IoU loses', () => {
    // 0.07 per frame with a 0.08 wide box: plain IoU between frames is 0.07, too little to match.
    const frames = Array.from({ length: 12 }, (_, k) => [det(boxAt(0.05 + 0.07 * k, 0.5))]);
    const buffered = run(new ByteTracker(), frames);
    expect(new Set(buffered.slice(1).map((f) => f[0]?.id))).toEqual(new Set([1]));
    const plain = run(new ByteTracker({ bufferScale: 0 }), frames);
    expect(plain.every((f) => f.length === 0)).toBe(true);
  });

  it('refuses frame times that go backwards and bad options', () => {
    const tracker = new ByteTracker();
    tracker.update([], 1000);
    expect(() => tracker.update([], 999)).toThrow(RangeError);
    expect(() => new ByteTracker({ lowScore: 0.6, highScore: 0.5 })).toThrow(RangeError);
    expect(() => new ByteTracker({ confirmHits: 0 })).toThrow(RangeError);
  });

  it('accepts every high score the contract accepts (0.7 used to throw) and changes them live', () => {
    for (const highScore of [0.1, 0.6, 0.7, 0.95, 1]) expect(() => new ByteTracker({ highScore })).not.toThrow();
    const tracker = new ByteTracker({ highScore: 0.7 });
    expect(() => tracker.setThresholds({ highScore: 0.05, classHighScore: {} })).toThrow(RangeError);
    expect(() => tracker.setThresholds({ highScore: 0.5, classHighScore: { car: 1.2 } })).toThrow(RangeError);
    expect(tracker.thresholds).toEqual({ highScore: 0.7, classHighScore: {} });
    tracker.setThresholds({ highScore: 0.5, classHighScore: { person: 0.8 } });
    expect(tracker.thresholds).toEqual({ highScore: 0.5, classHighScore: { person: 0.8 } });
  });
});
