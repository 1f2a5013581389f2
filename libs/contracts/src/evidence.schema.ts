import { z } from 'zod';
import {
  BoxSchema,
  DeliverySchema,
  IdSchema,
  Sha256Schema,
  TextSchema,
  TimestampSchema,
  UInt4Schema,
  UuidSchema,
} from './common.schema';

/** Evidence images are bounded so one snapshot can never clog the outbox or the broker. */
export const MAX_EVIDENCE_BYTES = 512 * 1024;

/** Metadata of one evidence snapshot; the image itself travels on the `evidence/jpeg` topic. */
export const EvidenceMetaSchema = DeliverySchema.extend({
  evidenceId: UuidSchema,
  /** Event the snapshot documents, or null for an operator-requested snapshot. */
  eventId: UuidSchema.nullable(),
  /** The operator's snapshot request this answers (`snapshot` topic), or null. */
  requestId: UuidSchema.nullable().default(null),
  capturedAt: TimestampSchema,
  contentType: z.literal('image/jpeg'),
  bytes: z.int().min(1).max(MAX_EVIDENCE_BYTES),
  width: UInt4Schema.min(1),
  height: UInt4Schema.min(1),
  sha256: Sha256Schema,
  /** The boxed object, normalised. */
  box: BoxSchema.nullable(),
  /** Privacy masking burnt in at the edge before the image left it. */
  masking: z.object({
    personsBlurred: UInt4Schema,
    privacyZones: z.array(IdSchema).max(64),
  }),
});
export type EvidenceMeta = z.infer<typeof EvidenceMetaSchema>;

/**
 * Centre -> edge: an operator asks for a snapshot of a camera now (privacy-masked like any evidence). The edge
 * answers with `evidence` (carrying this `requestId`) and `evidence/jpeg`. Who asked is for the centre's audit log.
 */
export const SnapshotRequestSchema = z.object({
  requestId: UuidSchema,
  cameraId: IdSchema,
  requestedBy: TextSchema.min(1).max(200),
  ts: TimestampSchema,
});
export type SnapshotRequest = z.infer<typeof SnapshotRequestSchema>;

/** Header of a framed evidence image: the delivery envelope plus what identifies and verifies the bytes. */
export const EvidenceJpegHeaderSchema = DeliverySchema.extend({
  evidenceId: UuidSchema,
  sha256: Sha256Schema,
});
export type EvidenceJpegHeader = z.infer<typeof EvidenceJpegHeaderSchema>;

/**
 * Binary frame for `evidence/jpeg`, so the image carries (bootId, seq) like every other message without base64:
 * `uint32 BE header length | header JSON (UTF-8) | JPEG bytes`.
 */
export function encodeEvidenceJpeg(header: EvidenceJpegHeader, jpeg: Buffer): Buffer {
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(head.length, 0);
  return Buffer.concat([len, head, jpeg]);
}

/** Splits a framed evidence payload; returns an error message instead of throwing on malformed frames. */
export function splitEvidenceJpeg(payload: Buffer): { header: unknown; jpeg: Buffer } | { error: string } {
  if (payload.length < 4) return { error: 'frame shorter than its 4-byte header length' };
  const headLen = payload.readUInt32BE(0);
  if (headLen === 0 || headLen > 4096 || 4 + headLen > payload.length) {
    return { error: `header length ${headLen} does not fit a ${payload.length}-byte frame` };
  }
  let header: unknown;
  try {
    header = JSON.parse(payload.subarray(4, 4 + headLen).toString('utf8'));
  } catch {
    return { error: 'header is not valid JSON' };
  }
  const jpeg = payload.subarray(4 + headLen);
  if (jpeg.length < 3 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8 || jpeg[2] !== 0xff) {
    return { error: 'image is not a JPEG (missing SOI marker)' };
  }
  if (jpeg.length > MAX_EVIDENCE_BYTES) return { error: `image of ${jpeg.length} bytes exceeds ${MAX_EVIDENCE_BYTES}` };
  return { header, jpeg };
}
