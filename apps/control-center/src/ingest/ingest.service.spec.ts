import { encodeBatch, parseMessage, topics, type CommitAck, type ReplayRequest } from '@vigil/contracts';
import { loadFixtures } from '@vigil/contracts/testing/golden-fixtures';
import pino from 'pino';
import { EventBus } from '../events/event-bus';
import { MetricsService } from '../metrics/metrics.service';
import { IngestService } from './ingest.service';
import {
  IngestStore,
  type CommitResult,
  type DeadLetterRow,
  type IngestItem,
  type LossReport,
  type RecordedLoss,
} from './ingest.types';
import { advance, emptySequenceState, newlyLost, rangeSize, type SequenceState } from './sequence-tracker';

const node = { siteId: 'site-a', nodeId: 'node-1' };
const bootId = '5b0d7c7e-3f0a-4c8e-9a51-2f8e4c1d9b01';
const heartbeatFixture = loadFixtures('valid').find((f) => f.name === 'heartbeat')!;

function heartbeat(seq: number) {
  const payload = { ...(heartbeatFixture.json as object), bootId, seq };
  return {
    topic: topics.edgeNode('heartbeat', node),
    payload: Buffer.from(JSON.stringify(payload)),
    receivedAt: new Date(),
  };
}

/** In-memory store with the same contract as the database one (unit tests only). */
class MemoryStore extends IngestStore {
  rows = new Map<string, IngestItem>();
  dead: DeadLetterRow[] = [];
  states = new Map<string, SequenceState>();
  failuresLeft = 0;
  /** Units (rows, dead letters, loss reports) per committed batch. */
  commits: number[] = [];
  /** Each commit waits this long before its result (a database round trip); concurrency observed meanwhile. */
  delayMs = 0;
  active = 0;
  maxActive = 0;
  commit(items: IngestItem[], dead: DeadLetterRow[], _now: Date, reports: LossReport[] = []): Promise<CommitResult> {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      return Promise.reject(new Error('connection refused'));
    }
    this.commits.push(items.length + dead.length + reports.length);
    if (this.delayMs > 0) {
      this.active++;
      this.maxActive = Math.max(this.maxActive, this.active);
      const result = this.apply(items, dead, reports);
      return new Promise((r) => setTimeout(r, this.delayMs)).then(() => {
        this.active--;
        return result;
      });
    }
    return Promise.resolve(this.apply(items, dead, reports));
  }

  private apply(items: IngestItem[], dead: DeadLetterRow[], reports: LossReport[]): CommitResult {
    let inserted = 0;
    const seqs = new Map<string, number[]>();
    for (const it of items) {
      const m = it.message as { bootId: string; seq?: number };
      const key = `${it.siteId}/${it.nodeId}/${m.bootId}/${m.seq}`;
      if (!this.rows.has(key)) {
        this.rows.set(key, it);
        inserted++;
      }
      if (m.seq !== undefined) {
        const k = `${it.siteId}/${it.nodeId}/${m.bootId}`;
        seqs.set(k, [...(seqs.get(k) ?? []), m.seq]);
      }
    }
    this.dead.push(...dead);
    const lostBy = new Map<string, { from: number; to: number }[]>();
    for (const r of reports) {
      for (const l of r.lost) {
        const k = `${r.siteId}/${r.nodeId}/${l.bootId}`;
        lostBy.set(k, [...(lostBy.get(k) ?? []), ...l.ranges]);
        if (!seqs.has(k)) seqs.set(k, []);
      }
    }
    const losses: RecordedLoss[] = [];
    const streams = [...seqs].map(([k, list]) => {
      const [siteId, nodeId, b] = k.split('/');
      let state = advance(this.states.get(k) ?? emptySequenceState(), list, Date.now());
      const fresh = newlyLost(state, lostBy.get(k) ?? []);
      if (fresh.length > 0) {
        state = advance(state, [], Date.now(), fresh);
        losses.push({ siteId, nodeId, bootId: b, ranges: fresh, seqs: rangeSize(fresh) });
      }
      this.states.set(k, state);
      return { siteId, nodeId, bootId: b, state };
    });
    return { inserted, duplicates: items.length - inserted, deadLettersEvicted: 0, streams, losses };
  }
}

function setup(
  opts: Partial<{ queueMax: number; gapGraceMs: number; batchMax: number; commitConcurrency: number }> = {},
) {
  const store = new MemoryStore();
  const published: { topic: string; payload: Buffer }[] = [];
  let resumed = 0;
  const metrics = new MetricsService();
  const service = new IngestService(
    store,
    {
      publish: (topic, payload) => {
        published.push({ topic, payload });
        return Promise.resolve();
      },
      resume: () => void resumed++,
    },
    {
      batchMax: opts.batchMax ?? 100,
      commitConcurrency: opts.commitConcurrency,
      batchWaitMs: 1,
      queueMax: opts.queueMax ?? 10_000,
      gapGraceMs: opts.gapGraceMs ?? 50,
    },
    metrics,
    pino({ level: 'silent' }),
    new EventBus(pino({ level: 'silent' })),
  );
  const acks = () =>
    published
      .filter((p) => p.topic === topics.centre('commit', node))
      .map((p) => JSON.parse(p.payload.toString()) as CommitAck);
  const replays = () =>
    published
      .filter((p) => p.topic === topics.centre('replay', node))
      .map((p) => JSON.parse(p.payload.toString()) as ReplayRequest);
  const lostTotal = async () => {
    const m = await metrics.deliveryLost.get();
    return m.values.find((v) => v.labels.site === node.siteId && v.labels.node === node.nodeId)?.value ?? 0;
  };
  return { store, service, acks, replays, lostTotal, resumed: () => resumed };
}

describe('IngestService', () => {
  let afterTest: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await afterTest?.();
    afterTest = null;
  });

  it('stores valid messages, dead-letters invalid ones with the field path, and acks the committed seq', async () => {
    const { store, service, acks } = setup();
    service.accept(heartbeat(1));
    service.accept({
      topic: topics.edgeNode('heartbeat', node),
      payload: Buffer.from('{"seq":"x"}'),
      receivedAt: new Date(),
    });
    service.accept(heartbeat(2));
    service.accept({ topic: 'random/topic', payload: Buffer.alloc(10_000, 1), receivedAt: new Date() });
    await service.drain();
    expect(store.rows.size).toBe(2);
    expect(store.dead.map((d) => d.code)).toEqual(['INVALID_PAYLOAD', 'UNKNOWN_TOPIC']);
    expect(store.dead[0].reason).toContain('seq:');
    expect(store.dead[1].payload.length).toBe(4096);
    expect(store.dead[1].payloadBytes).toBe(10_000);
    expect(acks().at(-1)).toMatchObject({ bootId, upToSeq: 2 });
    expect(parseMessage(topics.centre('commit', node), Buffer.from(JSON.stringify(acks()[0]))).ok).toBe(true);
  });

  it('unpacks a batch: every good entry stored and acked, a bad entry dead-lettered alone under its own topic', async () => {
    const { store, service, acks } = setup({ batchMax: 4 });
    const entry = (seq: number) => ({ suffix: 'heartbeat', payload: heartbeat(seq).payload });
    const bad = { suffix: 'heartbeat', payload: Buffer.from(JSON.stringify({ bootId, seq: 'seven' })) };
    const entries = [entry(1), entry(2), bad, ...Array.from({ length: 7 }, (_, i) => entry(3 + i))];
    expect(
      service.accept({ topic: topics.edgeNode('batch', node), payload: encodeBatch(entries), receivedAt: new Date() }),
    ).toBe(true);
    // A malformed envelope is dead-lettered whole; it does not disturb the entries around it.
    service.accept({
      topic: topics.edgeNode('batch', node),
      payload: Buffer.from('{"entries":[]}'),
      receivedAt: new Date(),
    });
    await service.drain();
    expect([...store.rows.values()].map((r) => (r.message as { seq: number }).seq).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(store.dead.map((d) => [d.topic, d.code, d.path])).toEqual([
      [topics.edgeNode('heartbeat', node), 'INVALID_PAYLOAD', 'seq'],
      [topics.edgeNode('batch', node), 'INVALID_PAYLOAD', 'entries'],
    ]);
    expect(JSON.parse(store.dead[0].payload.toString())).toEqual({ bootId, seq: 'seven' });
    expect(acks().at(-1)).toMatchObject({ bootId, upToSeq: 9 });
    // Ten rows of one message were committed in batches of at most batchMax rows.
    expect(store.commits.every((n) => n <= 4)).toBe(true);
  });

  it('commits full batches concurrently up to commitConcurrency, storing each message once with rising acks', async () => {
    const { store, service, acks } = setup({ batchMax: 50, commitConcurrency: 2 });
    store.delayMs = 15;
    for (let s = 1; s <= 500; s++) service.accept(heartbeat(s));
    await service.drain();
    expect(store.maxActive).toBe(2);
    expect(store.rows.size).toBe(500);
    expect(store.commits.every((n) => n <= 50)).toBe(true);
    const upTo = acks().map((a) => a.upToSeq);
    expect(upTo.at(-1)).toBe(500);
    expect(upTo).toEqual([...upTo].sort((a, b) => a - b));
  });

  it('keeps retrying a batch while the database is down and loses nothing', async () => {
    const { store, service, acks } = setup();
    store.failuresLeft = 3;
    for (let s = 1; s <= 5; s++) service.accept(heartbeat(s));
    await new Promise((r) => setTimeout(r, 20));
    expect(service.healthy).toBe(false);
    await service.drain();
    expect(service.healthy).toBe(true);
    expect(store.rows.size).toBe(5);
    expect(acks().at(-1)?.upToSeq).toBe(5);
  }, 10_000);

  it('signals backpressure when the queue is full and resumes once it drained', async () => {
    const { store, service, resumed } = setup({ queueMax: 1000 });
    store.failuresLeft = 1;
    let lastAnswer = true;
    for (let s = 1; s <= 1000; s++) lastAnswer = service.accept(heartbeat(s));
    expect(lastAnswer).toBe(false);
    await service.drain();
    expect(resumed()).toBeGreaterThan(0);
    expect(store.rows.size).toBe(1000);
  });

  it('asks for a replay of a hole that stays open past the grace period, and only once per grace period', async () => {
    const { service, replays, acks } = setup({ gapGraceMs: 30 });
    service.start();
    afterTest = () => service.stop();
    for (const s of [1, 2, 5, 6]) service.accept(heartbeat(s));
    await service.drain();
    expect(acks().at(-1)?.upToSeq).toBe(2);
    expect(replays()).toEqual([]);
    await new Promise((r) => setTimeout(r, 80));
    expect(replays().length).toBeGreaterThanOrEqual(1);
    expect(replays()[0]).toMatchObject({ bootId, ranges: [{ from: 3, to: 4 }] });
    service.accept(heartbeat(3));
    service.accept(heartbeat(4));
    await service.drain();
    expect(acks().at(-1)?.upToSeq).toBe(6);
    const count = replays().length;
    await new Promise((r) => setTimeout(r, 80));
    expect(replays().length).toBe(count);
  });

  it('counts a replayed duplicate as a duplicate, not a new row', async () => {
    const { store, service } = setup();
    service.accept(heartbeat(1));
    await service.drain();
    service.accept(heartbeat(1));
    await service.drain();
    expect(store.rows.size).toBe(1);
  });

  it('closes seqs an edge announced as lost: the ack passes them, they are counted once, never asked for again', async () => {
    const { service, acks, replays, lostTotal } = setup({ gapGraceMs: 30 });
    service.start();
    afterTest = () => service.stop();
    for (const s of [1, 2, 4, 5, 9]) service.accept(heartbeat(s));
    await service.drain();
    expect(acks().at(-1)?.upToSeq).toBe(2);
    // 3 and 6-7 were evicted at the edge after publication; 8 is still on its way.
    service.accept(
      gap([
        { from: 3, to: 3 },
        { from: 6, to: 7 },
      ]),
    );
    await service.drain();
    expect(acks().at(-1)).toMatchObject({ bootId, upToSeq: 7 });
    expect(await lostTotal()).toBe(3);
    const before = replays().length;
    await new Promise((r) => setTimeout(r, 80));
    // Only 8 is missing: the announced seqs are never part of a replay request.
    expect(replays().length).toBeGreaterThan(before);
    for (const r of replays().slice(before)) expect(r.ranges).toEqual([{ from: 8, to: 8 }]);
    // The edge repeats its announcement until the ack passes it: nothing is counted twice.
    service.accept(
      gap([
        { from: 3, to: 3 },
        { from: 6, to: 7 },
      ]),
    );
    service.accept(heartbeat(8));
    await service.drain();
    expect(acks().at(-1)?.upToSeq).toBe(9);
    expect(await lostTotal()).toBe(3);
  });
});

function gap(ranges: { from: number; to: number }[]) {
  return {
    topic: topics.edgeNode('delivery_gap', node),
    payload: Buffer.from(
      JSON.stringify({ bootId, ts: new Date().toISOString(), requestId: null, lost: [{ bootId, ranges }] }),
    ),
    receivedAt: new Date(),
  };
}
