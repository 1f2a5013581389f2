/**
 * @jest-environment ./edge/src/detect/testing/onnx-runtime.jest-environment.ts
 */
import {
  COUNTING_CLIP,
  type ClipDetections,
  countCrossings,
  detectCountingClip,
  expectedTotals,
  loadCountingGroundTruth,
  unmatchedCrossings,
} from './counting-accuracy.harness';

/**
 * Counting accuracy on a real clip against hand counts: bgslibrary_video02.avi (320x240, 25 fps, highway) with
 * the line and crossings in ../shared/assets/ground-truth/bgslibrary_video02.json. The real detector (YOLOX-nano),
 * our tracker and the rules engine run frame by frame; the published per-interval counts are compared with the
 * ground truth per direction (within 15 %), and every crossing record must match a hand-counted crossing.
 * `npm run bench:edge` reports the exact error with the same helper.
 */
const TOLERANCE = 0.15;

const gt = loadCountingGroundTruth();
const expected = expectedTotals(gt);
let clip: ClipDetections = { detections: [], modelSha: '' };

beforeAll(async () => {
  clip = await detectCountingClip();
  expect(clip.detections.length).toBeGreaterThan(gt.crossings.at(-1)!.frame);
}, 180_000);

afterAll(() => {
  clip = { detections: [], modelSha: '' };
});

describe(`line counting on ${COUNTING_CLIP} against hand counts`, () => {
  it.each([25, 10])('counts each direction within 15%% at %d fps, with no crossing that is not in the truth', (fps) => {
    const { totals, crossings } = countCrossings(gt, clip, fps);
    for (const direction of ['up', 'down'] as const) {
      expect(Math.abs(totals[direction] - expected[direction])).toBeLessThanOrEqual(TOLERANCE * expected[direction]);
    }
    expect(crossings).toHaveLength(totals.up + totals.down);
    expect(unmatchedCrossings(gt, crossings)).toEqual([]);
  });
});
