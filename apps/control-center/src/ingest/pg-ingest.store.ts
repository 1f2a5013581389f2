import { topics } from '@vigil/contracts';
import {
  IngestStore,
  type CommitResult,
  type CommittedStream,
  type DeadLetter,
  type IngestItem,
  type LossReport,
  type RecordedLoss,
  type RecordedRejection,
} from './ingest.types';
import { advance, emptySequenceState, newlyLost, notClosed, rangeSize, type SeqRange } from './sequence-tracker';
import type { Database } from '../database/database.types';
import {
  DEAD_LETTER_DEFAULT_MAX_ROWS,
  DeadLetterRepository,
  type DeadLetterInput,
} from '../database/repositories/dead-letter.repository';
import { DeliveryLossRepository, type DeliveryLossRow } from '../database/repositories/delivery-loss.repository';
import {
  DeliveryStateRepository,
  deliveryKey,
  type StreamRef,
} from '../database/repositories/delivery-state.repository';
import { IngestRepository, type RejectedItem } from '../database/repositories/ingest.repository';

/** Envelope fields every edge message has (the evidence image carries them in its header). */
function envelope(item: IngestItem): { bootId: string; seq?: number } {
  const m = item.message as { bootId?: string; seq?: number; header?: { bootId: string; seq: number } };
  return m.header ?? { bootId: m.bootId ?? '', seq: m.seq };
}

function rejectedToDeadLetter(r: RejectedItem): DeadLetterInput {
  const m = r.item.message as { header?: unknown };
  const payload = Buffer.from(JSON.stringify(m.header ?? r.item.message), 'utf8');
  const { bootId, seq } = envelope(r.item);
  return {
    topic: topics.edge(r.item.kind, r.item),
    code: r.code,
    path: null,
    reason: r.reason,
    payload,
    receivedAt: r.item.receivedAt,
    bootId: seq === undefined ? null : bootId,
    seq: seq ?? null,
  };
}

interface StreamWork {
  ref: StreamRef;
  seqs: number[];
  /** Seqs of refused messages (dead-lettered): closed as rejected. */
  rejected: number[];
  /** Announced-lost ranges, each with the announcement that carried it (for the audit row). */
  lost: { range: SeqRange; report: LossReport }[];
}

/**
 * The ingest's storage over PostgreSQL / TimescaleDB. One transaction per batch: the messages (idempotent on
 * node, boot, seq), the dead letters (capped), and the delivery state of every stream the batch touched, locked
 * so that centre instances sharing a subscription merge their parts of a stream one at a time. Messages the tables
 * refuse (outside retention, hash mismatch) become dead letters; their seqs, and those of dead letters whose envelope
 * was readable, are closed as rejected (counted once per seq in `delivery_state.rejected`).
 * Seqs an edge announced as lost (`delivery_gap`) are closed in the same state and, the first time, recorded in
 * `delivery_losses`.
 */
export class PgIngestStore extends IngestStore {
  private readonly ingest: IngestRepository;
  private readonly deadLetters: DeadLetterRepository;
  private readonly delivery: DeliveryStateRepository;
  private readonly losses: DeliveryLossRepository;

  constructor(
    private readonly db: Pick<Database, 'pool' | 'flavour'>,
    options: { deadLetterMaxRows?: number } = {},
  ) {
    super();
    this.ingest = new IngestRepository(db);
    this.deadLetters = new DeadLetterRepository(db, options.deadLetterMaxRows ?? DEAD_LETTER_DEFAULT_MAX_ROWS);
    this.delivery = new DeliveryStateRepository(db);
    this.losses = new DeliveryLossRepository(db);
  }

  async commit(
    items: IngestItem[],
    deadLetters: DeadLetter[],
    now: Date,
    lossReports: LossReport[] = [],
  ): Promise<CommitResult> {
    const { storable, rejected } = await this.ingest.prepare(items, now);
    const work = new Map<string, StreamWork>();
    const streamOf = (ref: StreamRef): StreamWork => {
      const key = deliveryKey(ref);
      let w = work.get(key);
      if (!w) work.set(key, (w = { ref, seqs: [], rejected: [], lost: [] }));
      return w;
    };
    const refused = rejected.length > 0 ? new Set(rejected.map((r) => r.item)) : null;
    for (const item of items) {
      const { bootId, seq } = envelope(item);
      if (seq === undefined) continue; // the MQTT last will: not part of the sequence
      const w = streamOf({ siteId: item.siteId, nodeId: item.nodeId, bootId });
      if (refused?.has(item)) w.rejected.push(seq);
      else w.seqs.push(seq);
    }
    for (const d of deadLetters) {
      if (d.slot)
        streamOf({ siteId: d.slot.siteId, nodeId: d.slot.nodeId, bootId: d.slot.bootId }).rejected.push(d.slot.seq);
    }
    for (const report of lossReports) {
      for (const l of report.lost) {
        const w = streamOf({ siteId: report.siteId, nodeId: report.nodeId, bootId: l.bootId });
        for (const range of l.ranges) w.lost.push({ range, report });
      }
    }
    const client = await this.db.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const { inserted } = await this.ingest.insertBatch(storable, client);
      const { evicted } = await this.deadLetters.insert(
        [
          ...deadLetters.map((d) => (d.slot ? { ...d, bootId: d.slot.bootId, seq: d.slot.seq } : d)),
          ...rejected.map(rejectedToDeadLetter),
        ],
        client,
      );
      const locked = await this.delivery.lock(
        client,
        [...work.values()].map((s) => s.ref),
      );
      const losses: RecordedLoss[] = [];
      const lossRows: DeliveryLossRow[] = [];
      const rejections: RecordedRejection[] = [];
      const rejectedCounts = new Map<string, number>();
      const streams: CommittedStream[] = [...work].map(([key, { ref, seqs: list, rejected: refusedSeqs, lost }]) => {
        const prior = locked.get(key) ?? { ...emptySequenceState(), rejected: 0 };
        const t = now.getTime();
        const priorState = {
          committedUpTo: prior.committedUpTo,
          pending: prior.pending,
          lost: prior.lost,
          holeSince: prior.holeSince,
        };
        // A refused copy of a seq stored before (or in this batch) closes nothing new.
        let newlyRejected = 0;
        if (refusedSeqs.length > 0) {
          const stored = new Set(list);
          newlyRejected = notClosed(priorState, refusedSeqs).filter((seq) => !stored.has(seq)).length;
          if (newlyRejected > 0) rejections.push({ ...ref, seqs: newlyRejected });
        }
        rejectedCounts.set(key, (prior.rejected ?? 0) + newlyRejected);
        // Seqs first: a message that arrives in the same batch as its loss announcement was delivered after all.
        let state = advance(priorState, refusedSeqs.length > 0 ? [...list, ...refusedSeqs] : list, t);
        if (lost.length > 0) {
          for (const { range, report } of lost) {
            const fresh = newlyLost(state, [range]);
            if (fresh.length === 0) continue;
            state = advance(state, [], t, fresh);
            losses.push({ ...ref, ranges: fresh, seqs: rangeSize(fresh) });
            for (const r of fresh) {
              lossRows.push({
                ...ref,
                fromSeq: r.from,
                toSeq: r.to,
                reporterBootId: report.reporterBootId,
                requestId: report.requestId,
                reportedAt: new Date(report.ts),
                recordedAt: now,
              });
            }
          }
        }
        return { ...ref, state };
      });
      await this.losses.insert(lossRows, client);
      await this.delivery.upsert(
        streams.map((s) => ({
          siteId: s.siteId,
          nodeId: s.nodeId,
          bootId: s.bootId,
          ...s.state,
          rejected: rejectedCounts.get(deliveryKey(s)),
        })),
        client,
      );
      await client.query('COMMIT');
      return {
        inserted,
        duplicates: storable.length - inserted,
        deadLettersEvicted: evicted,
        streams,
        losses,
        rejected: rejections,
        notStored: rejected.map((r) => r.item),
      };
    } catch (err) {
      broken = await client.query('ROLLBACK').then(
        () => false,
        () => true,
      );
      throw err;
    } finally {
      // A connection that could not even roll back is not given to the next batch.
      client.release(broken);
    }
  }
}
