import { DEAD_LETTER_PAYLOAD_BYTES } from '../database/repositories/dead-letter.repository';
import {
  DeliverySchema,
  MAX_BATCH_BYTES,
  MESSAGES,
  topics,
  type EdgeCameraKind,
  type EdgeNodeKind,
  type NodeRef,
  type ParsedTopic,
} from '@vigil/contracts';
import type { DataError } from './batch-splitter';
import type { DeadLetter, IngestItem, SeqSlot } from './ingest.types';

const EnvelopeSchema = DeliverySchema.pick({ bootId: true, seq: true });

/** The (bootId, seq) of a refused message, when both are there and valid; the rest of it may be anything. */
export function readEnvelope(message: unknown): { bootId: string; seq: number } | null {
  const r = EnvelopeSchema.safeParse(message);
  return r.success ? r.data : null;
}

/**
 * The envelope of a refused payload as it arrived on its own topic: JSON, or the evidence frame's header. Only on
 * the refusal path (the payload is parsed a second time); payloads larger than any valid message are not read.
 */
export function readPayloadEnvelope(kind: string, payload: Buffer): { bootId: string; seq: number } | null {
  if (payload.length > MAX_BATCH_BYTES) return null;
  try {
    if (kind !== 'evidence_jpeg') return readEnvelope(JSON.parse(payload.toString('utf8')));
    if (payload.length < 4) return null;
    const headLen = payload.readUInt32BE(0);
    if (headLen === 0 || 4 + headLen > payload.length) return null;
    return readEnvelope(JSON.parse(payload.subarray(4, 4 + headLen).toString('utf8')));
  } catch {
    return null;
  }
}

/**
 * The seq a message refused at validation closes, or null. The stream's site and node come from the topic only
 * (a batch entry's from its batch's topic), never from the payload; only sequenced edge kinds have a place in it.
 */
export function refusedSlot(
  topic: ParsedTopic | null,
  envelope: () => { bootId: string; seq: number } | null,
  batchNode?: NodeRef,
): SeqSlot | null {
  const node = batchNode ?? (topic && topic.root === 'edge' && MESSAGES[topic.kind].sequenced ? topic : null);
  if (!node) return null;
  const e = envelope();
  return e ? { siteId: node.siteId, nodeId: node.nodeId, bootId: e.bootId, seq: e.seq } : null;
}

/** Envelope fields every stored edge message has (the evidence image carries them in its header). */
export function itemEnvelope(item: IngestItem): { bootId: string; seq?: number } {
  const m = item.message as { bootId?: string; seq?: number; header?: { bootId: string; seq: number } };
  return m.header ?? { bootId: m.bootId ?? '', seq: m.seq };
}

/** The topic an item came from, rebuilt from its identity (which came from that topic). */
export function itemTopic(item: IngestItem): string {
  return item.cameraId
    ? topics.edgeCamera(item.kind as EdgeCameraKind, {
        siteId: item.siteId,
        nodeId: item.nodeId,
        cameraId: item.cameraId,
      })
    : topics.edgeNode(item.kind as EdgeNodeKind, { siteId: item.siteId, nodeId: item.nodeId });
}

/** Dead-letter code of a message the database refused: `DB_` and its SQLSTATE, e.g. `DB_22021`. */
export function databaseRefusalCode(error: DataError): string {
  return `DB_${error.code}`;
}

/**
 * The dead letter of a validated item the database refused (found by bisecting its batch): the database's error,
 * the message as validated (the evidence image's header, not its bytes), and its seq to close as rejected.
 */
export function refusedItemDeadLetter(item: IngestItem, error: DataError): DeadLetter {
  const m = item.message as { header?: unknown };
  const bytes = Buffer.from(JSON.stringify(m.header ?? item.message) ?? 'null', 'utf8');
  const { bootId, seq } = itemEnvelope(item);
  const detail = error.detail ? ` (${error.detail})` : '';
  return {
    topic: itemTopic(item),
    code: databaseRefusalCode(error),
    path: null,
    reason: `database refused it: SQLSTATE ${error.code}: ${error.message}${detail}`,
    payload: bytes.subarray(0, DEAD_LETTER_PAYLOAD_BYTES),
    payloadBytes: bytes.length,
    receivedAt: item.receivedAt,
    slot: seq === undefined ? null : { siteId: item.siteId, nodeId: item.nodeId, bootId, seq },
  };
}
