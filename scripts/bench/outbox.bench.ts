/**
 * Outbox write throughput with realistic payloads (the intersection mix of outbox-messages.ts: crossings, per-minute
 * counts, events with model provenance, heartbeats). For `npm run bench:edge`; also runnable alone:
 * `tsx scripts/bench/outbox.bench.ts [messages]`.
 *
 * Measured on a directory of the real disk (os.tmpdir() unless `dir` is given: tmpfs would make fsync free).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Outbox } from '../../edge/src/outbox/outbox.store';
import type { OutboxItem } from '../../edge/src/outbox/outbox.types';
import { mixedItem } from '../../edge/src/outbox/testing/outbox-messages';

export interface OutboxBenchOptions {
  /** Messages per measurement. Default 3000. */
  messages?: number;
  /** Messages per transaction in the batched measurements (what one frame may produce). Default 10. */
  batch?: number;
  dir?: string;
}

export interface OutboxBenchResult {
  messages: number;
  batch: number;
  avgPayloadBytes: number;
  /** One message per transaction, synchronous=FULL (the default: an fsync per commit). */
  writesPerS: number;
  /** `batch` messages per transaction, synchronous=FULL. */
  batchedWritesPerS: number;
  /** One message per transaction, synchronous=NORMAL (no fsync per commit in WAL mode). */
  normalWritesPerS: number;
  normalBatchedWritesPerS: number;
  /** Enqueue (batched) + identity assignment + commit-ack deletion, i.e. the outbox's whole work per delivered message. */
  deliveryCyclePerS: number;
}

function measure(dir: string, synchronous: 'FULL' | 'NORMAL', items: OutboxItem[], batch: number): number {
  const sub = mkdtempSync(path.join(dir, `${synchronous}-${batch}-`));
  const outbox = Outbox.open({ dir: sub, node: { siteId: 'bench', nodeId: 'node-1' }, synchronous });
  try {
    const t0 = performance.now();
    for (let i = 0; i < items.length; i += batch) outbox.enqueueMany(items.slice(i, i + batch));
    return items.length / ((performance.now() - t0) / 1000);
  } finally {
    outbox.close();
  }
}

function measureCycle(dir: string, items: OutboxItem[], batch: number): number {
  const sub = mkdtempSync(path.join(dir, 'cycle-'));
  const outbox = Outbox.open({ dir: sub, node: { siteId: 'bench', nodeId: 'node-1' } });
  try {
    let cursor = 0;
    const t0 = performance.now();
    for (let i = 0; i < items.length; i += batch) {
      outbox.enqueueMany(items.slice(i, i + batch));
      const taken = outbox.takeForPublish(cursor, batch);
      const last = taken.at(-1);
      if (last) {
        cursor = last.id;
        outbox.commit(last.bootId, last.seq);
      }
    }
    if (outbox.depth !== 0) throw new Error(`delivery cycle left ${outbox.depth} entries`);
    return items.length / ((performance.now() - t0) / 1000);
  } finally {
    outbox.close();
  }
}

export function benchOutbox(options: OutboxBenchOptions = {}): Promise<OutboxBenchResult> {
  const messages = options.messages ?? 3000;
  const batch = options.batch ?? 10;
  const dir = mkdtempSync(path.join(options.dir ?? os.tmpdir(), 'vigil-outbox-bench-'));
  try {
    // Payloads are built once, outside the timings; validation (zod) inside enqueue is part of what is measured.
    const items = Array.from({ length: messages }, (_, k) => mixedItem(k + 1));
    const avgPayloadBytes = Math.round(
      items.reduce((a, it) => a + Buffer.byteLength(JSON.stringify('message' in it ? it.message : it.header)), 0) /
        messages,
    );
    const round = (x: number) => Math.round(x);
    // Warm-up (JIT, schema compilation, first file creation), discarded.
    measure(dir, 'FULL', items.slice(0, 200), batch);
    return Promise.resolve({
      messages,
      batch,
      avgPayloadBytes,
      writesPerS: round(measure(dir, 'FULL', items, 1)),
      batchedWritesPerS: round(measure(dir, 'FULL', items, batch)),
      normalWritesPerS: round(measure(dir, 'NORMAL', items, 1)),
      normalBatchedWritesPerS: round(measure(dir, 'NORMAL', items, batch)),
      deliveryCyclePerS: round(measureCycle(dir, items, batch)),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  void benchOutbox({ messages: Number(process.argv[2] ?? 3000) }).then((r) => console.log(JSON.stringify(r, null, 2)));
}
