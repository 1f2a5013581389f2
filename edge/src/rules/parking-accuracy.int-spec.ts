/**
 * @jest-environment ./edge/src/detect/testing/onnx-runtime.jest-environment.ts
 */
import path from 'node:path';

import { boxIoU, type Box } from '@vigil/geometry';

import { loadDetector } from '../detect/detector';
import type { Detection } from '../detect/detector.types';
import { loadManifest, resolveModelsDir } from '../detect/model-manifest.loader';
import { readFrames, resolveVideosDir } from '../detect/testing/read-frame';
import { ByteTracker } from '../track/byte-tracker';
import { RulesEngine } from './rules-engine';
import type { EventBody } from './rules.types';
import { edgeConfig, rect, sequentialIds, TEST_MODEL } from './testing/synthetic-tracks';

/**
 * Parking and pedestrian blocking on a real clip: opencv_vtest.avi (10 fps, 79.5 s) has a parked car and a parked
 * white van at the top right for the whole clip, and pedestrians walking across the plaza (some right past the
 * van). Real detector, our tracker, the rules engine, frame by frame.
 */
const CLIP = 'opencv_vtest.avi';
const FPS = 10;
const CLIP_SECONDS = 79.5;
/** Where the two vehicles stand (normalised), from the detector's boxes on this clip. */
const CAR: Box = [0.953, 0.09, 0.999, 0.164];
const VAN: Box = [0.848, 0.073, 0.945, 0.173];

const config = edgeConfig({
  zones: [
    // A no-parking zone over the whole top of the plaza: the vehicles AND the pedestrians' paths.
    { id: 'plaza-top', cameraId: 'cam-1', name: 'Plaza top', kind: 'no_parking', polygon: rect(0.3, 0, 1, 0.4) },
    // A crosswalk drawn over the van and the pavement in front of it.
    { id: 'crossing', cameraId: 'cam-1', name: 'Crossing', kind: 'crosswalk', polygon: rect(0.84, 0.12, 0.95, 0.24) },
  ],
  rules: [
    { id: 'no-parking', kind: 'parking_violation', zoneId: 'plaza-top', dwellSeconds: 20 },
    { id: 'crossing-blocked', kind: 'pedestrian_blocking', zoneId: 'crossing', dwellSeconds: 10 },
  ],
});

const events: EventBody[] = [];

beforeAll(async () => {
  const clip = path.join(resolveVideosDir(), CLIP);
  const detector = await loadDetector(loadManifest('yolox_nano_416'), resolveModelsDir(), { scoreThreshold: 0.1 });
  const tracker = new ByteTracker();
  const engine = new RulesEngine(config, { cameraId: 'cam-1', model: TEST_MODEL, newId: sequentialIds() });
  let frameIndex = 0;
  try {
    // In 10 s pieces (the last one shorter) at the detector's input width, so the clip never sits in memory whole.
    for (let at = 0; at < CLIP_SECONDS; at += 10) {
      const frames = await readFrames(clip, at, 10 * FPS, { width: 416, height: 312 });
      for (const frame of frames) {
        const tMs = (frameIndex++ * 1000) / FPS;
        const detections: Detection[] = await detector.detect(frame);
        const out = engine.process(tracker.update(detections, tMs), tMs);
        for (const m of out.messages) if (m.kind === 'event') events.push(m.body);
      }
    }
  } finally {
    await detector.close();
  }
  expect(frameIndex).toBeGreaterThan(750);
  for (const m of engine.shutdown((frameIndex * 1000) / FPS).messages) if (m.kind === 'event') events.push(m.body);
}, 240_000);

describe(`parking and blocking on ${CLIP}`, () => {
  it('gives exactly two parking violations, one per parked vehicle, none repeated and none for pedestrians', () => {
    const parking = events.filter((e) => e.ruleId === 'no-parking');
    const starts = parking.filter((e) => e.phase === 'start');
    expect(starts).toHaveLength(2);
    const places = starts.map((s) => [boxIoU(s.box, CAR), boxIoU(s.box, VAN)]);
    expect(places.some(([car]) => car > 0.7)).toBe(true);
    expect(places.some(([, van]) => van > 0.7)).toBe(true);
    // Each lasts the whole clip: the only end is the shutdown, and no other event id appears.
    expect(new Set(parking.map((e) => e.eventId))).toEqual(new Set(starts.map((s) => s.eventId)));
    expect(parking.filter((e) => e.phase === 'end').map((e) => e.endReason)).toEqual(['shutdown', 'shutdown']);
    // Started after the 20 s dwell from the first frames.
    for (const s of starts) expect(s.dwellSeconds).toBeGreaterThanOrEqual(20);
    expect(parking.every((e) => e.objectClass !== 'person')).toBe(true);
  });

  it('gives one pedestrian-blocking event for the van on the crossing, counting the passers-by', () => {
    const blocking = events.filter((e) => e.ruleId === 'crossing-blocked');
    expect(new Set(blocking.map((e) => e.eventId)).size).toBe(1);
    expect(blocking.filter((e) => e.phase === 'start')).toHaveLength(1);
    expect(boxIoU(blocking[0].box, VAN)).toBeGreaterThan(0.7);
    expect(blocking[0].dwellSeconds).toBeGreaterThanOrEqual(10);
    expect(blocking[blocking.length - 1].pedestriansPresent).toBeGreaterThanOrEqual(1);
  });
});
