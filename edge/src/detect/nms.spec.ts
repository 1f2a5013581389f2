import type { ObjectClass } from '@vigil/contracts/common.schema';

import type { BoxXyxy, Detection } from './detector.types';
import { iou, suppress } from './nms';

const COCO: Record<ObjectClass, number> = { person: 0, bicycle: 1, car: 2, motorcycle: 3, bus: 5, truck: 7 };

function det(cls: ObjectClass, score: number, box: BoxXyxy): Detection {
  return { cls, score, box, cocoId: COCO[cls] };
}

const opts = { iou: 0.45, vehicleIou: 0.45, maxDetections: 100 };

describe('iou', () => {
  it('is 1 for identical boxes, 0 for disjoint or touching ones, and symmetric', () => {
    expect(iou([0, 0, 1, 1], [0, 0, 1, 1])).toBe(1);
    expect(iou([0, 0, 0.5, 0.5], [0.5, 0, 1, 0.5])).toBe(0);
    expect(iou([0, 0, 0.2, 0.2], [0.6, 0.6, 0.8, 0.8])).toBe(0);
    const a: BoxXyxy = [0, 0, 0.4, 0.4];
    const b: BoxXyxy = [0.2, 0.2, 0.6, 0.6];
    expect(iou(a, b)).toBeCloseTo(0.04 / 0.28, 9);
    expect(iou(b, a)).toBe(iou(a, b));
  });
});

describe('suppress', () => {
  it('merges a van reported as truck 0.76 and car 0.60 into one vehicle, keeping the truck', () => {
    // Boxes of the parked van in opencv_vtest.avi at 10 s as YOLOX reports them.
    const out = suppress(
      [det('car', 0.6, [0.847, 0.075, 0.94, 0.172]), det('truck', 0.76, [0.848, 0.073, 0.944, 0.173])],
      opts,
    );
    expect(out).toEqual([det('truck', 0.76, [0.848, 0.073, 0.944, 0.173])]);
  });

  it('merges across every pair of vehicle classes (bus vs car, motorcycle vs truck)', () => {
    const box: BoxXyxy = [0.1, 0.1, 0.3, 0.3];
    expect(suppress([det('car', 0.5, box), det('bus', 0.7, box)], opts).map((d) => d.cls)).toEqual(['bus']);
    expect(suppress([det('motorcycle', 0.8, box), det('truck', 0.4, box)], opts).map((d) => d.cls)).toEqual([
      'motorcycle',
    ]);
  });

  it('keeps a person and the bicycle under them (classes outside vehicles are never merged)', () => {
    const out = suppress([det('person', 0.8, [0.1, 0.1, 0.2, 0.4]), det('bicycle', 0.7, [0.1, 0.2, 0.2, 0.4])], opts);
    expect(out.map((d) => d.cls)).toEqual(['person', 'bicycle']);
  });

  it('keeps a person standing in front of a car', () => {
    const out = suppress([det('car', 0.9, [0.1, 0.1, 0.5, 0.4]), det('person', 0.8, [0.15, 0.1, 0.45, 0.4])], opts);
    expect(out).toHaveLength(2);
  });

  it('suppresses same-class duplicates above the IoU and keeps neighbours below it', () => {
    const out = suppress(
      [
        det('person', 0.9, [0.1, 0.1, 0.2, 0.4]),
        det('person', 0.5, [0.105, 0.1, 0.205, 0.4]),
        det('person', 0.7, [0.18, 0.1, 0.28, 0.4]),
      ],
      opts,
    );
    expect(out.map((d) => d.score)).toEqual([0.9, 0.7]);
  });

  it('uses its own IoU for the cross-class vehicle merge', () => {
    const a = det('car', 0.9, [0, 0, 0.4, 0.4]);
    const b = det('truck', 0.8, [0.1, 0, 0.5, 0.4]); // IoU 0.6
    expect(suppress([a, b], { ...opts, vehicleIou: 0.7 })).toHaveLength(2);
    expect(suppress([a, b], { ...opts, vehicleIou: 0.5 })).toHaveLength(1);
  });

  it('returns at most maxDetections, best first, without touching its input', () => {
    const input = Array.from({ length: 10 }, (_, i) => det('person', i / 10, [i / 10, 0, i / 10 + 0.05, 0.1]));
    const copy = structuredClone(input);
    const out = suppress(input, { ...opts, maxDetections: 3 });
    expect(out.map((d) => d.score)).toEqual([0.9, 0.8, 0.7]);
    expect(input).toEqual(copy);
  });
});
