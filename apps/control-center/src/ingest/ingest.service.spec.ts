import { encodeBatch, parseMessage, topics, type CommitAck, type ReplayRequest } from '@vigil/contracts';
import { loadFixtures } from '@vigil/contracts/testing/golden-fixtures';
import pino from 'pino';
import { EventBus } from '../events/event-bus';
import { MetricsService } from '../metrics/metrics.service';
import { IngestService } from './ingest.service';
import {
  IngestStore,
  type CommitResult,
  type DeadLetter,
  type IngestItem,
  type LossReport,
  type RecordedLoss,
  type RecordedRejection,
} from './ingest.types';
import { advance, emptySequenceState, newlyLost, notClosed, rangeSize, type SequenceState } from './sequence-tracker';

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
  dead: DeadLetter[] = [];
  states = new Map<string, SequenceState>();
  failuresLeft = 0;
  /** Units (rows, dead letters, loss reports) per committed batch. */
  commits: number[] = [];
  /** Each commit waits this long before its result (a database round trip); concurrency observed meanwhile. */
  delayMs = 0;
  active = 0;
  maxActive = 0;
  /** Items the "database" refuses for their data, as PostgreSQL refuses NUL in text (SQLSTATE 22021). */
  poison: (item: IngestItem) => boolean = () => false;
  /** Every commit attempt, with the units it held. */
  attempts: number[] = [];
  commit(items: IngestItem[], dead: DeadLetter[], _now: Date, reports: LossReport[] = []): Promise<CommitResult> {
    this.attempts.push(items.length + dead.length + reports.length);
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      return Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' }));
    }
    if (items.some((it) => this.poison(it))) {
      const err = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
      return Promise.reject(err);
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

  private apply(items: IngestItem[], dead: DeadLetter[], reports: LossReport[]): CommitResult {
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
    const refused = new Map<string, number[]>();
    for (const d of dead) {
      if (!d.slot) continue;
      const k = `${d.slot.siteId}/${d.slot.nodeId}/${d.slot.bootId}`;
      refused.set(k, [...(refused.get(k) ?? []), d.slot.seq]);
      if (!seqs.has(k)) seqs.set(k, []);
    }
    const lostBy = new Map<string, { from: number; to: number }[]>();
    for (const r of reports) {
      for (const l of r.lost) {
        const k = `${r.siteId}/${r.nodeId}/${l.bootId}`;
        lostBy.set(k, [...(lostBy.get(k) ?? []), ...l.ranges]);
        if (!seqs.has(k)) seqs.set(k, []);
      }
    }
    const losses: RecordedLoss[] = [];
    const rejected: RecordedRejection[] = [];
    const streams = [...seqs].map(([k, list]) => {
      const [siteId, nodeId, b] = k.split('/');
      const prior = this.states.get(k) ?? emptySequenceState();
      const newlyRejected = notClosed(prior, refused.get(k) ?? []).filter((seq) => !list.includes(seq));
      if (newlyRejected.length > 0) rejected.push({ siteId, nodeId, bootId: b, seqs: newlyRejected.length });
      let state = advance(prior, [...list, ...(refused.get(k) ?? [])], Date.now());
      const fresh = newlyLost(state, lostBy.get(k) ?? []);
      if (fresh.length > 0) {
        state = advance(state, [], Date.now(), fresh);
        losses.push({ siteId, nodeId, bootId: b, ranges: fresh, seqs: rangeSize(fresh) });
      }
      this.states.set(k, state);
      return { siteId, nodeId, bootId: b, state };
    });
    return { inserted, duplicates: items.length - inserted, deadLettersEvicted: 0, streams, losses, rejected };
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
  const counter = async (c: MetricsService['ingestRejectedSeqs' | 'ingestBatchSplits']) =>
    (await c.get()).values.reduce((n, v) => n + v.value, 0);
  const rejectedTotal = () => counter(metrics.ingestRejectedSeqs);
  const splits = () => counter(metrics.ingestBatchSplits);
  return { store, service, acks, replays, lostTotal, rejectedTotal, splits, resumed: () => resumed };
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

describe('IngestService with refused messages', () => {
  let afterTest: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await afterTest?.();
    afterTest = null;
  });
  const statusTopic = topics.edgeCamera('camera_status', { ...node, cameraId: 'cam-1' });
  const status = (seq: number, reason: string | null = null) => ({
    topic: statusTopic,
    payload: Buffer.from(
      JSON.stringify({
        bootId,
        seq,
        ts: new Date().toISOString(),
        state: 'failed',
        reason,
        attempt: 1,
        nextRetryMs: 1000,
        frameSize: null,
      }),
    ),
    receivedAt: new Date(),
  });
  const seqOf = (it: IngestItem) => (it.message as { seq: number }).seq;

  it('dead-letters the messages the database refuses for their data with its SQLSTATE, commits the rest, stays ready', async () => {
    // Before: the batch was retried whole for ever, nothing after it committed and readiness turned red.
    const { store, service, acks, replays, rejectedTotal, splits } = setup({ batchMax: 64, gapGraceMs: 30 });
    service.start();
    store.poison = (it) => [7, 40].includes(seqOf(it));
    let everUnhealthy = false;
    const commit = store.commit.bind(store);
    store.commit = (...args) => {
      everUnhealthy ||= !service.healthy;
      return commit(...args);
    };
    for (let s = 1; s <= 64; s++) service.accept(s % 2 ? heartbeat(s) : status(s, `reason ${s}`));
    await service.drain();
    expect(everUnhealthy || !service.healthy).toBe(false);
    expect(store.rows.size).toBe(62);
    expect(store.dead.map((d) => [d.code, d.slot?.seq, d.topic])).toEqual([
      ['DB_22021', 7, topics.edgeNode('heartbeat', node)],
      ['DB_22021', 40, statusTopic],
    ]);
    expect(store.dead[0].reason).toMatch(/SQLSTATE 22021: invalid byte sequence/);
    expect((JSON.parse(store.dead[1].payload.toString()) as { reason: string }).reason).toBe('reason 40');
    expect(acks().at(-1)).toMatchObject({ bootId, upToSeq: 64 });
    expect(await rejectedTotal()).toBe(2);
    expect(await splits()).toBeGreaterThan(0);
    // Isolating two refused rows among 64 takes a few commits, not one per row.
    expect(store.attempts.length).toBeLessThan(30);
    await new Promise((r) => setTimeout(r, 80));
    await service.stop();
    expect(replays()).toEqual([]);
  });

  it('retries connection errors whole, then isolates a data error (no split while the database is away)', async () => {
    const { store, service, acks } = setup({ batchMax: 8 });
    store.failuresLeft = 2;
    store.poison = (it) => seqOf(it) === 3;
    for (let s = 1; s <= 8; s++) service.accept(heartbeat(s));
    await service.drain();
    expect(store.attempts.slice(0, 3)).toEqual([8, 8, 8]);
    expect(store.rows.size).toBe(7);
    expect(acks().at(-1)?.upToSeq).toBe(8);
  }, 10_000);

  it('closes the seq of a message refused at validation: the ack moves past it, counted once, never replayed', async () => {
    // Before: the commit mark stopped at the refused seq and the centre asked for it every grace period.
    const { store, service, acks, replays, rejectedTotal } = setup({ gapGraceMs: 30 });
    service.start();
    afterTest = () => service.stop();
    const tooLong = status(2, 'x'.repeat(501));
    service.accept(heartbeat(1));
    service.accept(tooLong);
    service.accept(heartbeat(3));
    await service.drain();
    expect(store.dead.map((d) => [d.code, d.path, d.slot])).toEqual([
      ['INVALID_PAYLOAD', 'reason', { ...node, bootId, seq: 2 }],
    ]);
    expect(acks().at(-1)).toMatchObject({ bootId, upToSeq: 3 });
    expect(await rejectedTotal()).toBe(1);
    // Redelivered (e.g. retained, or resent before the ack arrived): dead-lettered again, not counted again.
    service.accept(tooLong);
    await service.drain();
    expect(await rejectedTotal()).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    expect(replays()).toEqual([]);
  });

  it("closes a refused batch entry in the batch's node; a message without a trusted topic or envelope closes nothing", async () => {
    const { store, service, acks } = setup();
    const entries = [
      { suffix: 'heartbeat', payload: heartbeat(1).payload },
      { suffix: 'camera/cam-1/bogus', payload: heartbeat(2).payload },
      { suffix: 'heartbeat', payload: Buffer.from(JSON.stringify({ bootId, seq: 3, uptimeS: -1 })) },
      { suffix: 'heartbeat', payload: heartbeat(4).payload },
    ];
    service.accept({ topic: topics.edgeNode('batch', node), payload: encodeBatch(entries), receivedAt: new Date() });
    service.accept({
      topic: 'vigil/v1/edge/site-a/node-1/bogus',
      payload: heartbeat(5).payload,
      receivedAt: new Date(),
    });
    service.accept({ topic: topics.centre('commit', node), payload: heartbeat(6).payload, receivedAt: new Date() });
    service.accept({
      topic: topics.edgeNode('heartbeat', node),
      payload: Buffer.from('{"seq":7}'),
      receivedAt: new Date(),
    });
    service.accept({
      topic: topics.edgeNode('delivery_gap', node),
      payload: heartbeat(8).payload,
      receivedAt: new Date(),
    });
    await service.drain();
    expect(store.dead.map((d) => d.slot?.seq ?? null)).toEqual([2, 3, null, null, null, null]);
    expect(store.dead[0].slot).toEqual({ ...node, bootId, seq: 2 });
    expect(acks().at(-1)?.upToSeq).toBe(4);
  });
});
