import {
  EdgeConfigSchema,
  type Delivery,
  type EdgeConfig,
  type EdgeConfigInput,
  type ModelProvenance,
  type ObjectClass,
} from '@vigil/contracts';
import type { Box } from '@vigil/geometry';

import type { TrackedObject } from '../rules.types';

/** A box whose bottom-centre (the counting anchor) is at (x, y). */
export function boxOnGround(x: number, y: number, w = 0.06, h = 0.05): Box {
  return [x - w / 2, y - h, x + w / 2, y];
}

export function tracked(id: number, box: Box, cls: ObjectClass = 'car', score = 0.8): TrackedObject {
  return { id, cls, score, box };
}

/** Ids "00000000-0000-4000-8000-000000000001", ... : valid UUIDs, predictable in tests. */
export function sequentialIds(): () => string {
  let n = 0;
  return () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
}

/** The envelope the outbox would add, so produced bodies can be checked against the contract schemas. */
export function envelope(seq: number, atMs: number): Delivery {
  return { bootId: '5b0d7c7e-3f0a-4c8e-9a51-2f8e4c1d9b01', seq, ts: new Date(atMs).toISOString() };
}

/** A valid node configuration (schema defaults applied) with one camera "cam-1" plus what the test adds. */
export function edgeConfig(parts: Partial<Pick<EdgeConfigInput, 'cameras' | 'zones' | 'lines' | 'rules'>>): EdgeConfig {
  return EdgeConfigSchema.parse({
    version: 1,
    issuedAt: '2026-11-23T07:00:00Z',
    detection: { modelId: 'yolox_nano_416' },
    cameras: parts.cameras ?? [{ id: 'cam-1', name: 'Camera 1', source: { kind: 'file', path: 'clip.avi' } }],
    zones: parts.zones ?? [],
    lines: parts.lines ?? [],
    rules: parts.rules ?? [],
  });
}

/** Rectangle polygon [x1, y1]..[x2, y2] (normalised), clockwise on screen. */
export function rect(x1: number, y1: number, x2: number, y2: number): [number, number][] {
  return [
    [x1, y1],
    [x2, y1],
    [x2, y2],
    [x1, y2],
  ];
}

export const TEST_MODEL: ModelProvenance = {
  modelId: 'yolox_nano_416',
  sha256: 'c0ffee0000000000000000000000000000000000000000000000000000000000',
  scoreThreshold: 0.3,
  nmsIou: 0.45,
  trackerId: 'bytetrack-v1',
};
