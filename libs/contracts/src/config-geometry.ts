import { describePolygonDefect, distanceBetweenPoints, findPolygonDefect } from '@vigil/geometry';

interface GeometryInput {
  zones: { polygon: readonly (readonly [number, number])[] }[];
  lines: { start: readonly [number, number]; end: readonly [number, number] }[];
}

/** A line shorter than this (normalised units, about 1 px on a 1000 px frame) cannot be crossed reliably. */
export const MIN_LINE_LENGTH = 0.001;

/** Shape checks the schema alone cannot express: simple polygons and lines of non-zero length. */
export function configGeometryIssues(cfg: GeometryInput): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  cfg.zones.forEach((zone, i) => {
    if (zone.polygon.length < 3) return; // already reported by the schema
    const defect = findPolygonDefect(zone.polygon);
    if (defect) issues.push({ path: ['zones', i, 'polygon'], message: describePolygonDefect(defect) });
  });
  cfg.lines.forEach((line, i) => {
    if (distanceBetweenPoints(line.start, line.end) < MIN_LINE_LENGTH) {
      issues.push({ path: ['lines', i, 'end'], message: 'line has zero length (start and end coincide)' });
    }
  });
  return issues;
}
