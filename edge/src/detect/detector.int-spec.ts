/**
 * @jest-environment ./edge/src/detect/testing/onnx-runtime.jest-environment.ts
 */
import path from 'node:path';

import { OBJECT_CLASSES, type ObjectClass, VEHICLE_CLASSES } from '@vigil/contracts/common.schema';

import { loadDetector, type OnnxDetector } from './detector';
import type { BoxXyxy, Detection, RawFrame } from './detector.types';
import { loadManifest, resolveModelsDir } from './model-manifest.loader';
import { iou } from './nms';
import { readFrameAt, resolveVideosDir } from './testing/read-frame';

/**
 * Real models on real frames. Counts are floors set from what each model actually finds at its manifest threshold
 * (see the comments), with a margin of one or two for decoder-version noise; they fail if a decode, colour order,
 * normalisation or letterbox is wrong, since any of those loses most detections or misplaces the boxes.
 */
const EXPECTED: Record<string, { persons: number; cars: number }> = {
  // vtest@10s: 7 persons (0.54-0.80); video02@10s: 10 cars (0.33-0.75) + one false bus on the OSD box.
  yolox_nano_416: { persons: 5, cars: 8 },
  // 8 persons (0.41-0.73); 9 cars (0.37-0.64).
  nanodet_m_416: { persons: 5, cars: 7 },
  // 6 persons (0.57-0.85); 9 cars (0.30-0.72).
  yolov8n_int8: { persons: 5, cars: 8 },
  // Lower recall on small objects at 320x320: 4 persons (0.40-0.58); 7 cars (0.36-0.62).
  deimv2_hgnetv2_atto_coco: { persons: 4, cars: 6 },
};

/** The white van parked at the top right of opencv_vtest.avi, in normalised coordinates. */
const VAN: BoxXyxy = [0.847, 0.073, 0.944, 0.173];
const VEHICLES = new Set<ObjectClass>(VEHICLE_CLASSES);

const count = (ds: Detection[], cls: ObjectClass): number => ds.filter((d) => d.cls === cls).length;
const area = (b: BoxXyxy): number => (b[2] - b[0]) * (b[3] - b[1]);
const sameKind = (a: Detection, b: Detection): boolean =>
  a.cls === b.cls || (VEHICLES.has(a.cls) && VEHICLES.has(b.cls));

const detectors = new Map<string, OnnxDetector>();
let vtest: RawFrame;
let highway: RawFrame;
const results = new Map<string, { vtest: Detection[]; highway: Detection[] }>();

beforeAll(async () => {
  const videos = resolveVideosDir();
  vtest = await readFrameAt(path.join(videos, 'opencv_vtest.avi'), 10);
  highway = await readFrameAt(path.join(videos, 'bgslibrary_video02.avi'), 10);
  for (const id of Object.keys(EXPECTED)) {
    const detector = await loadDetector(loadManifest(id), resolveModelsDir());
    detectors.set(id, detector);
    results.set(id, { vtest: await detector.detect(vtest), highway: await detector.detect(highway) });
  }
}, 120_000);

afterAll(async () => {
  for (const d of detectors.values()) await d.close();
});

describe.each(Object.keys(EXPECTED))('%s on real frames', (id) => {
  const expected = EXPECTED[id];

  it('finds the pedestrians of opencv_vtest.avi at 10 s', () => {
    expect(count(results.get(id)!.vtest, 'person')).toBeGreaterThanOrEqual(expected.persons);
  });

  it('finds the parked car at the top right', () => {
    const cars = results.get(id)!.vtest.filter((d) => d.cls === 'car' && d.box[0] > 0.9 && d.box[3] < 0.2);
    expect(cars).toHaveLength(1);
    expect(cars[0].box[2]).toBeGreaterThan(0.98);
  });

  it('reports the parked van as one vehicle, not car + truck', () => {
    const onVan = results.get(id)!.vtest.filter((d) => VEHICLES.has(d.cls) && iou(d.box, VAN) > 0.5);
    expect(onVan).toHaveLength(1);
  });

  it('finds the cars of bgslibrary_video02.avi at 10 s', () => {
    expect(count(results.get(id)!.highway, 'car')).toBeGreaterThanOrEqual(expected.cars);
  });

  it('returns only our classes, with COCO ids and ordered boxes inside the frame', () => {
    const cocoOf: Record<ObjectClass, number> = { person: 0, bicycle: 1, car: 2, motorcycle: 3, bus: 5, truck: 7 };
    for (const d of [...results.get(id)!.vtest, ...results.get(id)!.highway]) {
      expect(OBJECT_CLASSES).toContain(d.cls);
      expect(d.cocoId).toBe(cocoOf[d.cls]);
      const [x1, y1, x2, y2] = d.box;
      expect(0 <= x1 && x1 < x2 && x2 <= 1 && 0 <= y1 && y1 < y2 && y2 <= 1).toBe(true);
    }
  });

  it('finds nothing in a uniform grey frame', async () => {
    const grey: RawFrame = {
      data: new Uint8Array(640 * 480 * 3).fill(128),
      width: 640,
      height: 480,
      pixelFormat: 'bgr24',
    };
    await expect(detectors.get(id)!.detect(grey)).resolves.toEqual([]);
  });

  it('gives the same detections for the same frame sent as rgb24', async () => {
    const rgb = Buffer.from(vtest.data);
    for (let i = 0; i < rgb.length; i += 3) [rgb[i], rgb[i + 2]] = [rgb[i + 2], rgb[i]];
    const again = await detectors.get(id)!.detect({ ...vtest, data: rgb, pixelFormat: 'rgb24' });
    expect(again).toEqual(results.get(id)!.vtest);
  });
});

describe('YOLOX-nano reproduces the reference figures of the shared assets README', () => {
  // Seen there with the reference (OpenCV) pre-processing at score >= 0.3. Matching them to 0.015 pins our colour
  // order, raw 0-255 input and top-left letterbox: an RGB input moves the parked car to 0.74, a centred letterbox
  // drops the weakest person to 0.39, a plain resize lifts the van to 0.80.
  const near = (v: number, ref: number): boolean => Math.abs(v - ref) <= 0.015;
  const scores = (ds: Detection[], cls: ObjectClass): number[] => ds.filter((d) => d.cls === cls).map((d) => d.score);

  it('opencv_vtest.avi at 10 s: 7 persons 0.54-0.80, the parked car 0.80, the van as truck 0.76', () => {
    const ds = results.get('yolox_nano_416')!.vtest;
    const persons = scores(ds, 'person');
    expect(persons).toHaveLength(7);
    expect([Math.min(...persons), Math.max(...persons)].map((v, i) => near(v, [0.54, 0.8][i]))).toEqual([true, true]);
    expect(scores(ds, 'car').map((v) => near(v, 0.8))).toEqual([true]);
    expect(scores(ds, 'truck').map((v) => near(v, 0.76))).toEqual([true]);
  });

  it('bgslibrary_video02.avi at 10 s: 10 cars 0.33-0.75 and the false bus on the OSD box', () => {
    const ds = results.get('yolox_nano_416')!.highway;
    const cars = scores(ds, 'car');
    expect(cars).toHaveLength(10);
    expect([Math.min(...cars), Math.max(...cars)].map((v, i) => near(v, [0.33, 0.75][i]))).toEqual([true, true]);
    const buses = ds.filter((d) => d.cls === 'bus');
    expect(buses).toHaveLength(1);
    expect(buses[0].box[1]).toBeLessThan(0.1);
    expect(buses[0].box[0]).toBeGreaterThan(0.6);
  });
});

describe('YOLOX and NanoDet agree on the large objects of the same frame', () => {
  // Large and confident in one model (score >= 0.5, at least 0.3 % of the frame: the vtest persons and parked
  // vehicles, the near highway cars) must be found by the other, whose threshold is lowered to 0.2 so a car cut by
  // the frame edge at 0.32 still counts as seen.
  const large = (ds: Detection[]): Detection[] => ds.filter((d) => d.score >= 0.5 && area(d.box) >= 0.003);
  const lenient = new Map<string, { vtest: Detection[]; highway: Detection[] }>();

  beforeAll(async () => {
    for (const id of ['yolox_nano_416', 'nanodet_m_416']) {
      const d = await loadDetector(loadManifest(id), resolveModelsDir(), { scoreThreshold: 0.2 });
      lenient.set(id, { vtest: await d.detect(vtest), highway: await d.detect(highway) });
      await d.close();
    }
  }, 60_000);

  it.each(['vtest', 'highway'] as const)('on %s', (frame) => {
    const pairs: [Detection[], Detection[]][] = [
      [large(results.get('yolox_nano_416')![frame]), lenient.get('nanodet_m_416')![frame]],
      [large(results.get('nanodet_m_416')![frame]), lenient.get('yolox_nano_416')![frame]],
    ];
    for (const [mine, theirs] of pairs) {
      expect(mine.length).toBeGreaterThanOrEqual(frame === 'vtest' ? 6 : 3);
      const bestIou = (d: Detection): number =>
        Math.max(0, ...theirs.filter((o) => sameKind(d, o)).map((o) => iou(d.box, o.box)));
      const unmatched = mine.filter((d) => bestIou(d) < 0.6).map((d) => ({ ...d, bestIoU: bestIou(d) }));
      expect(unmatched).toEqual([]);
    }
  });
});
