import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { MAX_EVIDENCE_BYTES } from '@vigil/contracts';
import type { Box, Polygon } from '@vigil/geometry';
import type { RawFrame } from '../detect/detector.types';
import { blurRect, boxToRect, drawRect, fillPolygon, personCell, toRgb, type Rgb } from './evidence-masking';

export interface PrivacyZone {
  id: string;
  /** Normalised polygon. */
  polygon: Polygon;
}

export interface EvidenceRenderRequest {
  frame: RawFrame;
  /** The object the evidence is about (normalised), drawn as a rectangle; null for a plain snapshot. */
  box: Box | null;
  /** Persons to blur (normalised boxes). Empty when the camera's `blurPersons` is off. */
  persons: readonly Box[];
  /** Masked solid. */
  privacyZones: readonly PrivacyZone[];
  /** Upper bound on the JPEG size. Default and maximum: MAX_EVIDENCE_BYTES from the contracts. */
  maxBytes?: number;
}

export interface RenderedEvidence {
  jpeg: Buffer;
  sha256: string;
  width: number;
  height: number;
  /** JPEG quality and scale (1 = frame size) that met the size bound. */
  quality: number;
  scale: number;
  personsBlurred: number;
  privacyZones: string[];
}

/** Qualities tried in turn before scaling down; below ~40 blocking makes the scene hard to read. */
export const EVIDENCE_QUALITIES = [82, 70, 55, 40] as const;
/** Grown on each side so the whole head and shoulders are inside the blurred region. */
export const PERSON_MARGIN = 0.1;
const BOX_COLOUR: Rgb = [255, 32, 32];
const MASK_COLOUR: Rgb = [0, 0, 0];
const MIN_SIDE = 32;

// Evidence is a few JPEGs an hour on a memory-bound box: libvips' operation cache (up to 50 MB by default) never
// gets a hit here, and one worker thread encodes a frame in milliseconds.
sharp.cache(false);
sharp.concurrency(1);

/**
 * Renders one evidence JPEG. Persons are blurred and privacy zones masked on the full-resolution pixels before
 * anything is encoded, so no unmasked byte ever leaves this function; then the object's box is drawn. The result
 * fits `maxBytes`: quality goes down first, then the image is scaled down until it fits. No metadata (EXIF) is
 * written.
 */
export async function renderEvidence(req: EvidenceRenderRequest): Promise<RenderedEvidence> {
  const maxBytes = Math.min(req.maxBytes ?? MAX_EVIDENCE_BYTES, MAX_EVIDENCE_BYTES);
  const img = toRgb(req.frame);
  const { width, height } = img;

  let personsBlurred = 0;
  for (const person of req.persons) {
    const rect = boxToRect(person, width, height, PERSON_MARGIN);
    if (!rect) continue;
    blurRect(img, rect, personCell(rect));
    personsBlurred++;
  }
  const masked: string[] = [];
  for (const zone of req.privacyZones) {
    fillPolygon(img, zone.polygon, MASK_COLOUR);
    masked.push(zone.id);
  }
  if (req.box) {
    const rect = boxToRect(req.box, width, height);
    if (rect) drawRect(img, rect, Math.max(2, Math.round(Math.min(width, height) / 150)), BOX_COLOUR);
  }

  const raw = { raw: { width, height, channels: 3 as const } };
  let scale = 1;
  let w = width;
  let h = height;
  for (let qi = 0; ;) {
    const quality = EVIDENCE_QUALITIES[qi];
    let pipeline = sharp(img.data, raw);
    if (w !== width || h !== height) pipeline = pipeline.resize(w, h, { kernel: 'lanczos3', fit: 'fill' });
    const { data, info } = await pipeline.jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer({
      resolveWithObject: true,
    });
    if (data.length <= maxBytes) {
      return {
        jpeg: data,
        sha256: createHash('sha256').update(data).digest('hex'),
        width: info.width,
        height: info.height,
        quality,
        scale,
        personsBlurred,
        privacyZones: masked,
      };
    }
    if (qi < EVIDENCE_QUALITIES.length - 1) {
      qi++;
      continue;
    }
    // Bytes grow about with the pixel count: aim a little under the bound, never shrink by more than half at once.
    const factor = Math.min(0.9, Math.max(0.5, Math.sqrt(maxBytes / data.length) * 0.95));
    scale *= factor;
    w = Math.round(width * scale);
    h = Math.round(height * scale);
    if (Math.min(w, h) < MIN_SIDE) {
      throw new RangeError(`evidence does not fit ${maxBytes} bytes even at ${w}x${h}`);
    }
  }
}
