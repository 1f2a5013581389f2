import { type ObjectClass, VEHICLE_CLASSES } from '@vigil/contracts/common.schema';

import type { BoxXyxy, Detection } from './detector.types';

const VEHICLES: ReadonlySet<ObjectClass> = new Set(VEHICLE_CLASSES);

export function iou(a: BoxXyxy, b: BoxXyxy): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

export interface SuppressOptions {
  /** Same-class boxes overlapping more than this are duplicates. */
  iou: number;
  /**
   * Boxes of two different vehicle classes overlapping more than this are one vehicle (a van seen as truck 0.76 and
   * car 0.60): the higher score, and with it its class, wins.
   */
  vehicleIou: number;
  maxDetections: number;
}

/**
 * Greedy NMS, highest score first. Class-wise for persons and bicycles, across classes within vehicles. The input is
 * not modified; the output is sorted by descending score.
 */
export function suppress(detections: readonly Detection[], opts: SuppressOptions): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.length >= opts.maxDetections) break;
    const vehicle = VEHICLES.has(d.cls);
    let duplicate = false;
    for (const k of kept) {
      if (k.cls === d.cls) {
        if (iou(k.box, d.box) > opts.iou) duplicate = true;
      } else if (vehicle && VEHICLES.has(k.cls) && iou(k.box, d.box) > opts.vehicleIou) {
        duplicate = true;
      }
      if (duplicate) break;
    }
    if (!duplicate) kept.push(d);
  }
  return kept;
}
