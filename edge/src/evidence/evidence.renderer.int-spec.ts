import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { EvidenceMetaSchema, MAX_EVIDENCE_BYTES, parseMessage } from '@vigil/contracts';
import type { Box, Polygon } from '@vigil/geometry';
import type { RawFrame } from '../detect/detector.types';
import { readFrameAt, resolveVideosDir } from '../detect/testing/read-frame';
import { Outbox } from '../outbox/outbox.store';
import { boxToRect, toRgb, type PixelRect, type RgbImage } from './evidence-masking';
import { PERSON_MARGIN, renderEvidence } from './evidence.renderer';
import { EvidenceService } from './evidence.service';

// Evidence on a real frame (opencv_vtest.avi at 10 s, 768x576): three walking persons, the parked van top right,
// the building's windows as a privacy zone.
jest.setTimeout(60_000);

const VAN: Box = [0.846, 0.07, 0.945, 0.18];
const PERSONS: Box[] = [
  [0.487, 0.307, 0.534, 0.443],
  [0.454, 0.345, 0.499, 0.477],
  [0.77, 0.264, 0.805, 0.403],
];
const WINDOWS: Polygon = [
  [0.42, 0.05],
  [0.75, 0.05],
  [0.75, 0.16],
  [0.5, 0.2],
];
/** Brickwork and windows left of the privacy zone: detail that must survive (the control region). */
const CONTROL: Box = [0.0, 0.0, 0.14, 0.1];

async function decode(jpeg: Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function grey(img: RgbImage, x: number, y: number): number {
  const i = (y * img.width + x) * 3;
  return 0.299 * img.data[i] + 0.587 * img.data[i + 1] + 0.114 * img.data[i + 2];
}

/** Variance of the 4-neighbour Laplacian of the grey image: the high-frequency detail a face is recognised by. */
function laplacianVariance(img: RgbImage, r: PixelRect): number {
  const values: number[] = [];
  for (let y = r.y1 + 1; y < r.y2 - 1; y++) {
    for (let x = r.x1 + 1; x < r.x2 - 1; x++) {
      values.push(
        grey(img, x - 1, y) + grey(img, x + 1, y) + grey(img, x, y - 1) + grey(img, x, y + 1) - 4 * grey(img, x, y),
      );
    }
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
}

/** Pixels well inside a polygon (at least `inset` px from every edge), as [x, y]. */
function interior(polygon: Polygon, w: number, h: number, inset: number): [number, number][] {
  const pts = polygon.map(([x, y]) => [x * w, y * h] as const);
  const out: [number, number][] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const cx = x + 0.5;
      const cy = y + 0.5;
      let inside = false;
      let minD = Infinity;
      for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
        const [xi, yi] = pts[i];
        const [xj, yj] = pts[j];
        if (yi > cy !== yj > cy && cx < ((xj - xi) * (cy - yi)) / (yj - yi) + xi) inside = !inside;
        const dx = xj - xi;
        const dy = yj - yi;
        const t = Math.max(0, Math.min(1, ((cx - xi) * dx + (cy - yi) * dy) / (dx * dx + dy * dy)));
        minD = Math.min(minD, Math.hypot(cx - (xi + t * dx), cy - (yi + t * dy)));
      }
      if (inside && minD >= inset) out.push([x, y]);
    }
  }
  return out;
}

describe('evidence rendering on a real frame', () => {
  let frame: RawFrame;
  let original: RgbImage;

  beforeAll(async () => {
    frame = await readFrameAt(path.join(resolveVideosDir(), 'opencv_vtest.avi'), 10);
    original = toRgb(frame);
  });

  it('masks the privacy zone solid, blurs the persons, boxes the van, and stays a valid bounded JPEG', async () => {
    const frameCopy = Buffer.from(frame.data);
    const r = await renderEvidence({
      frame,
      box: VAN,
      persons: PERSONS,
      privacyZones: [{ id: 'windows', polygon: WINDOWS }],
    });
    expect(Buffer.compare(Buffer.from(frame.data), frameCopy)).toBe(0); // the frame itself is untouched

    const meta = await sharp(r.jpeg).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 768, height: 576 });
    expect(meta.exif).toBeUndefined();
    expect(r).toMatchObject({ width: 768, height: 576, scale: 1, personsBlurred: 3, privacyZones: ['windows'] });
    expect(r.jpeg.length).toBeLessThanOrEqual(MAX_EVIDENCE_BYTES);
    expect(r.sha256).toBe(createHash('sha256').update(r.jpeg).digest('hex'));
    const out = await decode(r.jpeg);

    // Privacy zone: uniform black, far from what was there (a 3 px inset keeps JPEG ringing at the edge out).
    const zone = interior(WINDOWS, 768, 576, 3);
    expect(zone.length).toBeGreaterThan(10_000);
    let sumOut = 0;
    let sumSqOut = 0;
    let diff = 0;
    for (const [x, y] of zone) {
      const v = grey(out, x, y);
      sumOut += v;
      sumSqOut += v * v;
      diff += Math.abs(v - grey(original, x, y));
    }
    const mean = sumOut / zone.length;
    const std = Math.sqrt(sumSqOut / zone.length - mean * mean);
    expect(mean).toBeLessThan(4);
    expect(std).toBeLessThan(2);
    expect(diff / zone.length).toBeGreaterThan(40);

    // Persons: high-frequency detail drops sharply; the unmasked control region keeps most of its own.
    for (const p of PERSONS) {
      const rect = boxToRect(p, 768, 576)!;
      const before = laplacianVariance(original, rect);
      const after = laplacianVariance(out, rect);
      expect(before).toBeGreaterThan(50);
      expect(after / before).toBeLessThan(0.1);
    }
    const control = boxToRect(CONTROL, 768, 576)!;
    expect(laplacianVariance(out, control) / laplacianVariance(original, control)).toBeGreaterThan(0.5);

    // The van's box: red outline just outside it; the van itself unchanged apart from compression.
    const van = boxToRect(VAN, 768, 576)!;
    for (const [x, y] of [
      [van.x1 - 2, (van.y1 + van.y2) >> 1],
      [(van.x1 + van.x2) >> 1, van.y2 + 1],
    ]) {
      const i = (y * 768 + x) * 3;
      expect(out.data[i]).toBeGreaterThan(180);
      expect(out.data[i + 1]).toBeLessThan(90);
      expect(out.data[i + 2]).toBeLessThan(90);
    }
    const vanInner = { x1: van.x1 + 4, y1: van.y1 + 4, x2: van.x2 - 4, y2: van.y2 - 4 };
    expect(laplacianVariance(out, vanInner) / laplacianVariance(original, vanInner)).toBeGreaterThan(0.4);
    expect(PERSON_MARGIN).toBeGreaterThan(0);
  });

  it('lowers quality, then scales down, to meet a tight bound', async () => {
    const r = await renderEvidence({ frame, box: VAN, persons: [], privacyZones: [], maxBytes: 12_000 });
    expect(r.jpeg.length).toBeLessThanOrEqual(12_000);
    expect(r.quality).toBe(40);
    expect(r.scale).toBeLessThan(1);
    const meta = await sharp(r.jpeg).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: r.width, height: r.height });
    expect(r.width / r.height).toBeCloseTo(768 / 576, 1);
  });

  it('fits a huge, incompressible frame (4000x3000 noise) under MAX_EVIDENCE_BYTES', async () => {
    const noise: RawFrame = { data: randomBytes(4000 * 3000 * 3), width: 4000, height: 3000, pixelFormat: 'bgr24' };
    const r = await renderEvidence({
      frame: noise,
      box: [0.4, 0.4, 0.6, 0.6],
      persons: [[0, 0, 0.1, 0.3]],
      privacyZones: [],
    });
    expect(r.jpeg.length).toBeLessThanOrEqual(MAX_EVIDENCE_BYTES);
    expect(r.width).toBeLessThan(4000);
    expect(r.sha256).toBe(createHash('sha256').update(r.jpeg).digest('hex'));
    expect((await sharp(r.jpeg).metadata()).format).toBe('jpeg');
  });

  it('delivers metadata and image through the outbox, in one transaction with the event that references them', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-evidence-'));
    const outbox = Outbox.open({ dir, node: { siteId: 'site-1', nodeId: 'node-1' } });
    try {
      const service = new EvidenceService(outbox);
      const eventId = '9c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f';
      const capturedAt = new Date('2026-11-21T08:15:30.000Z');
      const built = await service.capture(
        {
          cameraId: 'cam-north',
          eventId,
          capturedAt,
          frame,
          box: VAN,
          persons: PERSONS,
          blurPersons: true,
          privacyZones: [{ id: 'windows', polygon: WINDOWS }],
        },
        (ref) => [
          {
            kind: 'crossing',
            cameraId: 'cam-north',
            message: {
              crossingId: ref.evidenceId, // any UUID: stands in for the event that would carry `ref`
              lineId: 'l-1',
              trackId: 1,
              objectClass: 'car',
              direction: 'a_to_b',
              at: capturedAt.toISOString(),
              point: [0.5, 0.5],
              score: 0.9,
            },
          },
        ],
      );
      expect(built.results.map((x) => x.kind)).toEqual(['crossing', 'evidence', 'evidence_jpeg']);
      const [, metaEntry, jpegEntry] = outbox.takeForPublish(0, 10);
      const meta = parseMessage(metaEntry.topic, metaEntry.payload);
      const image = parseMessage(jpegEntry.topic, jpegEntry.payload);
      if (!meta.ok || meta.kind !== 'evidence' || !image.ok || image.kind !== 'evidence_jpeg') {
        throw new Error('evidence messages do not parse');
      }
      expect(EvidenceMetaSchema.safeParse(meta.message).success).toBe(true);
      expect(meta.message).toMatchObject({
        evidenceId: built.ref.evidenceId,
        eventId,
        capturedAt: capturedAt.toISOString(),
        bytes: built.rendered.jpeg.length,
        width: 768,
        height: 576,
        sha256: built.ref.sha256,
        box: VAN,
        masking: { personsBlurred: 3, privacyZones: ['windows'] },
      });
      expect(image.message.header).toMatchObject({ evidenceId: built.ref.evidenceId, sha256: built.ref.sha256 });
      expect(createHash('sha256').update(image.message.jpeg).digest('hex')).toBe(built.ref.sha256);
    } finally {
      outbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves persons unblurred only when the camera turns blurring off', async () => {
    const service = new EvidenceService({
      enqueueMany: (items) => items.map((i, id) => ({ id, kind: i.kind, stored: true })),
    });
    const built = await service.capture({
      cameraId: 'cam-north',
      eventId: null,
      capturedAt: new Date(),
      frame,
      box: null,
      persons: PERSONS,
      blurPersons: false,
      privacyZones: [],
    });
    expect(built.rendered.personsBlurred).toBe(0);
    const out = await decode(built.rendered.jpeg);
    const rect = boxToRect(PERSONS[0], 768, 576)!;
    expect(laplacianVariance(out, rect) / laplacianVariance(original, rect)).toBeGreaterThan(0.4);
  });
});
