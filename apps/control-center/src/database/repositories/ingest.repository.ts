import { createHash } from 'node:crypto';
import type {
  CameraStatus,
  ConfigAck,
  Crossing,
  DetectionEvent,
  EdgeKind,
  EvidenceMeta,
  Heartbeat,
  LineCount,
  MessageOf,
  NodeStatus,
} from '@vigil/contracts';
import type { PoolClient } from 'pg';
import type { Database } from '../database.types';
import {
  PARTITIONED_TABLES,
  partitionsOf,
  utcDay,
  type PartitionRepository,
  type PartitionedTable,
} from './partition.repository';
import { RetentionPolicyRepository } from './retention-policy.repository';
import { ColumnBatch, arrayLiteral, numberArrayLiteral, textArrayLiteral, type UnnestColumn } from './unnest';

/**
 * Edge kinds stored as messages. `batch` is unpacked into its entries on arrival. `delivery_gap` is not one: it
 * changes the delivery state and is kept in
 * `delivery_losses` (see PgIngestStore).
 */
export type StoredEdgeKind = Exclude<EdgeKind, 'delivery_gap' | 'batch'>;

/** A validated edge message ready for storage; site, node and camera come from the topic, never the payload. */
export interface IngestItem {
  kind: StoredEdgeKind;
  siteId: string;
  nodeId: string;
  cameraId: string | null;
  message: MessageOf<StoredEdgeKind>;
  receivedAt: Date;
}

/** An item the database will not store, with the reason (for a dead letter). Its seq still counts as handled. */
export interface RejectedItem {
  item: IngestItem;
  code: 'NOT_STORABLE';
  reason: string;
}

export interface InsertBatchResult {
  /** Messages stored by this call. */
  inserted: number;
  /** Messages already stored (a replay or a redelivery). */
  duplicates: number;
  /** Messages refused (time outside what the tables keep, camera kind without camera, hash mismatch). */
  rejected: RejectedItem[];
}

/** Messages further in the future than this are a broken edge clock, not data. */
export const MAX_FUTURE_MS = 86_400_000;

const CAMERA_KINDS = new Set<StoredEdgeKind>([
  'camera_status',
  'event',
  'count',
  'crossing',
  'evidence',
  'evidence_jpeg',
]);

/** Where each kind is stored and which of its times decides the partition (and the retention window). */
const STORAGE: Record<StoredEdgeKind, { table: string; also?: PartitionedTable[]; time: (m: never) => string }> = {
  event: { table: 'detection_events', time: (m: DetectionEvent) => m.ts },
  count: { table: 'line_counts', also: ['count_intervals'], time: (m: LineCount) => m.intervalStart },
  crossing: { table: 'line_crossings', time: (m: Crossing) => m.ts },
  evidence: { table: 'evidence', time: (m: EvidenceMeta) => m.ts },
  evidence_jpeg: { table: 'evidence_images', time: (m: MessageOf<'evidence_jpeg'>) => m.header.ts },
  camera_status: { table: 'camera_status', time: (m: CameraStatus) => m.ts },
  node_status: { table: 'node_status', time: (m: NodeStatus) => m.ts },
  heartbeat: { table: 'heartbeats', time: (m: Heartbeat) => m.ts },
  config_ack: { table: 'config_acks', time: (m: ConfigAck) => m.ts },
};

const col = (name: string, type: string, castTo?: string): UnnestColumn => ({ name, type, castTo });
const envelope = [
  col('boot_id', 'uuid'),
  col('seq', 'int8'),
  col('ts', 'timestamptz'),
  col('received_at', 'timestamptz'),
];

const EVENT_COLUMNS = [
  col('site_id', 'text'),
  col('node_id', 'text'),
  col('camera_id', 'text'),
  ...envelope,
  col('event_id', 'uuid'),
  col('phase', 'text'),
  col('kind', 'text'),
  col('rule_id', 'text'),
  col('zone_id', 'text'),
  col('object_class', 'text'),
  col('track_id', 'int4'),
  col('score', 'float4'),
  col('max_score', 'float4'),
  col('box', 'text', 'real[]'),
  col('started_at', 'timestamptz'),
  col('ended_at', 'timestamptz'),
  col('end_reason', 'text'),
  col('dwell_seconds', 'float8'),
  col('pedestrians_present', 'int4'),
  col('evidence_id', 'uuid'),
  col('evidence_sha256', 'text'),
  col('model_id', 'text'),
  // Index into the batch's distinct provenance documents (a batch has one or two models, not 2,000).
  col('model_idx', 'int4'),
];

const COUNT_INTERVAL_COLUMNS = [
  col('site_id', 'text'),
  col('node_id', 'text'),
  col('camera_id', 'text'),
  ...envelope,
  col('line_id', 'text'),
  col('interval_start', 'timestamptz'),
  col('interval_end', 'timestamptz'),
  col('row_count', 'int4'),
  col('total', 'int4'),
];

/** Rows of a count message, joined to the messages actually inserted (so a replay adds none). */
const COUNT_ROW_COLUMNS = [
  col('site_id', 'text'),
  col('node_id', 'text'),
  col('boot_id', 'uuid'),
  col('seq', 'int8'),
  col('object_class', 'text'),
  col('direction', 'text'),
  col('count', 'int4'),
];

const CROSSING_COLUMNS = [
  col('site_id', 'text'),
  col('node_id', 'text'),
  col('camera_id', 'text'),
  ...envelope,
  col('crossing_id', 'uuid'),
  col('line_id', 'text'),
  col('track_id', 'int4'),
  col('object_class', 'text'),
  col('direction', 'text'),
  col('at', 'timestamptz'),
  col('point', 'text', 'real[]'),
  col('score', 'float4'),
];

const EVIDENCE_COLUMNS = [
  col('site_id', 'text'),
  col('node_id', 'text'),
  col('camera_id', 'text'),
  ...envelope,
  col('evidence_id', 'uuid'),
  col('event_id', 'uuid'),
  col('captured_at', 'timestamptz'),
  col('content_type', 'text'),
  col('bytes', 'int4'),
  col('width', 'int4'),
  col('height', 'int4'),
  col('sha256', 'text'),
  col('box', 'text', 'real[]'),
  col('persons_blurred', 'int4'),
  col('privacy_zones', 'text', 'text[]'),
];

const IMAGE_COLUMNS = [
  col('site_id', 'text'),
  col('node_id', 'text'),
  col('camera_id', 'text'),
  ...envelope,
  col('evidence_id', 'uuid'),
  col('sha256', 'text'),
  col('bytes', 'int4'),
  col('image', 'bytea'),
];

const CAMERA_STATUS_COLUMNS = [
  col('site_id', 'text'),
  col('node_id', 'text'),
  col('camera_id', 'text'),
  ...envelope,
  col('state', 'text'),
  col('reason', 'text'),
  col('attempt', 'int4'),
  col('next_retry_ms', 'int4'),
  col('frame_width', 'int4'),
  col('frame_height', 'int4'),
];

const NODE_STATUS_COLUMNS = [
  col('site_id', 'text'),
  col('node_id', 'text'),
  ...envelope,
  col('state', 'text'),
  col('reason', 'text'),
  col('version', 'text'),
  col('config_version', 'int4'),
  col('cameras', 'text', 'text[]'),
];

const HEARTBEAT_COLUMNS = [
  col('site_id', 'text'),
  col('node_id', 'text'),
  ...envelope,
  col('uptime_s', 'float8'),
  col('config_version', 'int4'),
  col('cameras', 'jsonb'),
  col('outbox_depth', 'int4'),
  col('outbox_bytes', 'int8'),
  col('outbox_oldest_age_s', 'float8'),
  col('outbox_evicted', 'jsonb'),
  col('outbox_evicted_total', 'int8'),
];

const CONFIG_ACK_COLUMNS = [
  col('site_id', 'text'),
  col('node_id', 'text'),
  ...envelope,
  col('config_version', 'int4'),
  col('status', 'text'),
  col('errors', 'jsonb'),
];

let lastDate: Date | null = null;
let lastIso = '';
/** A receive time as text. A batch message's entries share one Date object: consecutive rows reuse the string. */
function iso(d: Date): string {
  if (d !== lastDate) {
    lastDate = d;
    lastIso = d.toISOString();
  }
  return lastIso;
}

/** Sequence number as stored: the MQTT last will carries none and is stored as 0 (real seqs start at 1). */
function seqOf(m: { seq?: number }): number {
  return m.seq ?? 0;
}

/**
 * Stores batches of validated edge messages of every kind. One transaction per batch, one multi-row statement per
 * kind, `ON CONFLICT DO NOTHING` on the message identity (site, node, boot, seq [+ partition time]): a replay or a
 * redelivery is counted as a duplicate and changes nothing.
 */
export class IngestRepository {
  private keepMs: Map<string, number> | null = null;
  private readonly partitions: PartitionRepository | null;
  private readonly retention: RetentionPolicyRepository;

  constructor(private readonly db: Pick<Database, 'pool' | 'flavour'>) {
    this.partitions = db.flavour === 'postgres' ? partitionsOf(db) : null;
    this.retention = new RetentionPolicyRepository(db);
  }

  /**
   * Checks what can be stored and, on plain PostgreSQL, creates any day partition the batch needs. Runs outside any
   * transaction (partition DDL commits on its own); `insertBatch` calls it when it owns the transaction, a caller
   * that passes its own client calls it before BEGIN.
   */
  async prepare(
    items: readonly IngestItem[],
    now = new Date(),
  ): Promise<{ storable: IngestItem[]; rejected: RejectedItem[] }> {
    this.keepMs ??= await this.retention.load();
    const storable: IngestItem[] = [];
    const rejected: RejectedItem[] = [];
    const days = new Map<string, [PartitionedTable, number]>();
    for (const item of items) {
      const reason = this.unstorableReason(item, now);
      if (reason) {
        rejected.push({ item, code: 'NOT_STORABLE', reason });
        continue;
      }
      storable.push(item);
      if (this.partitions) {
        const { table, also, time } = STORAGE[item.kind];
        const day = utcDay(Date.parse((time as (m: MessageOf<StoredEdgeKind>) => string)(item.message)));
        for (const t of [table, ...(also ?? [])]) {
          if (t in PARTITIONED_TABLES) days.set(`${t}:${day}`, [t as PartitionedTable, day]);
        }
      }
    }
    if (this.partitions && days.size > 0) await this.partitions.ensure(days.values());
    return { storable, rejected };
  }

  private unstorableReason(item: IngestItem, now: Date): string | null {
    if (CAMERA_KINDS.has(item.kind) && !item.cameraId) return `${item.kind} message without a camera id`;
    const { table, time } = STORAGE[item.kind];
    const at = Date.parse((time as (m: MessageOf<StoredEdgeKind>) => string)(item.message));
    const keep = this.keepMs?.get(table);
    if (at > now.getTime() + MAX_FUTURE_MS) {
      return `${item.kind} time ${new Date(at).toISOString()} is more than a day ahead of the centre's clock`;
    }
    if (keep !== undefined && at < now.getTime() - keep) {
      return `${item.kind} time ${new Date(at).toISOString()} is older than the ${table} retention`;
    }
    if (item.kind === 'evidence_jpeg') {
      const { header, jpeg } = item.message as MessageOf<'evidence_jpeg'>;
      const actual = createHash('sha256').update(jpeg).digest('hex');
      if (actual !== header.sha256)
        return `evidence image sha256 ${actual} does not match the header's ${header.sha256}`;
    }
    return null;
  }

  /**
   * Stores a batch. Without `client` it runs its own transaction; with one it joins the caller's (who must have
   * called `prepare` first, outside the transaction, and passes only the storable items).
   */
  async insertBatch(items: readonly IngestItem[], client?: PoolClient): Promise<InsertBatchResult> {
    if (client) {
      const inserted = await this.write(items, client);
      return { inserted, duplicates: items.length - inserted, rejected: [] };
    }
    const { storable, rejected } = await this.prepare(items);
    const own = await this.db.pool.connect();
    try {
      await own.query('BEGIN');
      const inserted = await this.write(storable, own);
      await own.query('COMMIT');
      return { inserted, duplicates: storable.length - inserted, rejected };
    } catch (err) {
      await own.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      own.release();
    }
  }

  private async write(items: readonly IngestItem[], client: PoolClient): Promise<number> {
    const byKind = new Map<StoredEdgeKind, IngestItem[]>();
    for (const it of items) {
      const list = byKind.get(it.kind);
      if (list) list.push(it);
      else byKind.set(it.kind, [it]);
    }
    let inserted = 0;
    try {
      for (const [kind, list] of byKind) inserted += await this.writeKind(kind, list, client);
    } catch (err) {
      // A partition dropped or created behind this process's back: re-read the catalog before the retry.
      if ((err as { code?: string }).code === '23514' && /no partition/.test((err as Error).message)) {
        this.partitions?.invalidate();
      }
      throw err;
    }
    return inserted;
  }

  private writeKind(kind: StoredEdgeKind, items: IngestItem[], client: PoolClient): Promise<number> {
    switch (kind) {
      case 'event':
        return this.insertEvents(items, client);
      case 'count':
        return this.insertCounts(items, client);
      case 'crossing':
        return this.insertSimple('line_crossings', CROSSING_COLUMNS, items, client, (m: Crossing) => [
          m.crossingId,
          m.lineId,
          m.trackId,
          m.objectClass,
          m.direction,
          m.at,
          numberArrayLiteral(m.point),
          m.score,
        ]);
      case 'evidence':
        return this.insertSimple('evidence', EVIDENCE_COLUMNS, items, client, (m: EvidenceMeta) => [
          m.evidenceId,
          m.eventId,
          m.capturedAt,
          m.contentType,
          m.bytes,
          m.width,
          m.height,
          m.sha256,
          numberArrayLiteral(m.box),
          m.masking.personsBlurred,
          textArrayLiteral(m.masking.privacyZones),
        ]);
      case 'evidence_jpeg':
        return this.insertImages(items, client);
      case 'camera_status':
        return this.insertSimple('camera_status', CAMERA_STATUS_COLUMNS, items, client, (m: CameraStatus) => [
          m.state,
          m.reason,
          m.attempt,
          m.nextRetryMs,
          m.frameSize?.width ?? null,
          m.frameSize?.height ?? null,
        ]);
      case 'node_status':
        return this.insertSimple('node_status', NODE_STATUS_COLUMNS, items, client, (m: NodeStatus) => [
          m.state,
          m.reason ?? null,
          m.version,
          m.configVersion,
          textArrayLiteral(m.cameras),
        ]);
      case 'heartbeat':
        return this.insertSimple('heartbeats', HEARTBEAT_COLUMNS, items, client, (m: Heartbeat) => [
          m.uptimeS,
          m.configVersion,
          JSON.stringify(m.cameras),
          m.outbox.depth,
          m.outbox.bytes,
          m.outbox.oldestAgeS,
          JSON.stringify(m.outbox.evicted),
          Object.values(m.outbox.evicted).reduce((a, b) => a + b, 0),
        ]);
      case 'config_ack':
        return this.insertSimple('config_acks', CONFIG_ACK_COLUMNS, items, client, (m: ConfigAck) => [
          m.configVersion,
          m.status,
          JSON.stringify(m.errors),
        ]);
    }
  }

  /** Kinds whose rows are identity columns (site, node[, camera], envelope) followed by their own columns. */
  private async insertSimple<M extends { bootId: string; seq?: number; ts: string }>(
    table: string,
    columns: UnnestColumn[],
    items: IngestItem[],
    client: PoolClient,
    own: (m: M) => (string | number | null)[],
  ): Promise<number> {
    const batch = new ColumnBatch(columns);
    const hasCamera = columns[2].name === 'camera_id';
    for (const it of items) {
      const m = it.message as unknown as M;
      const identity = hasCamera ? [it.siteId, it.nodeId, it.cameraId] : [it.siteId, it.nodeId];
      batch.push(...identity, m.bootId, seqOf(m), m.ts, iso(it.receivedAt), ...own(m));
    }
    const res = await client.query(
      `INSERT INTO ${table} (${batch.names}) ${batch.select('u')} ON CONFLICT DO NOTHING`,
      batch.params,
    );
    return res.rowCount ?? 0;
  }

  private async insertEvents(items: IngestItem[], client: PoolClient): Promise<number> {
    const batch = new ColumnBatch(EVENT_COLUMNS);
    // Parsing JSON inside an array literal is the costliest part of binding a batch: send each distinct
    // provenance document once.
    const models: string[] = [];
    const modelIndex = new Map<string, number>();
    for (const it of items) {
      const m = it.message as DetectionEvent;
      const model = JSON.stringify(m.model);
      let idx = modelIndex.get(model);
      if (idx === undefined) {
        idx = models.push(model);
        modelIndex.set(model, idx);
      }
      batch.push(
        it.siteId,
        it.nodeId,
        it.cameraId,
        m.bootId,
        m.seq,
        m.ts,
        iso(it.receivedAt),
        m.eventId,
        m.phase,
        m.kind,
        m.ruleId,
        m.zoneId,
        m.objectClass,
        m.trackId,
        m.score,
        m.maxScore,
        numberArrayLiteral(m.box),
        m.startedAt,
        m.endedAt,
        m.endReason,
        m.dwellSeconds,
        m.pedestriansPresent,
        m.evidence?.evidenceId ?? null,
        m.evidence?.sha256 ?? null,
        m.model.modelId,
        idx,
      );
    }
    const modelsParam = batch.columns.length + 1;
    const names = batch.names.replace('model_idx', 'model');
    const select = batch.select('u').replace('u.model_idx', `($${modelsParam}::jsonb[])[u.model_idx]`);
    const res = await client.query(`INSERT INTO detection_events (${names}) ${select} ON CONFLICT DO NOTHING`, [
      ...batch.params,
      arrayLiteral('jsonb', models),
    ]);
    return res.rowCount ?? 0;
  }

  private async insertCounts(items: IngestItem[], client: PoolClient): Promise<number> {
    const messages = new ColumnBatch(COUNT_INTERVAL_COLUMNS);
    const rows = new ColumnBatch(COUNT_ROW_COLUMNS);
    for (const it of items) {
      const m = it.message as LineCount;
      // One row per (class, direction): a message that lists a pair twice is summed, not half-dropped.
      const perPair = new Map<string, { objectClass: string; direction: string; count: number }>();
      for (const c of m.counts) {
        const key = `${c.objectClass}/${c.direction}`;
        const row = perPair.get(key);
        if (row) row.count += c.count;
        else perPair.set(key, { ...c });
      }
      const total = m.counts.reduce((a, c) => a + c.count, 0);
      messages.push(
        it.siteId,
        it.nodeId,
        it.cameraId,
        m.bootId,
        m.seq,
        m.ts,
        iso(it.receivedAt),
        m.lineId,
        m.intervalStart,
        m.intervalEnd,
        perPair.size,
        total,
      );
      for (const c of perPair.values())
        rows.push(it.siteId, it.nodeId, m.bootId, m.seq, c.objectClass, c.direction, c.count);
    }
    const first = messages.columns.length + 1;
    // Plain PostgreSQL: mark the touched 15-minute buckets for the rollup refresh, in this same transaction.
    const dirty =
      this.db.flavour === 'postgres'
        ? `, dirty AS (
             INSERT INTO flow_dirty (site_id, node_id, camera_id, line_id, bucket)
             SELECT DISTINCT site_id, node_id, camera_id, line_id,
                    date_bin(INTERVAL '15 minutes', interval_start, TIMESTAMPTZ '2000-01-01 00:00:00+00')
             FROM msg WHERE row_count > 0
             ON CONFLICT (site_id, node_id, camera_id, line_id, bucket) DO UPDATE SET touched = flow_dirty.touched + 1
           )`
        : '';
    const { rows: result } = await client.query<{ inserted: number }>(
      `WITH msg AS (
         INSERT INTO count_intervals (${messages.names}) ${messages.select('u')}
         ON CONFLICT DO NOTHING
         RETURNING site_id, node_id, camera_id, line_id, boot_id, seq, ts, received_at, interval_start, interval_end,
                   row_count
       ),
       cnt AS (
         INSERT INTO line_counts (interval_start, interval_end, site_id, node_id, camera_id, line_id, object_class,
                                  direction, count, boot_id, seq, ts, received_at)
         SELECT msg.interval_start, msg.interval_end, msg.site_id, msg.node_id, msg.camera_id, msg.line_id,
                r.object_class, r.direction, r.count, msg.boot_id, msg.seq, msg.ts, msg.received_at
         FROM (${rows.select('r0', first)}) AS r
         JOIN msg USING (site_id, node_id, boot_id, seq)
         ON CONFLICT DO NOTHING
       )${dirty}
       SELECT count(*)::int AS inserted FROM msg`,
      [...messages.params, ...rows.params],
    );
    return result[0].inserted;
  }

  private async insertImages(items: IngestItem[], client: PoolClient): Promise<number> {
    const batch = new ColumnBatch(IMAGE_COLUMNS);
    for (const it of items) {
      const { header, jpeg } = it.message as MessageOf<'evidence_jpeg'>;
      batch.push(
        it.siteId,
        it.nodeId,
        it.cameraId,
        header.bootId,
        header.seq,
        header.ts,
        iso(it.receivedAt),
        header.evidenceId,
        header.sha256,
        jpeg.length,
        jpeg,
      );
    }
    const res = await client.query(
      `INSERT INTO evidence_images (${batch.names}) ${batch.select('u')} ON CONFLICT DO NOTHING`,
      batch.params,
    );
    return res.rowCount ?? 0;
  }
}
