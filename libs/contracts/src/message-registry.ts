import { z } from 'zod';
import { CrossingSchema, LineCountSchema } from './count.schema';
import { ConfigAckSchema, EdgeConfigSchema } from './config.schema';
import {
  CommitAckSchema,
  DeliveryGapSchema,
  EdgeBatchSchema,
  MAX_BATCH_ENTRIES,
  ReplayRequestSchema,
  type EdgeBatch,
} from './delivery.schema';
import { CameraStatusSchema, HeartbeatSchema, NodeStatusSchema } from './edge-status.schema';
import { DetectionEventSchema } from './event.schema';
import {
  EvidenceJpegHeaderSchema,
  EvidenceMetaSchema,
  MAX_EVIDENCE_BYTES,
  SnapshotRequestSchema,
  splitEvidenceJpeg,
} from './evidence.schema';
import {
  CENTRE_KINDS,
  parseTopic,
  topics,
  type CentreKind,
  type EdgeKind,
  type NodeRef,
  type ParsedTopic,
  type TopicKind,
} from './topics';

interface MessageSpec<S extends z.ZodType> {
  schema: S;
  /** Retained topics hold the latest state for late subscribers. */
  retained: boolean;
  /** Sequenced messages go through the edge outbox and carry (bootId, seq). */
  sequenced: boolean;
  maxBytes: number;
}

const JSON_MAX = 64 * 1024;
/** Largest `batch` message: up to MAX_BATCH_ENTRIES entries of a few hundred bytes each, with room to spare. */
export const MAX_BATCH_BYTES = 1024 * 1024;

/** The one table of every message: topic kind -> schema and delivery properties. */
export const MESSAGES = {
  // Sequenced like every status the node publishes itself; the one exception is the MQTT last will (fixed at
  // connect time, so it carries no seq), which the schema admits and ingest leaves out of the sequence.
  node_status: { schema: NodeStatusSchema, retained: true, sequenced: true, maxBytes: JSON_MAX },
  heartbeat: { schema: HeartbeatSchema, retained: false, sequenced: true, maxBytes: JSON_MAX },
  config_ack: { schema: ConfigAckSchema, retained: false, sequenced: true, maxBytes: JSON_MAX },
  // Not sequenced: it must get through exactly when the outbox is stalled by the hole it reports (see README).
  delivery_gap: { schema: DeliveryGapSchema, retained: false, sequenced: false, maxBytes: JSON_MAX },
  // The envelope is not sequenced; every entry in it is (see unpackBatch).
  batch: { schema: EdgeBatchSchema, retained: false, sequenced: false, maxBytes: MAX_BATCH_BYTES },
  camera_status: { schema: CameraStatusSchema, retained: true, sequenced: true, maxBytes: JSON_MAX },
  event: { schema: DetectionEventSchema, retained: false, sequenced: true, maxBytes: JSON_MAX },
  count: { schema: LineCountSchema, retained: false, sequenced: true, maxBytes: JSON_MAX },
  crossing: { schema: CrossingSchema, retained: false, sequenced: true, maxBytes: JSON_MAX },
  evidence: { schema: EvidenceMetaSchema, retained: false, sequenced: true, maxBytes: JSON_MAX },
  evidence_jpeg: {
    schema: EvidenceJpegHeaderSchema,
    retained: false,
    sequenced: true,
    maxBytes: 4 + 4096 + MAX_EVIDENCE_BYTES,
  },
  config: { schema: EdgeConfigSchema, retained: true, sequenced: false, maxBytes: 1024 * 1024 },
  commit: { schema: CommitAckSchema, retained: false, sequenced: false, maxBytes: JSON_MAX },
  replay: { schema: ReplayRequestSchema, retained: false, sequenced: false, maxBytes: JSON_MAX },
  snapshot: { schema: SnapshotRequestSchema, retained: false, sequenced: false, maxBytes: JSON_MAX },
} as const satisfies Record<TopicKind, MessageSpec<z.ZodType>>;

export type MessageOf<K extends TopicKind> = K extends 'evidence_jpeg'
  ? { header: z.infer<typeof EvidenceJpegHeaderSchema>; jpeg: Buffer }
  : z.output<(typeof MESSAGES)[K]['schema']>;
/** What a producer writes (defaults not yet applied). */
export type MessageInputOf<K extends Exclude<TopicKind, 'evidence_jpeg'>> = z.input<(typeof MESSAGES)[K]['schema']>;

export const CONTRACT_ERROR_CODES = [
  'UNKNOWN_TOPIC',
  'PAYLOAD_TOO_LARGE',
  'NOT_JSON',
  'BAD_FRAME',
  'INVALID_PAYLOAD',
] as const;
export type ContractErrorCode = (typeof CONTRACT_ERROR_CODES)[number];

export interface ContractError {
  code: ContractErrorCode;
  /** Dotted path of the first offending field ('' when the whole payload is at fault). */
  path: string;
  /** Human reason naming the field, e.g. `seq: Too small: expected number to be >=1`. */
  reason: string;
}

export type ParsedMessage = {
  [K in TopicKind]: { ok: true; kind: K; topic: ParsedTopic & { kind: K }; message: MessageOf<K> };
}[TopicKind];
export type ParseResult = ParsedMessage | { ok: false; topic: ParsedTopic | null; error: ContractError };

export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** Turns zod issues into one readable reason that names every offending field path (at most five). */
export function describeZodError(error: z.ZodError): ContractError {
  const issues = error.issues;
  const first = issues[0];
  const parts = issues.slice(0, 5).map((i) => `${formatIssuePath(i.path) || '(root)'}: ${i.message}`);
  if (issues.length > 5) parts.push(`… and ${issues.length - 5} more`);
  return { code: 'INVALID_PAYLOAD', path: first ? formatIssuePath(first.path) : '', reason: parts.join('; ') };
}

function fail(topic: ParsedTopic | null, code: ContractErrorCode, reason: string, path = ''): ParseResult {
  return { ok: false, topic, error: { code, path, reason } };
}

/**
 * Validates one MQTT message against the contract its topic names. Never throws: anything malformed comes back
 * as a ContractError whose reason names the field path, ready for a dead-letter row.
 */
export function parseMessage(topic: string, payload: Buffer | Uint8Array): ParseResult {
  const parsedTopic = parseTopic(topic);
  if (!parsedTopic) return fail(null, 'UNKNOWN_TOPIC', `topic "${topic.slice(0, 200)}" is not a Vigil v1 topic`);
  const spec = MESSAGES[parsedTopic.kind];
  if (payload.length > spec.maxBytes) {
    return fail(parsedTopic, 'PAYLOAD_TOO_LARGE', `payload of ${payload.length} bytes exceeds ${spec.maxBytes}`);
  }
  const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  if (parsedTopic.kind === 'evidence_jpeg') {
    const frame = splitEvidenceJpeg(buf);
    if ('error' in frame) return fail(parsedTopic, 'BAD_FRAME', frame.error);
    const header = EvidenceJpegHeaderSchema.safeParse(frame.header);
    if (!header.success) return { ok: false, topic: parsedTopic, error: describeZodError(header.error) };
    return {
      ok: true,
      kind: 'evidence_jpeg',
      topic: parsedTopic as ParsedTopic & { kind: 'evidence_jpeg' },
      message: { header: header.data, jpeg: frame.jpeg },
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch {
    return fail(parsedTopic, 'NOT_JSON', 'payload is not valid UTF-8 JSON');
  }
  const result = spec.schema.safeParse(json);
  if (!result.success) return { ok: false, topic: parsedTopic, error: describeZodError(result.error) };
  return { ok: true, kind: parsedTopic.kind, topic: parsedTopic, message: result.data } as ParsedMessage;
}

/**
 * Kinds an edge may put into a `batch`: sequenced (each entry keeps its own bootId and seq, so commit acks and
 * replays work per entry), not retained (a retained value needs its own topic), JSON (not the binary evidence frame).
 */
export const BATCHABLE_KINDS = (Object.keys(MESSAGES) as TopicKind[]).filter(
  (k): k is Exclude<EdgeKind, 'evidence_jpeg'> =>
    k !== 'evidence_jpeg' &&
    MESSAGES[k].sequenced &&
    !MESSAGES[k].retained &&
    !(CENTRE_KINDS as readonly string[]).includes(k),
);

export interface BatchEntryResult {
  /** The entry's full topic (the batch's node and the entry's own suffix): what a dead letter records. */
  topic: string;
  result: ParseResult;
}

/**
 * Validates every entry of a `batch` as if it had arrived alone on its own topic below the batch's node. Never
 * throws; one result per entry, in order, so a bad entry can be dead-lettered without losing its neighbours.
 */
export function unpackBatch(node: NodeRef, batch: EdgeBatch): BatchEntryResult[] {
  const prefix = topics.edgeNodePrefix(node);
  return batch.entries.map(({ topic: suffix, message }, i) => {
    const topic = prefix + suffix;
    const parsedTopic = parseTopic(topic);
    if (!parsedTopic || !(BATCHABLE_KINDS as readonly string[]).includes(parsedTopic.kind)) {
      return {
        topic,
        result: fail(
          parsedTopic,
          'UNKNOWN_TOPIC',
          `batch entry ${i}: "${suffix.slice(0, 200)}" is not a topic of a batchable kind (${BATCHABLE_KINDS.join(', ')})`,
          `entries.${i}.topic`,
        ),
      };
    }
    const result = MESSAGES[parsedTopic.kind].schema.safeParse(message);
    if (!result.success)
      return { topic, result: { ok: false, topic: parsedTopic, error: describeZodError(result.error) } };
    return {
      topic,
      result: { ok: true, kind: parsedTopic.kind, topic: parsedTopic, message: result.data } as ParsedMessage,
    };
  });
}

/**
 * What a subscriber sees in one MQTT message: the message itself, or, for a `batch`, each entry as if it had
 * arrived alone (in order; an invalid entry as its own failed result). A malformed batch envelope is one failure.
 */
export function parseMessages(topic: string, payload: Buffer | Uint8Array): ParseResult[] {
  const r = parseMessage(topic, payload);
  if (!r.ok || r.kind !== 'batch') return [r];
  return unpackBatch(r.topic, r.message).map((e) => e.result);
}

/**
 * The bytes of a `batch` message built from already-encoded entries (each one exactly the payload it would have
 * had on its own topic), without parsing them again. `suffix` is the entry's topic below the node.
 */
export function encodeBatch(entries: readonly { suffix: string; payload: Buffer }[]): Buffer {
  if (entries.length < 1 || entries.length > MAX_BATCH_ENTRIES) {
    throw new RangeError(`a batch holds 1 to ${MAX_BATCH_ENTRIES} entries, got ${entries.length}`);
  }
  const parts: Buffer[] = [Buffer.from('{"entries":[')];
  entries.forEach((e, i) => {
    parts.push(Buffer.from(`${i ? ',' : ''}{"topic":${JSON.stringify(e.suffix)},"message":`), e.payload, CLOSE);
  });
  parts.push(Buffer.from(']}'));
  return Buffer.concat(parts);
}
const CLOSE = Buffer.from('}');

/** Validates and serialises a JSON message for publishing; throws on a contract violation (a bug in the producer). */
export function encodeMessage<K extends Exclude<TopicKind, 'evidence_jpeg'>>(
  kind: K,
  message: MessageInputOf<K>,
): Buffer {
  const result = MESSAGES[kind].schema.safeParse(message);
  if (!result.success) {
    const e = describeZodError(result.error);
    throw new TypeError(`refusing to publish an invalid ${kind} message: ${e.reason}`);
  }
  return Buffer.from(JSON.stringify(result.data), 'utf8');
}

export type { CentreKind, EdgeKind };
