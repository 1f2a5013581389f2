import { DEAD_LETTER_PAYLOAD_BYTES } from '../database/repositories/dead-letter.repository';
import { randomUUID } from 'node:crypto';
import { encodeMessage, parseMessage, topics, unpackBatch, type ParseResult } from '@vigil/contracts';
import type { Logger } from '../common/logger';
import type { EventBus } from '../events/event-bus';
import type { MetricsService } from '../metrics/metrics.service';
import type { IncomingMqttMessage } from '../mqtt/mqtt.repository';
import { commitBisecting, dataErrorOf, type DataError } from './batch-splitter';
import { missingRanges, needsReplay, type SequenceState } from './sequence-tracker';
import {
  IngestStore,
  type CommittedStream,
  type DeadLetter,
  type IngestItem,
  type LossReport,
  type RecordedLoss,
  type RecordedRejection,
  type SeqSlot,
} from './ingest.types';
import { databaseRefusalCode, readEnvelope, readPayloadEnvelope, refusedItemDeadLetter, refusedSlot } from './refusal';

export interface IngestOptions {
  batchMax: number;
  batchWaitMs: number;
  queueMax: number;
  gapGraceMs: number;
  /**
   * Batches committed at once (default 1). Above 1 the database works on one batch while another waits for its
   * round trips and fsync. Safe because the delivery state rows are locked per stream in key order: two batches of
   * one stream commit one after the other, and the later one's acknowledgement covers the earlier one's.
   */
  commitConcurrency?: number;
}

/** Where acknowledgements and replay requests go (the MQTT session). */
export interface IngestPublisher {
  publish(topic: string, payload: Buffer): Promise<void>;
  resume(): void;
}

/**
 * MQTT -> database. Validates every message against the contracts, batches, commits idempotently, then tells each
 * edge what is committed (so it may drop outbox entries) and asks for a replay when a sequence hole stays open.
 * A failing database never loses a message: the batch is retried with backoff, and once the queue is full the MQTT
 * session stops reading (the broker and the edge outboxes hold the rest). A batch the database refuses for its data
 * (SQLSTATE class 22/23/54) is bisected until the refused messages are isolated: they are dead-lettered with the
 * database's error and the rest commits. A refused message whose envelope is readable closes its seq as rejected,
 * so nothing a device sends can stop ingest or hold an edge's outbox.
 */
/** One thing to commit: a validated message, an invalid one, or an announcement of lost seqs. */
type Unit = { item: IngestItem } | { dead: DeadLetter } | { loss: LossReport };

export class IngestService {
  /** Validated on arrival; a `batch` message becomes one unit per entry, so batches are sized in rows. */
  private queue: Unit[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private gapTimer: NodeJS.Timeout | null = null;
  /** Batches being committed, each with its own retry loop. */
  private readonly committing = new Set<Promise<void>>();
  /** Units in those batches: received, not yet committed, no longer in the queue. */
  private committingUnits = 0;
  private stopped = false;
  private storeHealthy = true;
  private backpressured = false;
  private readonly streams = new Map<string, CommittedStream>();
  private readonly lastReplayAt = new Map<string, number>();

  constructor(
    private readonly store: IngestStore,
    private readonly publisher: IngestPublisher,
    private readonly options: IngestOptions,
    private readonly metrics: MetricsService,
    private readonly logger: Logger,
    private readonly events: EventBus,
  ) {}

  /** Whether the last commit attempt succeeded (readiness). */
  get healthy(): boolean {
    return this.storeHealthy;
  }

  /** Received and not yet committed (queued or in a batch being committed). */
  get queueDepth(): number {
    return this.queue.length + this.committingUnits;
  }

  start(): void {
    this.gapTimer = setInterval(() => this.checkGaps(Date.now()), Math.max(20, this.options.gapGraceMs / 2));
    this.gapTimer.unref();
  }

  /** Takes one message; returns false when the queue is full and the caller must stop reading. */
  accept(msg: IncomingMqttMessage): boolean {
    this.classify(msg);
    this.metrics.ingestQueueDepth.set(this.queueDepth);
    if (this.queue.length >= this.options.batchMax) this.kick();
    else this.flushTimer ??= setTimeout(() => this.kick(), this.options.batchWaitMs);
    const hasRoom = this.queueDepth < this.options.queueMax;
    if (!hasRoom) this.backpressured = true;
    return hasRoom;
  }

  /** Commits everything queued (used on shutdown and by tests). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.committing.size > 0) {
      this.kick();
      await Promise.race(this.committing);
    }
  }

  async stop(): Promise<void> {
    if (this.gapTimer) clearInterval(this.gapTimer);
    await this.drain();
    this.stopped = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
  }

  /** Starts committing queued batches, up to the configured number at once. */
  private kick(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    const concurrency = Math.max(1, this.options.commitConcurrency ?? 1);
    while (this.queue.length > 0 && this.committing.size < concurrency) {
      // A second batch in parallel only when a full one is waiting: small batches cost a commit each.
      if (this.committing.size > 0 && this.queue.length < this.options.batchMax) break;
      const batch = this.queue.splice(0, this.options.batchMax);
      this.committingUnits += batch.length;
      const done: Promise<void> = this.commitWithRetry(batch).finally(() => {
        this.committing.delete(done);
        this.committingUnits -= batch.length;
        this.metrics.ingestQueueDepth.set(this.queueDepth);
        if (this.backpressured && this.queueDepth < this.options.queueMax / 2) {
          this.backpressured = false;
          this.publisher.resume();
        }
        if (this.queue.length > 0 && !this.stopped) this.kick();
      });
      this.committing.add(done);
    }
  }

  /** Validates one MQTT message into units on the queue; a batch is unpacked and each entry judged alone. */
  private classify(msg: IncomingMqttMessage): void {
    const r = parseMessage(msg.topic, msg.payload);
    if (r.ok && r.kind === 'batch') {
      const { entries } = r.message;
      unpackBatch(r.topic, r.message).forEach(({ topic, result }, i) => {
        // A dead letter keeps the entry's message as it stood in the batch.
        const bytes = () => Buffer.from(JSON.stringify(entries[i].message) ?? 'null', 'utf8');
        // An entry's place in the sequence: the batch's node, the entry's own envelope.
        const slot = result.ok ? noSlot : () => refusedSlot(null, () => readEnvelope(entries[i].message), r.topic);
        this.queue.push(this.unitOf(topic, result, msg.receivedAt, bytes, slot));
      });
      this.metrics.ingestBatchEntries.inc(entries.length);
      return;
    }
    const slot = r.ok
      ? noSlot
      : () => refusedSlot(r.topic, () => readPayloadEnvelope(r.topic?.kind ?? '', msg.payload));
    this.queue.push(this.unitOf(msg.topic, r, msg.receivedAt, () => msg.payload, slot));
  }

  private unitOf(
    topic: string,
    r: ParseResult,
    receivedAt: Date,
    payload: () => Buffer,
    slot: () => SeqSlot | null,
  ): Unit {
    if (r.ok && r.kind === 'delivery_gap') {
      return {
        loss: {
          siteId: r.topic.siteId,
          nodeId: r.topic.nodeId,
          reporterBootId: r.message.bootId,
          requestId: r.message.requestId,
          ts: r.message.ts,
          lost: r.message.lost,
          receivedAt,
        },
      };
    }
    if (r.ok && r.topic.root === 'edge' && r.kind !== 'batch') {
      return {
        item: {
          kind: r.kind as IngestItem['kind'],
          siteId: r.topic.siteId,
          nodeId: r.topic.nodeId,
          cameraId: 'cameraId' in r.topic ? r.topic.cameraId : null,
          message: r.message as IngestItem['message'],
          receivedAt,
        },
      };
    }
    const error = r.ok
      ? { code: 'UNKNOWN_TOPIC', path: '', reason: `centre topic "${topic}" published into the edge tree` }
      : r.error;
    const bytes = payload();
    return {
      dead: {
        topic: topic.slice(0, 512),
        code: error.code,
        path: error.path || null,
        reason: error.reason.slice(0, 1000),
        payload: Buffer.from(bytes.subarray(0, DEAD_LETTER_PAYLOAD_BYTES)),
        payloadBytes: bytes.length,
        receivedAt,
        slot: r.ok ? null : slot(),
      },
    };
  }

  private split(batch: Unit[]): { items: IngestItem[]; dead: DeadLetter[]; losses: LossReport[] } {
    const items: IngestItem[] = [];
    const dead: DeadLetter[] = [];
    const losses: LossReport[] = [];
    for (const u of batch) {
      if ('item' in u) items.push(u.item);
      else if ('dead' in u) dead.push(u.dead);
      else losses.push(u.loss);
    }
    return { items, dead, losses };
  }

  /** Commits a batch; what the database refuses for its data is isolated and dead-lettered, the rest commits. */
  private async commitWithRetry(batch: Unit[]): Promise<void> {
    const outcome = await commitBisecting(
      batch,
      (units) => this.commitRetrying(units),
      (unit, error) => this.refuse(unit, error),
    );
    if (outcome.splits > 0) this.metrics.ingestBatchSplits.inc(outcome.splits);
  }

  /**
   * One commit of `batch`, retried with backoff while the database is unreachable or failing; a data error (which
   * a retry cannot cure) is thrown at once, for the splitter.
   */
  private async commitRetrying(batch: Unit[]): Promise<void> {
    const { items, dead, losses } = this.split(batch);
    for (let attempt = 0; ; attempt++) {
      const end = this.metrics.ingestBatchSeconds.startTimer();
      try {
        const result = await this.store.commit(items, dead, new Date(), losses);
        end();
        if (!this.storeHealthy) this.logger.info({ attempts: attempt + 1 }, 'database back, ingest resumed');
        this.storeHealthy = true;
        this.record(items, dead, result.inserted, result.duplicates, result.deadLettersEvicted);
        this.recordLosses(result.losses);
        this.recordRejections(result.rejected);
        this.acknowledge(result.streams);
        // Items the tables refused are dead letters now: consumers (alerts, push) only ever see stored data.
        const notStored = result.notStored?.length ? new Set(result.notStored) : null;
        this.events.emit('ingest.committed', {
          committedAt: new Date(),
          items: notStored ? items.filter((i) => !notStored.has(i)) : items,
          deadLetters: dead,
          losses: result.losses,
          inserted: result.inserted,
          duplicates: result.duplicates,
        });
        return;
      } catch (err) {
        if (dataErrorOf(err)) throw err;
        this.storeHealthy = false;
        this.metrics.ingestBatchFailures.inc();
        const delay = Math.min(5000, 200 * 2 ** Math.min(attempt, 5));
        this.logger.warn({ err: (err as Error).message, attempt, retryInMs: delay }, 'ingest batch failed, retrying');
        if (this.stopped) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * A unit the database refused on its own. A message becomes a dead letter carrying the database's error (and
   * closes its seq as rejected); a loss report too. A dead letter the database refuses cannot be kept anywhere: it
   * is logged and counted, never retried.
   */
  private async refuse(unit: Unit, error: DataError): Promise<void> {
    let dead: DeadLetter;
    if ('item' in unit) {
      dead = refusedItemDeadLetter(unit.item, error);
    } else if ('loss' in unit) {
      const bytes = Buffer.from(JSON.stringify({ lost: unit.loss.lost, requestId: unit.loss.requestId }), 'utf8');
      dead = {
        topic: topics.edgeNode('delivery_gap', unit.loss),
        code: databaseRefusalCode(error),
        path: null,
        reason: `database refused it: SQLSTATE ${error.code}: ${error.message}`,
        payload: bytes,
        payloadBytes: bytes.length,
        receivedAt: unit.loss.receivedAt,
      };
    } else {
      this.metrics.ingestMessages.inc({ result: 'dropped', kind: databaseRefusalCode(error) });
      this.logger.error(
        { topic: unit.dead.topic, code: unit.dead.code, sqlstate: error.code, err: error.message },
        'database refused a dead letter; dropped',
      );
      return;
    }
    this.logger.warn(
      { topic: dead.topic, slot: dead.slot, sqlstate: error.code, err: error.message },
      'database refused a message; dead-lettered',
    );
    try {
      await this.commitRetrying([{ dead }]);
    } catch (err) {
      if (!dataErrorOf(err)) throw err;
      this.metrics.ingestMessages.inc({ result: 'dropped', kind: dead.code });
      this.logger.error({ topic: dead.topic, err: (err as Error).message }, 'database refused a dead letter; dropped');
    }
  }

  private record(items: IngestItem[], dead: DeadLetter[], inserted: number, duplicates: number, evicted: number) {
    const m = this.metrics;
    // Per-kind outcome is not known per row (one statement per kind); totals are exact.
    m.ingestMessages.inc({ result: 'accepted', kind: 'all' }, inserted);
    m.ingestMessages.inc({ result: 'duplicate', kind: 'all' }, duplicates);
    for (const d of dead) m.ingestMessages.inc({ result: 'rejected', kind: d.code });
    m.deadLetterEvictions.inc(evicted);
    const now = Date.now();
    const newest = new Map<string, number>();
    for (const it of items) {
      const key = `${it.siteId}/${it.nodeId}`;
      const ts = Date.parse(it.message && 'ts' in it.message ? it.message.ts : '');
      if (!Number.isNaN(ts) && ts > (newest.get(key) ?? 0)) newest.set(key, ts);
    }
    for (const [key, ts] of newest) {
      const [site, node] = key.split('/');
      m.ingestLagSeconds.set({ site, node }, Math.max(0, (now - ts) / 1000));
    }
  }

  /** Data an edge could not deliver: counted once per seq and logged, never silent. */
  private recordLosses(losses: RecordedLoss[]): void {
    for (const l of losses) {
      this.metrics.deliveryLost.inc({ site: l.siteId, node: l.nodeId }, l.seqs);
      this.logger.warn(
        { site: l.siteId, node: l.nodeId, bootId: l.bootId, ranges: l.ranges, seqs: l.seqs },
        'edge announced seqs it can no longer deliver; closed without their messages',
      );
    }
  }

  /** Seqs closed without their message because it was refused: counted once per seq, never replayed. */
  private recordRejections(rejected: RecordedRejection[]): void {
    for (const r of rejected) this.metrics.ingestRejectedSeqs.inc({ site: r.siteId, node: r.nodeId }, r.seqs);
  }

  /**
   * Never awaited by the commit loop: while ingest applies backpressure the MQTT client stops reading, so it would
   * never see the broker's PUBACK for these and the loop would wait on itself.
   */
  private acknowledge(streams: CommittedStream[]): void {
    const now = Date.now();
    for (const s of streams) {
      this.streams.set(streamKey(s), s);
      const ref = { siteId: s.siteId, nodeId: s.nodeId };
      const ack = encodeMessage('commit', {
        bootId: s.bootId,
        upToSeq: s.state.committedUpTo,
        ts: new Date(now).toISOString(),
      });
      void this.safePublish(topics.centre('commit', ref), ack);
      if (needsReplay(s.state, now, this.options.gapGraceMs)) void this.requestReplay(s, s.state, now);
    }
  }

  private checkGaps(now: number): void {
    for (const s of this.streams.values()) {
      if (needsReplay(s.state, now, this.options.gapGraceMs)) void this.requestReplay(s, s.state, now);
      else if (s.state.pending.length === 0 && now - (this.lastReplayAt.get(streamKey(s)) ?? 0) > 600_000) {
        this.streams.delete(streamKey(s)); // quiet and complete: forget it
      }
    }
  }

  private async requestReplay(s: CommittedStream, state: SequenceState, now: number): Promise<void> {
    const key = streamKey(s);
    if (now - (this.lastReplayAt.get(key) ?? 0) < this.options.gapGraceMs) return;
    const ranges = missingRanges(state);
    if (ranges.length === 0) return;
    this.lastReplayAt.set(key, now);
    this.metrics.replayRequests.inc();
    this.logger.info({ site: s.siteId, node: s.nodeId, bootId: s.bootId, ranges }, 'sequence gap, requesting replay');
    const payload = encodeMessage('replay', {
      requestId: randomUUID(),
      bootId: s.bootId,
      ranges,
      ts: new Date(now).toISOString(),
    });
    await this.safePublish(topics.centre('replay', { siteId: s.siteId, nodeId: s.nodeId }), payload);
  }

  private async safePublish(topic: string, payload: Buffer): Promise<void> {
    try {
      await this.publisher.publish(topic, payload);
    } catch (err) {
      // Acks are cumulative and replays are re-requested: a lost one is repaired by the next.
      this.logger.warn({ topic, err: (err as Error).message }, 'could not publish to edge');
    }
  }
}

/** A valid message is not refused: no closure per message on the hot path. */
const noSlot = (): null => null;

function streamKey(s: { siteId: string; nodeId: string; bootId: string }): string {
  return `${s.siteId}/${s.nodeId}/${s.bootId}`;
}
