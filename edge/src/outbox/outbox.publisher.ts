import {
  BATCHABLE_KINDS,
  encodeBatch,
  encodeMessage,
  MAX_BATCH_ENTRIES,
  MAX_LOST_RANGES,
  parseMessage,
  topics,
  type CommitAck,
  type ParseResult,
  type ReplayRequest,
} from '@vigil/contracts';
import { backoffBase } from '../common/backoff';
import type { LostSeqs, Outbox } from './outbox.store';
import { noopOutboxLogger, type OutboxLogger, type PublishableEntry } from './outbox.types';

/** What the publisher needs from the MQTT session (EdgeMqttClient implements it). */
export interface OutboxTransport {
  readonly connected: boolean;
  /** MQTT 5 receive maximum announced by the broker, null when it said nothing (3.1.1). */
  readonly receiveMaximum: number | null;
  onConnectionChange(listener: (connected: boolean) => void): () => void;
  /** QoS 1 publish; resolves on the broker's PUBACK. */
  publishRaw(topic: string, payload: Buffer, retain?: boolean): Promise<void>;
}

export interface OutboxPublisherOptions {
  /** Most publishes awaiting the broker's PUBACK at once. Default 16 (capped by the broker's receive maximum). */
  window?: number;
  /**
   * Most entries published but not yet committed by the centre. Past it, new entries wait: publishing further
   * only fills the broker's queue (which drops beyond its limit) while the centre is away. Default 2000.
   */
  commitWindow?: number;
  /** Resend an entry the centre has not committed after this long (it may have been lost). Default 30 s. */
  resendAfterMs?: number;
  /** Resend delays double per attempt up to this. Default 10 min. */
  resendMaxMs?: number;
  /** A publish without PUBACK after this long frees its window slot (the entry stays for a resend). Default 30 s. */
  publishTimeoutMs?: number;
  /**
   * When several entries are ready at once (a backlog: a drain after an outage, a replay, a busy node), send up to
   * this many batchable ones as one `batch` message. 1 = never batch. Default 200 (the contract allows 500). A lone
   * entry always goes alone on its own topic, so batching adds no latency.
   */
  batchEntries?: number;
  /** A batch stops growing at about this many payload bytes. Default 256 KiB (the contract allows 1 MiB). */
  batchBytes?: number;
  /** Period of the resend scan and the age bound. Default 1 s. */
  maintenanceMs?: number;
  /** Lost seqs (published, then evicted) are announced again this often until a commit ack passes them. Default 30 s. */
  lostAnnounceMs?: number;
  now?: () => number;
  logger?: OutboxLogger;
}

export interface PublisherCounters {
  /** First publications (each entry once per process). */
  published: number;
  /** Publications because the commit timed out. */
  resent: number;
  /** Publications asked for by a replay request. */
  replayed: number;
  /** Seqs a replay asked for that the outbox no longer holds (already committed, or evicted). */
  replayMissing: number;
  commitAcks: number;
  /** Entries deleted because a commit acknowledgement covered them. */
  committed: number;
  publishErrors: number;
  publishTimeouts: number;
  /** `delivery_gap` messages published: lost seqs announced (unsolicited or in answer to a replay). */
  gapAnnouncements: number;
  /** `batch` messages published (their entries are counted in published/resent/replayed as usual). */
  batches: number;
}

interface Job {
  entry: PublishableEntry;
  reason: SendReason;
}

const BATCHABLE = new Set<string>(BATCHABLE_KINDS);

interface SentState {
  sentAt: number;
  attempts: number;
}

type SendReason = 'first' | 'resend' | 'replay';

interface Announcement {
  requestId: string | null;
  lost: LostSeqs;
}

interface ReplayRange {
  bootId: string;
  from: number;
  to: number;
}

/**
 * Moves outbox entries to the broker: QoS 1, in outbox order, at most `window` awaiting PUBACK, nothing while the
 * link is down. Deletes nothing on PUBACK: entries leave the outbox only through the centre's commit ack (or the
 * bounds). Replays what the centre asks for and resends what it has not committed in time.
 */
export class OutboxPublisher {
  private cursor = 0;
  private inflight = 0;
  private readonly sent = new Map<number, SentState>();
  private readonly retainedUpTo = new Map<string, number>();
  private firstPass: PublishableEntry[] = [];
  private urgent: Job[] = [];
  /** A job taken while building a batch that could not join it: it goes next. */
  private held: Job | null = null;
  private readonly topicPrefix: string;
  private readonly replays: ReplayRange[] = [];
  /** Answers to replay requests for evicted seqs, then the periodic announcement when due. */
  private readonly answers: Announcement[] = [];
  private lostDue = false;
  private lastLostAnnounce = 0;
  private wake: (() => void) | null = null;
  private dirty = false;
  private stopped = true;
  private loopDone: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly o: Required<Omit<OutboxPublisherOptions, 'logger' | 'now'>>;
  private readonly now: () => number;
  private readonly logger: OutboxLogger;
  readonly counters: PublisherCounters = {
    published: 0,
    resent: 0,
    replayed: 0,
    replayMissing: 0,
    commitAcks: 0,
    committed: 0,
    publishErrors: 0,
    publishTimeouts: 0,
    gapAnnouncements: 0,
    batches: 0,
  };

  constructor(
    private readonly outbox: Outbox,
    private readonly transport: OutboxTransport,
    options: OutboxPublisherOptions = {},
  ) {
    this.o = {
      window: options.window ?? 16,
      commitWindow: options.commitWindow ?? 2000,
      resendAfterMs: options.resendAfterMs ?? 30_000,
      resendMaxMs: options.resendMaxMs ?? 600_000,
      publishTimeoutMs: options.publishTimeoutMs ?? 30_000,
      maintenanceMs: options.maintenanceMs ?? 1000,
      lostAnnounceMs: options.lostAnnounceMs ?? 30_000,
      batchEntries: Math.max(1, Math.min(MAX_BATCH_ENTRIES, options.batchEntries ?? 200)),
      batchBytes: options.batchBytes ?? 256 * 1024,
    };
    this.topicPrefix = topics.edgeNodePrefix(outbox.node);
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? noopOutboxLogger;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe.push(
      this.outbox.onEnqueued(() => this.notify()),
      this.outbox.onRemoved((ids) => {
        for (const id of ids) this.sent.delete(id);
        this.notify();
      }),
      this.outbox.onLost(() => {
        this.lostDue = true;
        this.notify();
      }),
      this.transport.onConnectionChange((connected) => {
        // The centre may have missed announcements while the link was down (or this is a restart).
        if (connected && this.outbox.lostOutstandingSeqs > 0) this.lostDue = true;
        this.notify();
      }),
    );
    if (this.outbox.lostOutstandingSeqs > 0) this.lostDue = true;
    this.timer = setInterval(() => this.maintain(), this.o.maintenanceMs);
    this.timer.unref();
    this.loopDone = this.loop();
  }

  /** Stops publishing; waits (bounded) for the publishes awaiting PUBACK. The outbox stays open. */
  async stop(waitMs = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const u of this.unsubscribe.splice(0)) u();
    this.answers.length = 0;
    this.notify();
    await this.loopDone;
    const deadline = this.now() + waitMs;
    while (this.inflight > 0 && this.now() < deadline) await delay(20);
  }

  /** Resolves true once the outbox is empty (every entry committed or evicted), false after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    while (this.outbox.depth > 0) {
      if (this.now() >= deadline) return false;
      await delay(25);
    }
    return true;
  }

  /** Entries published (in this process) and not yet committed. */
  get uncommitted(): number {
    return this.sent.size;
  }

  get inFlight(): number {
    return this.inflight;
  }

  /**
   * Handles a message from the centre's topics of this node: commit acks and replay requests are acted on; the
   * parse result is returned so the caller can take the rest (configuration).
   */
  handleCentreMessage(topic: string, payload: Buffer): ParseResult {
    const r = parseMessage(topic, payload);
    if (!r.ok) {
      this.logger.warn({ topic, code: r.error.code, reason: r.error.reason }, 'invalid message from the centre');
      return r;
    }
    if (r.kind === 'commit') this.handleCommit(r.message);
    else if (r.kind === 'replay') this.handleReplay(r.message);
    return r;
  }

  handleCommit(ack: Pick<CommitAck, 'bootId' | 'upToSeq'>): number {
    this.counters.commitAcks++;
    const n = this.outbox.commit(ack.bootId, ack.upToSeq);
    this.counters.committed += n;
    return n;
  }

  handleReplay(req: Pick<ReplayRequest, 'bootId' | 'ranges'> & { requestId?: string }): void {
    for (const r of req.ranges) this.replays.push({ bootId: req.bootId, from: r.from, to: r.to });
    this.logger.info({ bootId: req.bootId, ranges: req.ranges }, 'replay requested');
    // Seqs asked for that were evicted: answer at once that they are lost, so the centre stops waiting for them.
    const ranges = req.ranges
      .flatMap((r) => this.outbox.lostWithin(req.bootId, r.from, r.to).flatMap((l) => l.ranges))
      .slice(0, MAX_LOST_RANGES);
    if (ranges.length > 0) {
      this.answers.push({ requestId: req.requestId ?? null, lost: [{ bootId: req.bootId, ranges }] });
    }
    this.notify();
  }

  private notify(): void {
    this.dirty = true;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async sleep(): Promise<void> {
    if (this.dirty) {
      this.dirty = false;
      return;
    }
    await new Promise<void>((resolve) => (this.wake = resolve));
    this.dirty = false;
  }

  private windowSize(): number {
    const max = this.transport.receiveMaximum;
    return Math.max(1, max !== null ? Math.min(this.o.window, max) : this.o.window);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const ready = this.transport.connected && this.inflight < this.windowSize();
      const announcement = ready ? this.nextAnnouncement() : null;
      if (announcement) {
        this.announce(announcement);
        continue;
      }
      const job = ready ? this.next() : null;
      if (!job) await this.sleep();
      else if (!this.batchable(job)) this.send(job.entry, job.reason);
      else this.sendBatch(this.gatherBatch(job));
    }
  }

  /**
   * Lost-seq announcements go before everything else: they are what lets the centre's cumulative ack move again,
   * and they are not outbox entries, so neither the commit window nor the byte bound holds them back.
   */
  private nextAnnouncement(): Announcement | null {
    const answer = this.answers.shift();
    if (answer) return answer;
    if (!this.lostDue) return null;
    this.lostDue = false;
    const lost = this.outbox.lostRanges(MAX_LOST_RANGES);
    return lost.length > 0 ? { requestId: null, lost } : null;
  }

  private announce(a: Announcement): void {
    this.lastLostAnnounce = this.now();
    let payload: Buffer;
    try {
      payload = encodeMessage('delivery_gap', {
        bootId: this.outbox.bootId,
        ts: new Date(this.now()).toISOString(),
        requestId: a.requestId,
        lost: a.lost,
      });
    } catch (err) {
      // A bug in building the announcement must not stop the delivery of everything else.
      this.logger.warn({ err: (err as Error).message }, 'could not build the lost-seq announcement');
      return;
    }
    this.counters.gapAnnouncements++;
    this.logger.info({ requestId: a.requestId, lost: a.lost }, 'announcing seqs that can no longer be delivered');
    // Not retried here: an announcement lost on the way is repeated until a commit ack passes its ranges.
    this.publish(topics.edgeNode('delivery_gap', this.outbox.node), payload, false, (err) =>
      this.logger.debug({ err: err.message }, 'lost-seq announcement failed, will repeat'),
    );
  }

  private batchable(job: Job): boolean {
    return (
      this.o.batchEntries > 1 &&
      BATCHABLE.has(job.entry.kind) &&
      !job.entry.retain &&
      job.entry.topic.startsWith(this.topicPrefix)
    );
  }

  /**
   * The job and whatever batchable jobs are ready right behind it, within the entry and byte limits. Each is marked
   * sent as it joins, so the commit window counts it before the next one is taken.
   */
  private gatherBatch(first: Job): Job[] {
    const jobs = [first];
    this.markSent(first.entry, first.reason);
    let bytes = first.entry.payload.length;
    while (jobs.length < this.o.batchEntries) {
      const job = this.next();
      if (!job) break;
      if (!this.batchable(job) || bytes + job.entry.payload.length > this.o.batchBytes) {
        this.held = job;
        break;
      }
      this.markSent(job.entry, job.reason);
      jobs.push(job);
      bytes += job.entry.payload.length;
    }
    return jobs;
  }

  /** Replays first (the centre is waiting on them), then resends, then new entries in outbox order. */
  private next(): Job | null {
    if (this.held) {
      const held = this.held;
      this.held = null;
      return held;
    }
    if (this.urgent.length === 0) this.fillReplays();
    const urgent = this.urgent.shift();
    if (urgent) return urgent;
    if (this.firstPass.length === 0 && this.sent.size < this.o.commitWindow) {
      // Enough for a whole batch when batching, else one publish window.
      const room = Math.min(Math.max(this.windowSize(), this.o.batchEntries), this.o.commitWindow - this.sent.size);
      this.firstPass = this.outbox.takeForPublish(this.cursor, room);
      const last = this.firstPass.at(-1);
      if (last) this.cursor = last.id;
    }
    const entry = this.firstPass.shift();
    return entry ? { entry, reason: 'first' } : null;
  }

  private fillReplays(): void {
    const limit = this.windowSize();
    while (this.urgent.length === 0 && this.replays.length > 0) {
      const r = this.replays[0];
      const found = this.outbox.findRange(r.bootId, r.from, r.to, limit);
      const last = found.at(-1);
      if (found.length < limit || !last || last.seq >= r.to) {
        this.counters.replayMissing += r.to - r.from + 1 - found.length;
        this.replays.shift();
      } else {
        this.counters.replayMissing += last.seq - r.from + 1 - found.length;
        r.from = last.seq + 1;
      }
      for (const entry of found) this.urgent.push({ entry, reason: 'replay' });
    }
  }

  /** Gathered entries (already marked sent) as one `batch` message in one window slot; a lone one goes alone. */
  private sendBatch(jobs: Job[]): void {
    if (jobs.length === 1) return this.publishEntry(jobs[0].entry);
    this.counters.batches++;
    const payload = encodeBatch(
      jobs.map(({ entry }) => ({ suffix: entry.topic.slice(this.topicPrefix.length), payload: entry.payload })),
    );
    const first = jobs[0].entry;
    this.publish(topics.edgeNode('batch', this.outbox.node), payload, false, (err) =>
      this.logger.debug(
        { err: err.message, bootId: first.bootId, seq: first.seq, entries: jobs.length },
        'batch publish failed, will resend',
      ),
    );
  }

  private send(entry: PublishableEntry, reason: SendReason): void {
    this.markSent(entry, reason);
    this.publishEntry(entry);
  }

  private publishEntry(entry: PublishableEntry): void {
    // Retained topics (status): only the newest entry of a topic may set the retained value, so a replay or a
    // resend of an old status never overwrites a newer one on the broker.
    let retain = false;
    if (entry.retain && entry.id >= (this.retainedUpTo.get(entry.topic) ?? 0)) {
      this.retainedUpTo.set(entry.topic, entry.id);
      retain = true;
    }
    this.publish(entry.topic, entry.payload, retain, (err) =>
      this.logger.debug({ err: err.message, bootId: entry.bootId, seq: entry.seq }, 'publish failed, will resend'),
    );
  }

  private markSent(entry: PublishableEntry, reason: SendReason): void {
    const now = this.now();
    const previous = this.sent.get(entry.id);
    if (reason === 'first') this.counters.published++;
    else if (reason === 'resend') this.counters.resent++;
    else this.counters.replayed++;
    // Re-inserted so that the map stays ordered by last send (the resend scan stops at the first recent one).
    this.sent.delete(entry.id);
    this.sent.set(entry.id, { sentAt: now, attempts: previous ? previous.attempts + 1 : 0 });
  }

  /** One QoS 1 publish holding a window slot until its PUBACK, an error, or the publish timeout. */
  private publish(topic: string, payload: Buffer, retain: boolean, onError: (err: Error) => void): void {
    this.inflight++;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      this.inflight--;
      this.notify();
    };
    const timeout = setTimeout(() => {
      this.counters.publishTimeouts++;
      settle();
    }, this.o.publishTimeoutMs);
    timeout.unref();
    this.transport.publishRaw(topic, payload, retain).then(settle, (err: Error) => {
      this.counters.publishErrors++;
      onError(err);
      settle();
    });
  }

  /** Age bound, and entries whose commit is overdue go back to the front of the queue. */
  private maintain(): void {
    if (this.stopped) return;
    try {
      this.outbox.enforceAge();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'outbox age bound failed');
    }
    const now = this.now();
    if (this.outbox.lostOutstandingSeqs > 0 && now - this.lastLostAnnounce >= this.o.lostAnnounceMs) {
      this.lostDue = true;
    }
    if (!this.transport.connected || this.urgent.length > 0) return this.notify();
    const due: number[] = [];
    for (const [id, s] of this.sent) {
      if (now - s.sentAt < this.o.resendAfterMs) break;
      if (now - s.sentAt >= resendDelay(s.attempts, this.o.resendAfterMs, this.o.resendMaxMs)) due.push(id);
      if (due.length >= this.o.commitWindow) break;
    }
    if (due.length > 0) {
      const found = this.outbox.getSequenced(due);
      const stillThere = new Set(found.map((e) => e.id));
      for (const id of due) if (!stillThere.has(id)) this.sent.delete(id);
      for (const entry of found) this.urgent.push({ entry, reason: 'resend' });
      this.logger.info({ count: found.length }, 'resending entries the centre has not committed');
    }
    this.notify();
  }
}

/**
 * Wait before resending an entry already sent `attempts` + 1 times: doubling from `afterMs`, capped at `maxMs` (the
 * edge's backoff, without jitter).
 */
export function resendDelay(attempts: number, afterMs: number, maxMs: number): number {
  return backoffBase(attempts + 1, { initialMs: afterMs, maxMs, factor: 2, jitter: 0 });
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
