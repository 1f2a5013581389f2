import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { EdgeConfig } from '@vigil/contracts';

import { loadDetector } from '../detect/detector';
import type { Detection } from '../detect/detector.types';
import { loadManifest, resolveModelsDir } from '../detect/model-manifest.loader';
import { readFrames, resolveVideosDir } from '../detect/testing/read-frame';
import { ByteTracker } from '../track/byte-tracker';
import { RulesEngine } from './rules-engine';
import type { CrossingBody, RuleMessage } from './rules.types';
import { edgeConfig, sequentialIds } from './testing/synthetic-tracks';

/**
 * Counting accuracy on a real clip against hand counts, shared by the integration test
 * (counting-accuracy.int-spec.ts asserts a tolerance) and `npm run bench:edge` (reports the exact error):
 * bgslibrary_video02.avi (320x240, 25 fps, highway) with the line and crossings in
 * ../shared/assets/ground-truth/bgslibrary_video02.json. The real detector (YOLOX-nano), our tracker and the rules
 * engine run frame by frame; totals come from the published per-interval counts.
 */
export interface CountingGroundTruth {
  fps: number;
  /** Segment in pixels of the clip's 320x240 frame. */
  line: [[number, number], [number, number]];
  totals: Record<'up' | 'down', Partial<Record<string, number>> | undefined>;
  crossings: { frame: number; direction: 'up' | 'down'; class: string; x: number }[];
}

export type CountDirection = 'up' | 'down';
export type DirectionTotals = Record<CountDirection, number>;

export const COUNTING_CLIP = 'bgslibrary_video02.avi';
export const COUNTING_MODEL = 'yolox_nano_416';
const WIDTH = 320;
const HEIGHT = 240;
/** Down to the tracker's low-score floor (0.1): ByteTrack's second stage lives on the weak detections. */
const SCORE_THRESHOLD = 0.1;
/** A crossing record matches a hand-counted one within this many frames and pixels (annotation is +-3 frames). */
const MATCH_FRAMES = 12;
const MATCH_PX = 30;
const T0 = Date.parse('2026-11-23T08:00:00Z');

export function loadCountingGroundTruth(): CountingGroundTruth {
  const file = path.resolve(resolveVideosDir(), '../ground-truth/bgslibrary_video02.json');
  return JSON.parse(readFileSync(file, 'utf8')) as CountingGroundTruth;
}

/** Hand-counted crossings per direction, all classes together. */
export function expectedTotals(gt: CountingGroundTruth): DirectionTotals {
  const sum = (d: CountDirection) => Object.values(gt.totals[d] ?? {}).reduce<number>((a, b) => a + (b ?? 0), 0);
  return { up: sum('up'), down: sum('down') };
}

/** One camera with the ground truth's segment (normalised) and a line-count rule on it. */
export function countingConfig(gt: CountingGroundTruth): EdgeConfig {
  // Line drawn left to right: side A (left of the arrow) is above it, so "up" (toward smaller y) is b_to_a.
  return edgeConfig({
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
}

export interface ClipDetections {
  /** Detections of every frame of the clip, in decode order. */
  detections: Detection[][];
  modelSha: string;
}

/** Runs the real detector on every frame of the clip (at its own 320x240 size). */
export async function detectCountingClip(): Promise<ClipDetections> {
  const frames = await readFrames(path.join(resolveVideosDir(), COUNTING_CLIP), 0, 100_000);
  if (frames[0]?.width !== WIDTH || frames[0]?.height !== HEIGHT) {
    throw new Error(
      `${COUNTING_CLIP}: expected ${WIDTH}x${HEIGHT} frames, got ${frames[0]?.width}x${frames[0]?.height}`,
    );
  }
  const detector = await loadDetector(loadManifest(COUNTING_MODEL), resolveModelsDir(), {
    scoreThreshold: SCORE_THRESHOLD,
  });
  try {
    const detections: Detection[][] = [];
    for (const frame of frames) detections.push(await detector.detect(frame));
    return { detections, modelSha: detector.provenance.sha256 };
  } finally {
    await detector.close();
  }
}

export interface CountingResult {
  totals: DirectionTotals;
  crossings: CrossingBody[];
}

/** Runs tracker and rules on the frames an edge analysing at `fps` would see. */
export function countCrossings(gt: CountingGroundTruth, clip: ClipDetections, fps: number): CountingResult {
  const tracker = new ByteTracker();
  const engine = new RulesEngine(countingConfig(gt), {
    cameraId: 'cam-1',
    newId: sequentialIds(),
    model: {
      modelId: COUNTING_MODEL,
      sha256: clip.modelSha,
      scoreThreshold: SCORE_THRESHOLD,
      nmsIou: 0.45,
      trackerId: 'bytetrack-v1',
    },
  });
  const { detections } = clip;
  const messages: RuleMessage[] = [];
  const step = gt.fps / fps;
  let lastMs = T0;
  for (let k = 0; Math.round(k * step) < detections.length; k++) {
    const frame = Math.round(k * step);
    lastMs = T0 + (frame * 1000) / gt.fps;
    messages.push(...engine.process(tracker.update(detections[frame], lastMs), lastMs).messages);
  }
  messages.push(...engine.shutdown(lastMs).messages);
  const totals: DirectionTotals = { up: 0, down: 0 };
  for (const m of messages) {
    if (m.kind !== 'count') continue;
    for (const row of m.body.counts) totals[row.direction === 'b_to_a' ? 'up' : 'down'] += row.count;
  }
  const crossings = messages.flatMap((m): CrossingBody[] => (m.kind === 'crossing' ? [m.body] : []));
  return { totals, crossings };
}

/** Crossing records with no hand-counted crossing of the same direction nearby in time and place. */
export function unmatchedCrossings(gt: CountingGroundTruth, crossings: CrossingBody[]): CrossingBody[] {
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
