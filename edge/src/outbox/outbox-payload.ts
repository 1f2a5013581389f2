import {
  describeZodError,
  encodeEvidenceJpeg,
  EvidenceJpegHeaderSchema,
  MAX_EVIDENCE_BYTES,
  MESSAGES,
  topics,
  type NodeRef,
} from '@vigil/contracts';
import type { OutboxItem, OutboxKind } from './outbox.types';

/** What the outbox stores for one message: everything but the (bootId, seq) it gets when first published. */
export interface PreparedEntry {
  kind: OutboxKind;
  topic: string;
  retain: boolean;
  /** The validated message as JSON without `bootId` and `seq` (the header, for an evidence image). */
  body: Buffer;
  /** The JPEG bytes of an evidence image, null otherwise. */
  image: Buffer | null;
  /** What the entry counts against the byte bound: topic + body + image. */
  bytes: number;
  createdAt: number;
}

/**
 * Validates a message against its contract with a provisional envelope, then keeps it without `bootId`/`seq`. A
 * producer bug fails here, at the call site, not minutes later in the publisher.
 */
export function prepareEntry(item: OutboxItem, node: NodeRef, validationBootId: string, now: number): PreparedEntry {
  const ts = (item.kind === 'evidence_jpeg' ? item.header.ts : item.message.ts) ?? new Date(now).toISOString();
  const topic = topics.edge(item.kind, { ...node, cameraId: item.cameraId });
  const retain = MESSAGES[item.kind].retained;
  let bodyObject: Record<string, unknown>;
  let image: Buffer | null = null;
  if (item.kind === 'evidence_jpeg') {
    const r = EvidenceJpegHeaderSchema.safeParse({ ...item.header, bootId: validationBootId, seq: 1, ts });
    if (!r.success)
      throw new TypeError(`refusing to store an invalid evidence_jpeg header: ${describeZodError(r.error).reason}`);
    const jpeg = item.jpeg;
    if (jpeg.length < 3 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8 || jpeg[2] !== 0xff) {
      throw new TypeError('refusing to store an evidence image that is not a JPEG (missing SOI marker)');
    }
    if (jpeg.length > MAX_EVIDENCE_BYTES) {
      throw new TypeError(`refusing to store an evidence image of ${jpeg.length} bytes (limit ${MAX_EVIDENCE_BYTES})`);
    }
    bodyObject = { ...r.data };
    image = jpeg;
  } else {
    const schema = MESSAGES[item.kind].schema;
    const r = schema.safeParse({ ...item.message, bootId: validationBootId, seq: 1, ts });
    if (!r.success)
      throw new TypeError(`refusing to store an invalid ${item.kind} message: ${describeZodError(r.error).reason}`);
    bodyObject = { ...(r.data as Record<string, unknown>) };
  }
  delete bodyObject.bootId;
  delete bodyObject.seq;
  const body = Buffer.from(JSON.stringify(bodyObject), 'utf8');
  const bytes = Buffer.byteLength(topic) + body.length + (image?.length ?? 0);
  return { kind: item.kind, topic, retain, body, image, bytes, createdAt: now };
}

/**
 * The bytes on the wire once the entry has its identity. JSON messages get the envelope spliced in front of the
 * stored body (no re-parse; `ts` is already in the body); evidence images get their framed header.
 */
export function finalPayload(
  kind: OutboxKind,
  body: Buffer,
  image: Buffer | null,
  bootId: string,
  seq: number,
): Buffer {
  if (kind === 'evidence_jpeg') {
    const header = JSON.parse(body.toString('utf8')) as { ts: string; evidenceId: string; sha256: string };
    if (!image) throw new Error('evidence_jpeg entry without its image');
    return encodeEvidenceJpeg({ bootId, seq, ...header }, image);
  }
  // The body is a JSON object that always holds `ts`, so it is never `{}` and the splice stays valid JSON.
  const head = Buffer.from(`{"bootId":${JSON.stringify(bootId)},"seq":${seq},`, 'utf8');
  return Buffer.concat([head, body.subarray(1)]);
}
