import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeMessage, parseMessage, topics, unpackBatch, type DeliveryGap } from '@vigil/contracts';
import { OutboxPublisher, resendDelay, type OutboxTransport } from './outbox.publisher';
import { Outbox } from './outbox.store';
import { cameraStatusItem, crossingItem, eventItem, tagOf } from './testing/outbox-messages';

const node = { siteId: 'site-1', nodeId: 'node-1' };

/** Stands in for the MQTT session: records publishes, and PUBACKs them now or when told. */
class FakeTransport implements OutboxTransport {
  connected = true;
  receiveMaximum: number | null = null;
  autoAck = true;
  readonly sent: { topic: string; payload: Buffer; retain: boolean; seq: number; bootId: string; tag: number }[] = [];
  /** Lost-seq announcements, kept apart from the sequenced messages. */
  readonly gaps: DeliveryGap[] = [];
  private readonly pending: (() => void)[] = [];
  private readonly listeners = new Set<(c: boolean) => void>();
  maxPending = 0;
  /** MQTT publishes (a batch is one). */
  publishes = 0;
  /** Entries that arrived inside batches. */
  batched = 0;

  onConnectionChange(l: (c: boolean) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  setConnected(c: boolean): void {
    this.connected = c;
    for (const l of this.listeners) l(c);
  }

  publishRaw(topic: string, payload: Buffer, retain = false): Promise<void> {
    const r = parseMessage(topic, payload);
    if (!r.ok || r.kind === 'evidence_jpeg') throw new Error('unexpected payload');
    if (r.kind === 'delivery_gap') {
      expect(r.topic).toMatchObject(node);
      this.gaps.push(r.message);
      return Promise.resolve();
    }
    this.publishes++;
    // A batch is recorded entry by entry, each under its own topic, as the centre unpacks it.
    const entries =
      r.kind === 'batch'
        ? unpackBatch(r.topic, r.message).map((e) => {
            if (!e.result.ok) throw new Error(`bad batch entry: ${e.result.error.reason}`);
            this.batched++;
            return {
              topic: e.topic,
              payload: Buffer.from(JSON.stringify(e.result.message)),
              message: e.result.message,
            };
          })
        : [{ topic, payload, message: r.message }];
    for (const e of entries) {
      const m = e.message as unknown as { bootId: string; seq: number } & Record<string, unknown>;
      this.sent.push({ topic: e.topic, payload: e.payload, retain, seq: m.seq, bootId: m.bootId, tag: tagOf(m) ?? -1 });
    }
    if (this.autoAck) return Promise.resolve();
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.maxPending = Math.max(this.maxPending, this.pending.length);
    });
  }

  ackAll(): void {
    for (const r of this.pending.splice(0)) r();
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('OutboxPublisher', () => {
  let dir: string;
  let outbox: Outbox;
  let transport: FakeTransport;
  let publisher: OutboxPublisher;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-publisher-'));
    outbox = Outbox.open({ dir, node });
    transport = new FakeTransport();
  });
  afterEach(async () => {
    await publisher?.stop(0);
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (o: ConstructorParameters<typeof OutboxPublisher>[2] = {}) => {
    publisher = new OutboxPublisher(outbox, transport, { maintenanceMs: 10, ...o });
    publisher.start();
  };

  it('publishes in outbox order with at most `window` awaiting PUBACK, and deletes nothing on PUBACK', async () => {
    transport.autoAck = false;
    outbox.enqueueMany(Array.from({ length: 50 }, (_, k) => crossingItem(k)));
    start({ window: 8, batchEntries: 1 });
    await until('first window', () => transport.sent.length === 8);
    await new Promise((r) => setTimeout(r, 30));
    expect(transport.sent).toHaveLength(8);
    while (transport.sent.length < 50) {
      transport.ackAll();
      await new Promise((r) => setTimeout(r, 2));
    }
    transport.ackAll();
    expect(transport.maxPending).toBe(8);
    expect(transport.sent.map((s) => s.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(transport.sent.map((s) => s.tag)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(outbox.depth).toBe(50);

    publisher.handleCommit({ bootId: outbox.bootId, upToSeq: 30 });
    expect(outbox.depth).toBe(20);
    expect(publisher.uncommitted).toBe(20);
  });

  it('sends a backlog as batches of batchable entries, in order, each entry keeping its identity', async () => {
    transport.autoAck = false;
    outbox.enqueueMany(Array.from({ length: 45 }, (_, k) => crossingItem(k)));
    start({ window: 2, batchEntries: 20 });
    // Two window slots, each one batch of 20 entries; nothing more until a PUBACK.
    await until('two batches', () => transport.sent.length === 40);
    await new Promise((r) => setTimeout(r, 30));
    expect([transport.publishes, transport.batched, transport.maxPending]).toEqual([2, 40, 2]);
    transport.ackAll();
    await until('the rest', () => transport.sent.length === 45);
    transport.ackAll();
    expect(transport.sent.map((s) => s.seq)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    expect(transport.sent.map((s) => s.tag)).toEqual(Array.from({ length: 45 }, (_, i) => i));
    expect(transport.sent.every((s) => s.topic === topics.edgeCamera('crossing', { ...node, cameraId: 'cam-1' }))).toBe(
      true,
    );
    expect(publisher.counters).toMatchObject({ published: 45, batches: 3 });
    // Nothing is deleted until the centre commits, batch or not.
    expect(outbox.depth).toBe(45);
  });

  it('sends a lone entry alone on its own topic, and never batches a retained status', async () => {
    start({ batchEntries: 20 });
    outbox.enqueueMany([crossingItem(0)]);
    await until('one', () => transport.sent.length === 1);
    expect([transport.publishes, transport.batched]).toEqual([1, 0]);
    outbox.enqueueMany([crossingItem(1), cameraStatusItem(1), crossingItem(2)]);
    await until('three more', () => transport.sent.length === 4);
    expect(transport.sent.slice(1).map((s) => s.retain)).toEqual([false, true, false]);
    expect(transport.batched).toBe(0);
  });

  it('honours a smaller MQTT 5 receive maximum from the broker', async () => {
    transport.autoAck = false;
    transport.receiveMaximum = 3;
    outbox.enqueueMany(Array.from({ length: 10 }, (_, k) => crossingItem(k)));
    start({ window: 8, batchEntries: 1 });
    await until('window of 3', () => transport.sent.length === 3);
    await new Promise((r) => setTimeout(r, 30));
    expect(transport.sent).toHaveLength(3);
    transport.ackAll();
  });

  it('pauses while disconnected and resumes on reconnect', async () => {
    transport.setConnected(false);
    start();
    outbox.enqueueMany(Array.from({ length: 5 }, (_, k) => crossingItem(k)));
    await new Promise((r) => setTimeout(r, 50));
    expect(transport.sent).toHaveLength(0);
    transport.setConnected(true);
    await until('all five', () => transport.sent.length === 5);
    expect(transport.sent.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('stops taking new entries past the commit window until the centre commits', async () => {
    outbox.enqueueMany(Array.from({ length: 30 }, (_, k) => crossingItem(k)));
    start({ commitWindow: 10, window: 4 });
    await until('commit window', () => transport.sent.length === 10);
    await new Promise((r) => setTimeout(r, 30));
    expect(transport.sent).toHaveLength(10);
    const commit = encodeMessage('commit', { bootId: outbox.bootId, upToSeq: 6, ts: new Date().toISOString() });
    const r = publisher.handleCentreMessage(topics.centre('commit', node), commit);
    expect(r.ok && r.kind).toBe('commit');
    await until('six more', () => transport.sent.length === 16);
    expect(transport.sent.at(-1)?.seq).toBe(16);
  });

  it('replays requested ranges with the original identities and counts what it no longer has', async () => {
    outbox.enqueueMany(Array.from({ length: 20 }, (_, k) => crossingItem(k)));
    start({ window: 4 });
    await until('all twenty', () => transport.sent.length === 20);
    publisher.handleCommit({ bootId: outbox.bootId, upToSeq: 5 });
    const first = new Map(transport.sent.map((s) => [s.seq, s.payload.toString()]));
    transport.sent.length = 0;
    const replay = encodeMessage('replay', {
      requestId: '0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a2b',
      bootId: outbox.bootId,
      ranges: [
        { from: 3, to: 8 },
        { from: 12, to: 12 },
      ],
      ts: new Date().toISOString(),
    });
    publisher.handleCentreMessage(topics.centre('replay', node), replay);
    await until('replayed', () => transport.sent.length === 4);
    expect(transport.sent.map((s) => s.seq)).toEqual([6, 7, 8, 12]);
    for (const s of transport.sent) expect(s.payload.toString()).toBe(first.get(s.seq));
    expect(publisher.counters).toMatchObject({ replayed: 4, replayMissing: 3 });
  });

  it('doubles the resend delay per attempt up to the cap', () => {
    expect([0, 1, 2, 3, 4, 50].map((a) => resendDelay(a, 30_000, 600_000))).toEqual([
      30_000, 60_000, 120_000, 240_000, 480_000, 600_000,
    ]);
  });

  it('resends what the centre has not committed after the timeout, with the same identity', async () => {
    outbox.enqueueMany([crossingItem(1), crossingItem(2)]);
    start({ resendAfterMs: 40, resendMaxMs: 80 });
    await until('first sends', () => transport.sent.length === 2);
    publisher.handleCommit({ bootId: outbox.bootId, upToSeq: 1 });
    await until('two resends of seq 2', () => transport.sent.filter((s) => s.seq === 2).length >= 3);
    const sends = transport.sent.filter((s) => s.seq === 2);
    expect(new Set(sends.map((s) => s.payload.toString())).size).toBe(1);
    expect(transport.sent.filter((s) => s.seq === 1)).toHaveLength(1);
    expect(publisher.counters.resent).toBeGreaterThanOrEqual(2);
    publisher.handleCommit({ bootId: outbox.bootId, upToSeq: 2 });
    expect(publisher.uncommitted).toBe(0);
    expect(await publisher.drain(100)).toBe(true);
  });

  it('sets the retained flag only for the newest status of a topic', async () => {
    outbox.enqueueMany([cameraStatusItem(0), cameraStatusItem(1)]);
    start();
    await until('two statuses', () => transport.sent.length === 2);
    publisher.handleReplay({ bootId: outbox.bootId, ranges: [{ from: 1, to: 2 }] });
    await until('replayed', () => transport.sent.length === 4);
    expect(transport.sent.map((s) => [s.seq, s.retain])).toEqual([
      [1, true],
      [2, true],
      [1, false],
      [2, true],
    ]);
  });

  it('re-publishes entries left by an earlier boot with their original identity, before new ones', async () => {
    outbox.enqueueMany([crossingItem(1), crossingItem(2), crossingItem(3)]);
    const oldBoot = outbox.bootId;
    outbox.takeForPublish(0, 2); // 1 and 2 went out before the "crash"
    outbox.close();
    outbox = Outbox.open({ dir, node });
    outbox.enqueue(crossingItem(4));
    start();
    await until('all four', () => transport.sent.length === 4);
    expect(transport.sent.map((s) => [s.bootId === oldBoot ? 'old' : 'new', s.seq, s.tag])).toEqual([
      ['old', 1, 1],
      ['old', 2, 2],
      ['new', 1, 3],
      ['new', 2, 4],
    ]);
    publisher.handleCommit({ bootId: oldBoot, upToSeq: 2 });
    publisher.handleCommit({ bootId: outbox.bootId, upToSeq: 2 });
    expect(await publisher.drain(1000)).toBe(true);
  });

  describe('seqs evicted after publication (delivery_gap)', () => {
    /** An outbox whose byte bound holds exactly `n` crossings: every new event evicts published crossings. */
    const reopenBounded = (n: number) => {
      const probe = Outbox.open({ dir: path.join(dir, 'probe'), node });
      probe.enqueue(crossingItem(10));
      const size = probe.bytes;
      probe.close();
      outbox.close();
      outbox = Outbox.open({ dir, node, maxBytes: size * n });
    };

    it('announces them at once, again on reconnect, and never again once a commit ack passes them', async () => {
      reopenBounded(10);
      outbox.enqueueMany(Array.from({ length: 10 }, (_, k) => crossingItem(10 + k)));
      start({ lostAnnounceMs: 60_000 });
      await until('ten published', () => transport.sent.length === 10);
      // The centre commits nothing (it missed them); a new event pushes out published crossings.
      outbox.enqueue(eventItem(1));
      await until('announcement', () => transport.gaps.length === 1);
      const lost = transport.gaps[0].lost;
      expect(transport.gaps[0]).toMatchObject({ bootId: outbox.bootId, requestId: null });
      expect(lost).toHaveLength(1);
      expect(lost[0].bootId).toBe(outbox.bootId);
      expect(lost[0].ranges[0].from).toBe(1);
      const upTo = lost[0].ranges[0].to;
      expect(outbox.lostOutstandingSeqs).toBe(upTo);

      transport.setConnected(false);
      transport.setConnected(true);
      await until('announced again on reconnect', () => transport.gaps.length === 2);
      expect(transport.gaps[1].lost).toEqual(lost);

      // The centre closed them and acknowledges past them: forgotten, never announced again.
      publisher.handleCommit({ bootId: outbox.bootId, upToSeq: upTo });
      expect(outbox.lostOutstandingSeqs).toBe(0);
      transport.setConnected(false);
      transport.setConnected(true);
      await new Promise((r) => setTimeout(r, 50));
      expect(transport.gaps).toHaveLength(2);
      expect(publisher.counters.gapAnnouncements).toBe(2);
    });

    it('repeats the announcement until a commit ack passes it', async () => {
      reopenBounded(4);
      outbox.enqueueMany(Array.from({ length: 4 }, (_, k) => crossingItem(10 + k)));
      start({ lostAnnounceMs: 30 });
      await until('four published', () => transport.sent.length === 4);
      outbox.enqueue(eventItem(1));
      await until('three announcements', () => transport.gaps.length >= 3);
      const to = transport.gaps[0].lost[0].ranges[0].to;
      for (const g of transport.gaps) expect(g.lost).toEqual(transport.gaps[0].lost);
      publisher.handleCommit({ bootId: outbox.bootId, upToSeq: to });
      const count = transport.gaps.length;
      await new Promise((r) => setTimeout(r, 120));
      expect(transport.gaps.length).toBe(count);
    });

    it('answers a replay of evicted seqs with a delivery_gap naming the request, and replays what it holds', async () => {
      reopenBounded(10);
      outbox.enqueueMany(Array.from({ length: 10 }, (_, k) => crossingItem(10 + k)));
      start({ lostAnnounceMs: 60_000 });
      await until('ten published', () => transport.sent.length === 10);
      outbox.enqueue(eventItem(1));
      await until('announcement', () => transport.gaps.length === 1);
      const lostTo = transport.gaps[0].lost[0].ranges[0].to;
      transport.sent.length = 0;
      const requestId = '0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a2b';
      const replay = encodeMessage('replay', {
        requestId,
        bootId: outbox.bootId,
        ranges: [{ from: 1, to: 10 }],
        ts: new Date().toISOString(),
      });
      publisher.handleCentreMessage(topics.centre('replay', node), replay);
      await until('answer', () => transport.gaps.length === 2);
      expect(transport.gaps[1]).toMatchObject({
        requestId,
        lost: [{ bootId: outbox.bootId, ranges: [{ from: 1, to: lostTo }] }],
      });
      await until('replayed the rest', () => transport.sent.length === 10 - lostTo);
      expect(transport.sent.map((s) => s.seq)).toEqual(Array.from({ length: 10 - lostTo }, (_, i) => lostTo + 1 + i));
      expect(publisher.counters.replayMissing).toBe(lostTo);
    });
  });
});
