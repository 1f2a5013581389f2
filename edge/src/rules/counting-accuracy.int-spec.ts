/**
 * @jest-environment ./edge/src/detect/testing/onnx-runtime.jest-environment.ts
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { loadDetector } from '../detect/detector';
import type { Detection } from '../detect/detector.types';
import { loadManifest, resolveModelsDir } from '../detect/model-manifest.loader';
import { readFrames, resolveVideosDir } from '../detect/testing/read-frame';
import { ByteTracker } from '../track/byte-tracker';
import { RulesEngine } from './rules-engine';
import type { CrossingBody, RuleMessage } from './rules.types';
import { edgeConfig, sequentialIds } from './testing/synthetic-tracks';

/**
 * Counting accuracy on a real clip against hand counts: bgslibrary_video02.avi (320x240, 25 fps, highway) with
 * the line and crossings in ../shared/assets/ground-truth/bgslibrary_video02.json. The real detector (YOLOX-nano),
 * our tracker and the rules engine run frame by frame; the published per-interval counts are compared with the
 * ground truth per direction (within 15 %), and every crossing record must match a hand-counted crossing.
 */
interface GroundTruth {
  fps: number;
  line: [[number, number], [number, number]];
  totals: Record<'up' | 'down', Partial<Record<string, number>> | undefined>;
  crossings: { frame: number; direction: 'up' | 'down'; class: string; x: number }[];
}

const CLIP = 'bgslibrary_video02.avi';
const WIDTH = 320;
const HEIGHT = 240;
const TOLERANCE = 0.15;
/** A crossing record matches a hand-counted one within this many frames and pixels (annotation is +-3 frames). */
const MATCH_FRAMES = 12;
const MATCH_PX = 30;
const T0 = Date.parse('2026-11-23T08:00:00Z');

const groundTruthFile = path.resolve(resolveVideosDir(), '../ground-truth/bgslibrary_video02.json');
const gt = JSON.parse(readFileSync(groundTruthFile, 'utf8')) as GroundTruth;
const expected = {
  up: Object.values(gt.totals.up ?? {}).reduce<number>((a, b) => a + (b ?? 0), 0),
  down: Object.values(gt.totals.down ?? {}).reduce<number>((a, b) => a + (b ?? 0), 0),
};

// Line drawn left to right: side A (left of the arrow) is above it, so "up" (toward smaller y) is b_to_a.
const config = edgeConfig({
  lines: [
    {
      id: 'near-carriageway',
      cameraId: 'cam-1',
      name: 'Near carriageway',
      start: [gt.line[0][0] / WIDTH, gt.line[0][1] / HEIGHT],
      end: [gt.line[1][0] / WIDTH, gt.line[1][1] / HEIGHT],
      directions: { a_to_b: 'down', b_to_a: 'up' },
    },
  ],
  rules: [{ id: 'count-near', kind: 'line_count', lineId: 'near-carriageway', intervalSeconds: 60 }],
});

let detections: Detection[][] = [];
let modelSha = '';

beforeAll(async () => {
  const frames = await readFrames(path.join(resolveVideosDir(), CLIP), 0, 100_000);
  expect(frames[0]).toMatchObject({ width: WIDTH, height: HEIGHT });
  // Down to the tracker's low-score floor (0.1): ByteTrack's second stage lives on the weak detections.
  const detector = await loadDetector(loadManifest('yolox_nano_416'), resolveModelsDir(), { scoreThreshold: 0.1 });
  try {
    for (const frame of frames) detections.push(await detector.detect(frame));
    modelSha = detector.provenance.sha256;
  } finally {
    await detector.close();
  }
}, 180_000);

afterAll(() => {
  detections = [];
});

/** Runs tracker and rules on the frames an edge analysing at `fps` would see. */
function count(fps: number) {
  const tracker = new ByteTracker();
  const engine = new RulesEngine(config, {
    cameraId: 'cam-1',
    newId: sequentialIds(),
    model: {
      modelId: 'yolox_nano_416',
      sha256: modelSha,
      scoreThreshold: 0.1,
      nmsIou: 0.45,
      trackerId: 'bytetrack-v1',
    },
  });
  const messages: RuleMessage[] = [];
  const step = gt.fps / fps;
  let lastMs = T0;
  for (let k = 0; Math.round(k * step) < detections.length; k++) {
    const frame = Math.round(k * step);
    lastMs = T0 + (frame * 1000) / gt.fps;
    messages.push(...engine.process(tracker.update(detections[frame], lastMs), lastMs).messages);
  }
  messages.push(...engine.shutdown(lastMs).messages);
  const totals = { up: 0, down: 0 };
  for (const m of messages) {
    if (m.kind !== 'count') continue;
    for (const row of m.body.counts) totals[row.direction === 'b_to_a' ? 'up' : 'down'] += row.count;
  }
  const crossings = messages.flatMap((m): CrossingBody[] => (m.kind === 'crossing' ? [m.body] : []));
  return { totals, crossings };
}

/** Crossing records with no hand-counted crossing of the same direction nearby in time and place. */
function unmatched(crossings: CrossingBody[]): CrossingBody[] {
  const used = new Set<number>();
  return crossings.filter((c) => {
    const frame = ((Date.parse(c.at) - T0) * gt.fps) / 1000;
    const direction = c.direction === 'b_to_a' ? 'up' : 'down';
    const i = gt.crossings.findIndex(
      (g, k) =>
        !used.has(k) &&
        g.direction === direction &&
        Math.abs(g.frame - frame) <= MATCH_FRAMES &&
        Math.abs(g.x - c.point[0] * WIDTH) <= MATCH_PX,
    );
    if (i < 0) return true;
    used.add(i);
    return false;
  });
}

describe(`line counting on ${CLIP} against hand counts`, () => {
  it.each([25, 10])('counts each direction within 15%% at %d fps, with no crossing that is not in the truth', (fps) => {
    const { totals, crossings } = count(fps);
    for (const direction of ['up', 'down'] as const) {
      expect(Math.abs(totals[direction] - expected[direction])).toBeLessThanOrEqual(TOLERANCE * expected[direction]);
    }
    expect(crossings).toHaveLength(totals.up + totals.down);
    expect(unmatched(crossings)).toEqual([]);
  });
});
