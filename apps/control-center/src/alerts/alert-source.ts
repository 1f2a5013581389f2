import { ALERT_SEVERITY, type Alert, type AlertHistoryAction, type ViolationState } from '@vigil/contracts';
import type { PoolClient } from 'pg';
import type { EventBus } from '../events/event-bus';
import { dataErrorOf } from '../ingest/batch-splitter';
import { itemsOfKind, type IngestCommittedEvent } from '../ingest/ingest.events';
import type { AlertRepository, HistoryInput } from './alert.repository';
import { SYSTEM_ACTOR, type AlertChanges, type AlertService } from './alert.service';

export interface AlertSourceOptions {
  /** How long a camera must stay stalled or failed (by its own status times) before its alert opens. */
  cameraDownAfterMs: number;
  /** Evictions or losses within this time of the last one merge into the same alert. */
  occurrenceWindowMs: number;
  /** Backoff of a failing batch (defaults: `ALERT_RETRY`). */
  retry?: Partial<AlertRetryOptions>;
}

export interface AlertRetryOptions {
  /** First wait after a failure; doubled after each further one, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /**
   * Attempts of a batch that fails for its data (SQLSTATE class 22, 23, 54: a retry cannot cure it) before it is
   * given up, loudly. Any other failure (database down, restarting, a lost connection) is retried while running.
   */
  dataErrorAttempts: number;
}

export const ALERT_RETRY: Readonly<AlertRetryOptions> = { firstDelayMs: 200, maxDelayMs: 30_000, dataErrorAttempts: 3 };

export interface AlertSourceLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Ranges kept in a delivery-loss alert's details (the full record is in `delivery_losses`). */
const MAX_RANGES = 50;

type Work = { q: PoolClient; changes: AlertChanges; history: HistoryInput[] };

/**
 * Turns committed ingest batches into alerts, idempotently: a replayed or redelivered batch creates nothing twice
 * (one alert per violation event id; system alerts keyed by their condition's start; a violation only moves forward).
 * Batches are handled one after another, each in one transaction, and announced after its commit.
 *
 * An operator must never miss an alert: a batch whose transaction fails is retried with backoff (one after another,
 * so a violation's end never overtakes its start) until the database answers again. Only a batch a retry cannot cure
 * (a data error, after `dataErrorAttempts`) or one still failing when the centre stops is given up, and then loudly:
 * an error log naming what it held (sites, nodes, event ids) and the `abandoned` count.
 */
export class AlertSource {
  private queue: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | null = null;
  private readonly retry: AlertRetryOptions;
  private stopping = false;
  /** Wakes a retry wait early (at stop). */
  private wake: (() => void) | null = null;
  private abandonedBatches = 0;

  constructor(
    private readonly service: AlertService,
    private readonly repo: AlertRepository,
    private readonly options: AlertSourceOptions,
    private readonly logger: AlertSourceLogger,
  ) {
    this.retry = { ...ALERT_RETRY, ...options.retry };
  }

  /** Subscribes to `ingest.committed`. */
  attach(events: EventBus): void {
    this.stopping = false;
    this.unsubscribe ??= events.on('ingest.committed', (e) => this.enqueue(e));
  }

  detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /**
   * The centre is stopping: batches still queued get one more attempt each instead of retrying without end (the
   * process must be able to exit while the database is down); what still fails is given up, loudly.
   */
  stopRetrying(): void {
    this.stopping = true;
    this.wake?.();
  }

  /** Batches given up so far (each logged as an error with what it held). */
  get abandoned(): number {
    return this.abandonedBatches;
  }

  /** Handles one batch after those before it; resolves when it is committed (or, after retries, given up). */
  enqueue(e: Readonly<IngestCommittedEvent>): Promise<void> {
    const run = this.queue.then(() => this.handleRetrying(e));
    // handleRetrying never rejects; the catch keeps the chain alive should that ever change.
    this.queue = run.catch((err: unknown) => this.giveUp(e, err, 0));
    return this.queue;
  }

  /** Waits for every batch handed over so far. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async handleRetrying(e: Readonly<IngestCommittedEvent>): Promise<void> {
    let dataErrors = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.handle(e);
        if (attempt > 1) this.logger.info({ attempts: attempt }, 'alerts of a batch raised after retries');
        return;
      } catch (err) {
        if (dataErrorOf(err)) dataErrors++;
        if (this.stopping || dataErrors >= this.retry.dataErrorAttempts) return this.giveUp(e, err, attempt);
        const delay = Math.min(this.retry.maxDelayMs, this.retry.firstDelayMs * 2 ** Math.min(attempt - 1, 20));
        this.logger.warn(
          { err: messageOf(err), attempt, retryInMs: delay },
          'alerts from a batch failed (database unavailable?), retrying',
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    }
  }

  private giveUp(e: Readonly<IngestCommittedEvent>, err: unknown, attempts: number): void {
    this.abandonedBatches++;
    const events = itemsOfKind(e.items, 'event').map((i) => ({
      siteId: i.siteId,
      nodeId: i.nodeId,
      eventId: i.message.eventId,
      phase: i.message.phase,
    }));
    this.logger.error(
      {
        err: messageOf(err),
        attempts,
        stopping: this.stopping,
        items: e.items.length,
        losses: e.losses.length,
        sites: [...new Set(e.items.map((i) => i.siteId))],
        nodes: [...new Set(e.items.map((i) => `${i.siteId}/${i.nodeId}`))],
        events,
        abandoned: this.abandonedBatches,
      },
      'ALERTS NOT RAISED: a committed batch could not be turned into alerts; its messages are stored, check them',
    );
  }

  async handle(e: Readonly<IngestCommittedEvent>): Promise<AlertChanges> {
    return this.service.record(async (q) => {
      const w: Work = { q, changes: { created: [], updated: [] }, history: [] };
      await this.violations(w, e);
      await this.cameras(w, e);
      await this.nodes(w, e);
      await this.evictions(w, e);
      await this.losses(w, e);
      await this.repo.addHistory(w.history, q);
      return w.changes;
    });
  }

  private created(w: Work, alert: Alert): void {
    w.changes.created.push(alert);
    w.history.push(entry(alert, 'created'));
  }

  private updated(w: Work, alert: Alert, action: AlertHistoryAction, note: string | null = null): void {
    w.changes.updated.push({ alert, action });
    w.history.push(entry(alert, action, note));
  }

  /** Violation start -> alert; update/end -> the same alert's violation state. */
  private async violations(w: Work, e: Readonly<IngestCommittedEvent>): Promise<void> {
    const events = itemsOfKind(e.items, 'event').sort((a, b) => Date.parse(a.message.ts) - Date.parse(b.message.ts));
    for (const item of events) {
      const m = item.message;
      const result = await this.repo.applyViolation(
        {
          siteId: item.siteId,
          nodeId: item.nodeId,
          cameraId: item.cameraId,
          kind: m.kind,
          severity: ALERT_SEVERITY[m.kind],
          source: m.eventId,
          violationState: m.phase,
          openedAt: new Date(m.startedAt),
          clearedAt: m.endedAt === null ? null : new Date(m.endedAt),
          details: {
            ts: m.ts,
            ruleId: m.ruleId,
            zoneId: m.zoneId,
            objectClass: m.objectClass,
            trackId: m.trackId,
            maxScore: m.maxScore,
            dwellSeconds: m.dwellSeconds,
            pedestriansPresent: m.pedestriansPresent,
            evidence: m.evidence,
            model: m.model,
            endReason: m.endReason,
          },
        },
        w.q,
      );
      if (!result) continue;
      if (result.before === null) this.created(w, result.alert);
      else if (result.before !== result.alert.violationState) {
        this.updated(w, result.alert, violationAction(result.alert.violationState!));
      } else w.changes.updated.push({ alert: result.alert, action: 'violation_update' });
    }
  }

  /**
   * Camera stalled or failed for longer than the threshold (by the status times: a later status or heartbeat of
   * the same camera shows how long) opens `camera_down`; streaming again clears it.
   */
  private async cameras(w: Work, e: Readonly<IngestCommittedEvent>): Promise<void> {
    const observed = new Map<string, { siteId: string; nodeId: string; cameraId: string; at: number }>();
    const seen = (siteId: string, nodeId: string, cameraId: string, at: number, streaming: boolean) => {
      if (streaming) return;
      const key = JSON.stringify([siteId, nodeId, cameraId]);
      const prev = observed.get(key);
      if (!prev || prev.at < at) observed.set(key, { siteId, nodeId, cameraId, at });
    };
    const recovered: { siteId: string; nodeId: string; cameraId: string; at: Date }[] = [];
    for (const item of itemsOfKind(e.items, 'camera_status')) {
      const streaming = item.message.state === 'streaming';
      if (streaming) recovered.push({ ...item, cameraId: item.cameraId!, at: new Date(item.message.ts) });
      seen(item.siteId, item.nodeId, item.cameraId!, Date.parse(item.message.ts), streaming);
    }
    for (const item of itemsOfKind(e.items, 'heartbeat')) {
      for (const c of item.message.cameras) {
        const streaming = c.state === 'streaming';
        if (streaming) recovered.push({ ...item, cameraId: c.cameraId, at: new Date(item.message.ts) });
        seen(item.siteId, item.nodeId, c.cameraId, Date.parse(item.message.ts), streaming);
      }
    }
    for (const r of recovered) {
      const key = { siteId: r.siteId, nodeId: r.nodeId, cameraId: r.cameraId, kind: 'camera_down' as const };
      for (const alert of await this.repo.clearOpen(key, r.at, w.q)) this.updated(w, alert, 'cleared');
    }
    for (const o of observed.values()) {
      // The stored statuses decide (they include this batch and any later one): a camera streaming since has no run.
      const trouble = await this.repo.cameraTrouble(o.siteId, o.nodeId, o.cameraId, w.q);
      if (!trouble || o.at - trouble.since.getTime() < this.options.cameraDownAfterMs) continue;
      const alert = await this.repo.insertIfAbsent(
        {
          siteId: o.siteId,
          nodeId: o.nodeId,
          cameraId: o.cameraId,
          kind: 'camera_down',
          severity: ALERT_SEVERITY.camera_down,
          source: `${o.nodeId}/${o.cameraId}/${trouble.since.toISOString()}`,
          violationState: null,
          openedAt: trouble.since,
          clearedAt: null,
          details: { state: trouble.state, reason: trouble.reason },
        },
        w.q,
      );
      if (alert) this.created(w, alert);
    }
  }

  /** The last will (offline, connection lost) opens `node_offline`; the node's next online status clears it. */
  private async nodes(w: Work, e: Readonly<IngestCommittedEvent>): Promise<void> {
    const statuses = itemsOfKind(e.items, 'node_status').sort(
      (a, b) => Date.parse(a.message.ts) - Date.parse(b.message.ts),
    );
    for (const item of statuses) {
      const m = item.message;
      if (m.state === 'online') {
        const key = { siteId: item.siteId, nodeId: item.nodeId, cameraId: null, kind: 'node_offline' as const };
        for (const alert of await this.repo.clearOpen(key, new Date(m.ts), w.q)) this.updated(w, alert, 'cleared');
      } else if (m.reason === 'connection_lost') {
        const alert = await this.repo.insertIfAbsent(
          {
            siteId: item.siteId,
            nodeId: item.nodeId,
            cameraId: null,
            kind: 'node_offline',
            severity: ALERT_SEVERITY.node_offline,
            // The will is fixed at connect time: its boot and time name the connection that was lost.
            source: `${item.nodeId}/${m.bootId}/${m.ts}`,
            violationState: null,
            openedAt: new Date(m.ts),
            clearedAt: null,
            details: { bootId: m.bootId, reason: m.reason, version: m.version, cameras: m.cameras },
          },
          w.q,
        );
        if (alert) this.created(w, alert);
      }
    }
  }

  /** Outbox evictions (cumulative per boot in heartbeats): one alert per occurrence window. */
  private async evictions(w: Work, e: Readonly<IngestCommittedEvent>): Promise<void> {
    const beats = itemsOfKind(e.items, 'heartbeat').sort((a, b) => Date.parse(a.message.ts) - Date.parse(b.message.ts));
    for (const item of beats) {
      const m = item.message;
      const total = Object.values(m.outbox.evicted).reduce((a, b) => a + b, 0);
      if (total === 0) continue;
      const at = new Date(m.ts);
      const latest = await this.repo.latestOfNode(item.siteId, item.nodeId, 'outbox_eviction', w.q);
      const sameBoot = latest !== null && latest.details.bootId === m.bootId;
      const seenTotal = sameBoot ? Number(latest.details.total) : 0;
      // Counted already (a replay, or no new eviction), or older than what the latest alert counted.
      if (total <= seenTotal || (latest !== null && at.getTime() < Date.parse(latest.openedAt))) continue;
      const delta = total - seenTotal;
      const details = { bootId: m.bootId, total, evicted: m.outbox.evicted, lastSeq: m.seq };
      if (sameBoot && at.getTime() - Date.parse(latest.clearedAt!) <= this.options.occurrenceWindowMs) {
        const merged = { ...details, inWindow: Number(latest.details.inWindow) + delta };
        this.updated(w, await this.repo.mergeOccurrence(latest.id, merged, at, w.q), 'occurred', `${delta} evicted`);
        continue;
      }
      const alert = await this.repo.insertIfAbsent(
        {
          siteId: item.siteId,
          nodeId: item.nodeId,
          cameraId: null,
          kind: 'outbox_eviction',
          severity: ALERT_SEVERITY.outbox_eviction,
          source: `${item.nodeId}/${m.bootId}/${m.seq}`,
          violationState: null,
          openedAt: at,
          clearedAt: at,
          details: { ...details, inWindow: delta },
        },
        w.q,
      );
      if (alert) this.created(w, alert);
    }
  }

  /** Delivery losses (closed for the first time by this commit): one alert per occurrence window. */
  private async losses(w: Work, e: Readonly<IngestCommittedEvent>): Promise<void> {
    const at = e.committedAt;
    for (const loss of e.losses) {
      const latest = await this.repo.latestOfNode(loss.siteId, loss.nodeId, 'delivery_loss', w.q);
      if (latest && at.getTime() - Date.parse(latest.clearedAt!) <= this.options.occurrenceWindowMs) {
        const ranges = [
          ...(latest.details.ranges as unknown[]),
          ...loss.ranges.map((r) => ({ bootId: loss.bootId, ...r })),
        ];
        const merged = {
          ...latest.details,
          seqs: Number(latest.details.seqs) + loss.seqs,
          ranges: ranges.slice(-MAX_RANGES),
        };
        this.updated(w, await this.repo.mergeOccurrence(latest.id, merged, at, w.q), 'occurred', `${loss.seqs} lost`);
        continue;
      }
      const alert = await this.repo.insertIfAbsent(
        {
          siteId: loss.siteId,
          nodeId: loss.nodeId,
          cameraId: null,
          kind: 'delivery_loss',
          severity: ALERT_SEVERITY.delivery_loss,
          source: `${loss.nodeId}/${loss.bootId}/${loss.ranges[0]?.from ?? 0}`,
          violationState: null,
          openedAt: at,
          clearedAt: at,
          details: {
            seqs: loss.seqs,
            ranges: loss.ranges.slice(0, MAX_RANGES).map((r) => ({ bootId: loss.bootId, ...r })),
          },
        },
        w.q,
      );
      if (alert) this.created(w, alert);
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function violationAction(state: ViolationState): AlertHistoryAction {
  return state === 'end' ? 'violation_end' : 'violation_update';
}

function entry(alert: Alert, action: AlertHistoryAction, note: string | null = null): HistoryInput {
  return { alertId: alert.id, actor: SYSTEM_ACTOR, action, fromState: alert.state, toState: alert.state, note };
}
