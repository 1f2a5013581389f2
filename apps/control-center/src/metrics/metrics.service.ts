import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of the centre; one registry per app instance so tests can run several. */
export class MetricsService {
  readonly registry = new Registry();

  readonly ingestMessages = new Counter({
    name: 'vigil_ingest_messages_total',
    help: 'Edge messages by outcome: accepted (stored), duplicate (already stored), rejected (dead-lettered, kind = the code), dropped (a dead letter the database refused too)',
    labelNames: ['result', 'kind'] as const,
    registers: [this.registry],
  });

  readonly ingestBatchSeconds = new Histogram({
    name: 'vigil_ingest_batch_seconds',
    help: 'Time to commit one ingest batch to the database',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly ingestBatchFailures = new Counter({
    name: 'vigil_ingest_batch_failures_total',
    help: 'Batches that failed to commit and were retried (database unavailable)',
    registers: [this.registry],
  });

  readonly ingestQueueDepth = new Gauge({
    name: 'vigil_ingest_queue_depth',
    help: 'Messages received and not yet committed (a batch counts once per entry)',
    registers: [this.registry],
  });

  readonly ingestBatchEntries = new Counter({
    name: 'vigil_ingest_batch_entries_total',
    help: 'Entries received inside edge batch messages (each then counted like a message of its own)',
    registers: [this.registry],
  });

  readonly ingestLagSeconds = new Gauge({
    name: 'vigil_ingest_lag_seconds',
    help: 'Commit time minus edge creation time of the newest committed message, per edge node',
    labelNames: ['site', 'node'] as const,
    registers: [this.registry],
  });

  readonly deadLetterEvictions = new Counter({
    name: 'vigil_dead_letter_evictions_total',
    help: 'Dead-letter rows deleted to keep the table within its bound',
    registers: [this.registry],
  });

  readonly replayRequests = new Counter({
    name: 'vigil_replay_requests_total',
    help: 'Replay requests sent to edges after a sequence gap',
    registers: [this.registry],
  });

  readonly deliveryLost = new Counter({
    name: 'vigil_delivery_lost_total',
    help: 'Sequence numbers an edge announced it can no longer deliver (evicted from its outbox before commit), counted once each',
    labelNames: ['site', 'node'] as const,
    registers: [this.registry],
  });

  readonly ingestRejectedSeqs = new Counter({
    name: 'vigil_ingest_rejected_seqs_total',
    help: 'Sequence numbers closed as rejected: their message was refused (at validation or by the database) and dead-lettered, so the commit ack moves past them. Counted once each',
    labelNames: ['site', 'node'] as const,
    registers: [this.registry],
  });

  readonly ingestBatchSplits = new Counter({
    name: 'vigil_ingest_batch_splits_total',
    help: 'Batches the database refused for their data (SQLSTATE class 22/23/54), split in two to isolate the refused messages',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'vigil_' });
  }
}
