import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DeliveryGapSchema, HeartbeatSchema, MAX_LOST_BOOTS, parseMessage } from '@vigil/contracts';
import { Outbox, OUTBOX_FILE, type OutboxOptions } from './outbox.store';
import type { OutboxItem } from './outbox.types';
import {
  cameraStatusItem,
  countItem,
  crossingItem,
  eventItem,
  evidenceJpegItem,
  heartbeatItem,
  mixedItem,
  tagOf,
} from './testing/outbox-messages';

const node = { siteId: 'site-1', nodeId: 'node-1' };

describe('Outbox (SQLite store)', () => {
  let dir: string;
  const open: Outbox[] = [];
  const openOutbox = (o: Partial<OutboxOptions> = {}) => {
    const box = Outbox.open({ dir, node, ...o });
    open.push(box);
    return box;
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-outbox-'));
  });
  afterEach(() => {
    for (const b of open.splice(0)) b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const parse = (e: { topic: string; payload: Buffer }) => {
    const r = parseMessage(e.topic, e.payload);
    if (!r.ok) throw new Error(`${e.topic}: ${r.error.reason}`);
    return r;
  };

  it('numbers entries 1, 2, 3... per boot across all topics, in enqueue order, and never renumbers them', () => {
    const box = openOutbox();
    box.enqueueMany(Array.from({ length: 40 }, (_, k) => mixedItem(k + 1)));
    const first = [...box.takeForPublish(0, 15), ...box.takeForPublish(15, 100)];
    expect(first.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(first.map((e) => e.bootId))).toEqual(new Set([box.bootId]));
    expect(new Set(first.map((e) => parse(e).kind))).toEqual(new Set(['crossing', 'count', 'event']));
    for (const [i, e] of first.entries()) {
      const r = parse(e);
      const m = r.message as unknown as { bootId: string; seq: number } & Record<string, unknown>;
      expect({ bootId: m.bootId, seq: m.seq }).toEqual({ bootId: box.bootId, seq: e.seq });
      expect(tagOf(m)).toBe(i + 1);
    }
    // Asking again (a resend, a replay) gives the very same identities and bytes.
    const again = box.takeForPublish(0, 100);
    expect(again.map((e) => [e.bootId, e.seq, e.payload.toString('hex')])).toEqual(
      first.map((e) => [e.bootId, e.seq, e.payload.toString('hex')]),
    );
    box.enqueue(crossingItem(41));
    expect(box.takeForPublish(first[39].id, 10).map((e) => e.seq)).toEqual([41]);
  });

  it('frames evidence images with their envelope (binary topic) and keeps status retained', () => {
    const box = openOutbox();
    box.enqueueMany([evidenceJpegItem(5000), cameraStatusItem(0)]);
    const [jpeg, status] = box.takeForPublish(0, 10);
    const r = parse(jpeg);
    if (r.kind !== 'evidence_jpeg') throw new Error('expected an evidence frame');
    expect(r.message.header).toMatchObject({ bootId: box.bootId, seq: 1 });
    expect(r.message.jpeg).toHaveLength(5000);
    expect(jpeg.retain).toBe(false);
    expect(status.retain).toBe(true);
    expect(parse(status).kind).toBe('camera_status');
  });

  it('refuses an invalid message at enqueue and stores nothing of that batch', () => {
    const box = openOutbox();
    const bad = { kind: 'crossing', cameraId: 'cam-1', message: { lineId: 'l', trackId: -1 } } as unknown as OutboxItem;
    expect(() => box.enqueueMany([crossingItem(1), bad])).toThrow(/invalid crossing message: .*trackId/);
    expect(() => box.enqueue({ ...crossingItem(2), cameraId: null } as OutboxItem)).toThrow(/camera id/);
    expect(box.depth).toBe(0);
  });

  it('keeps every entry across close and reopen; old entries keep their boot and seq, new ones get the new boot', () => {
    const a = openOutbox();
    a.enqueueMany(Array.from({ length: 10 }, (_, k) => crossingItem(k)));
    const publishedInA = a.takeForPublish(0, 4);
    a.close();
    const b = openOutbox();
    expect(b.bootId).not.toBe(a.bootId);
    expect(b.depth).toBe(10);
    const all = b.takeForPublish(0, 100);
    expect(all.map((e) => [e.bootId, e.seq])).toEqual([
      ...publishedInA.map((e) => [a.bootId, e.seq]),
      ...[1, 2, 3, 4, 5, 6].map((s) => [b.bootId, s]),
    ]);
    expect(all.slice(0, 4).map((e) => e.payload.toString())).toEqual(publishedInA.map((e) => e.payload.toString()));
    expect(all.map((e) => tagOf(parse(e).message as never))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('deletes on a commit ack exactly the entries of that boot with seq <= upToSeq', () => {
    const a = openOutbox();
    a.enqueueMany(Array.from({ length: 6 }, (_, k) => crossingItem(k)));
    a.takeForPublish(0, 6);
    a.close();
    const b = openOutbox();
    b.enqueueMany(Array.from({ length: 6 }, (_, k) => crossingItem(100 + k)));
    b.takeForPublish(0, 100);
    const removed: number[] = [];
    b.onRemoved((ids) => removed.push(...ids));

    expect(b.commit(b.bootId, 3)).toBe(3);
    expect(b.commit(a.bootId, 4)).toBe(4);
    expect(b.commit(a.bootId, 4)).toBe(0); // a repeated ack is harmless
    expect(b.commit('00000000-0000-4000-8000-000000000000', 99)).toBe(0);
    const left = b.takeForPublish(0, 100).map((e) => [e.bootId === a.bootId ? 'A' : 'B', e.seq]);
    expect(left).toEqual([
      ['A', 5],
      ['A', 6],
      ['B', 4],
      ['B', 5],
      ['B', 6],
    ]);
    expect(removed).toHaveLength(7);
    expect(b.depth).toBe(5);
  });

  it('finds replay ranges by (boot, seq), skipping what is no longer there', () => {
    const box = openOutbox();
    box.enqueueMany(Array.from({ length: 10 }, (_, k) => crossingItem(k)));
    box.takeForPublish(0, 100);
    box.commit(box.bootId, 2);
    expect(box.findRange(box.bootId, 1, 5, 100).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(box.findRange(box.bootId, 4, 9, 2).map((e) => e.seq)).toEqual([4, 5]);
    expect(box.findRange('00000000-0000-4000-8000-000000000000', 1, 10, 100)).toEqual([]);
  });

  describe('byte bound', () => {
    const sizeOf = (item: OutboxItem) => {
      const probe = Outbox.open({ dir: path.join(dir, 'probe'), node });
      const before = probe.bytes;
      probe.enqueue(item);
      const b = probe.bytes - before;
      probe.close();
      return b;
    };

    it('evicts the oldest heartbeats first, then counts and crossings, then status, then images; events last', () => {
      const ev = sizeOf(eventItem(1));
      const box = openOutbox({ maxBytes: 100_000 });
      // Interleaved so that age alone would pick differently than class.
      const items: OutboxItem[] = [];
      for (let k = 0; k < 10; k++) items.push(heartbeatItem(k), countItem(k), eventItem(k), cameraStatusItem(k));
      items.push(evidenceJpegItem(20_000), crossingItem(99));
      box.enqueueMany(items);
      const before = box.stats();
      expect(before.evictedSinceBoot.heartbeat).toBe(0);

      // Room for new events only by evicting: first all heartbeats must go, oldest first.
      const kinds = () => box.takeForPublish(0, 1000).map((e) => e.kind);
      let n = 0;
      while (box.bytes + ev <= 100_000) box.enqueue(eventItem(1000 + n++));
      box.enqueue(eventItem(2000));
      let s = box.stats();
      expect(s.evictedSinceBoot.heartbeat).toBeGreaterThanOrEqual(1);
      expect(s.evictedSinceBoot.count).toBe(0);
      expect(s.evictedSinceBoot.event).toBe(0);
      const survivingHeartbeats = box
        .takeForPublish(0, 1000)
        .filter((e) => e.kind === 'heartbeat')
        .map((e) => tagOf(parse(e).message as never));
      expect(survivingHeartbeats).toEqual(
        Array.from({ length: 10 }, (_, k) => k).slice(10 - survivingHeartbeats.length),
      );

      // Keep adding events: heartbeats, then counts+crossings, then status, then the image go; no event is evicted.
      for (let k = 0; k < 200 && box.stats().evictedSinceBoot.evidence_jpeg === 0; k++)
        box.enqueue(eventItem(3000 + k));
      s = box.stats();
      expect(s.evictedSinceBoot).toMatchObject({
        heartbeat: 10,
        count: 10,
        crossing: 1,
        camera_status: 10,
        evidence_jpeg: 1,
        event: 0,
      });
      expect(new Set(kinds())).toEqual(new Set(['event']));
      expect(box.bytes).toBeLessThanOrEqual(100_000);
    });

    it('drops a new entry that is itself the least valuable; a new event displaces the oldest event', () => {
      const hb = sizeOf(heartbeatItem(1));
      const ev = sizeOf(eventItem(1));
      const box = openOutbox({ maxBytes: 3 * ev + hb - 1 });
      box.enqueueMany([eventItem(1), eventItem(2), eventItem(3)]);
      expect(box.enqueue(heartbeatItem(4))).toMatchObject({ stored: false, id: null, kind: 'heartbeat' });
      expect(box.stats().evictedSinceBoot.heartbeat).toBe(1);
      box.enqueue(eventItem(5));
      const tags = box.takeForPublish(0, 10).map((e) => tagOf(parse(e).message as never));
      expect(tags).toEqual([2, 3, 5]);
      expect(box.stats().evictedSinceBoot.event).toBe(1);
    });

    it('within a class, drops entries never handed to the broker before sequenced ones (no sequence holes)', () => {
      const size = sizeOf(crossingItem(1));
      const box = openOutbox({ maxBytes: size * 10 + 10 });
      box.enqueueMany(Array.from({ length: 10 }, (_, k) => crossingItem(k)));
      box.takeForPublish(0, 3); // 0, 1, 2 are out, under seqs 1..3
      box.enqueueMany([crossingItem(10), crossingItem(11)]);
      const left = box.takeForPublish(0, 100);
      expect(left.slice(0, 3).map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(left.map((e) => tagOf(parse(e).message as never))).toEqual([0, 1, 2, 5, 6, 7, 8, 9, 10, 11]);
      expect(box.stats().evictedSinceBoot.crossing).toBe(2);
    });

    it('refuses a message larger than the whole bound', () => {
      const box = openOutbox({ maxBytes: 10_000 });
      box.enqueue(crossingItem(1));
      expect(box.enqueue(evidenceJpegItem(20_000))).toMatchObject({ stored: false });
      expect(box.depth).toBe(1);
      expect(box.stats().evictedSinceBoot.evidence_jpeg).toBe(1);
    });
  });

  it('evicts by age (per-kind bound for images), and persists eviction counters across restarts', () => {
    let now = Date.parse('2026-11-21T08:00:00Z');
    const clock = () => now;
    const a = openOutbox({ now: clock, maxAgeS: 3600, maxAgeByKindS: { evidence_jpeg: 600 } });
    a.enqueueMany([crossingItem(1), evidenceJpegItem(1000), eventItem(2)]);
    now += 601_000;
    a.enqueue(crossingItem(3));
    expect(a.stats().evictedSinceBoot).toMatchObject({ evidence_jpeg: 1, crossing: 0, event: 0 });
    expect(a.stats().oldestAgeS).toBeCloseTo(601, 3);
    now += 3000_000;
    expect(a.enforceAge()).toBe(2);
    expect(a.takeForPublish(0, 10).map((e) => tagOf(parse(e).message as never))).toEqual([3]);
    expect(a.stats()).toMatchObject({
      depth: 1,
      evictedSinceBoot: { evidence_jpeg: 1, crossing: 1, event: 1 },
      evictedTotal: { evidence_jpeg: 1, crossing: 1, event: 1 },
    });
    a.close();

    const b = openOutbox({ now: clock });
    const s = b.stats();
    expect(s.evictedSinceBoot).toMatchObject({ evidence_jpeg: 0, crossing: 0, event: 0 });
    expect(s.evictedTotal).toMatchObject({ evidence_jpeg: 1, crossing: 1, event: 1, heartbeat: 0 });
    expect(s.depth).toBe(1);
  });

  it('gives the heartbeat its outbox section in the contract shape', () => {
    const box = openOutbox();
    box.enqueueMany([crossingItem(1), crossingItem(2)]);
    const outbox = box.heartbeatStats();
    expect(outbox).toMatchObject({ depth: 2, evicted: { heartbeat: 0, count: 0, event: 0 } });
    expect(outbox.bytes).toBe(box.bytes);
    const hb = heartbeatItem(1);
    if (hb.kind !== 'heartbeat') throw new Error('unreachable');
    const message = { ...hb.message, outbox, bootId: box.bootId, seq: 1, ts: new Date().toISOString() };
    expect(HeartbeatSchema.safeParse(message).success).toBe(true);
  });

  it('refuses a second opener of the same directory while the first holds it', () => {
    openOutbox();
    expect(() => Outbox.open({ dir, node })).toThrow(/in use by another process/);
  });

  describe('published entries evicted before their commit (lost seqs)', () => {
    // Crossings with tags 10..19 all have the same size; the event is the one entry of a higher class.
    const stream = (): OutboxItem[] => [
      ...Array.from({ length: 5 }, (_, k) => crossingItem(10 + k)),
      eventItem(15),
      ...Array.from({ length: 4 }, (_, k) => crossingItem(16 + k)),
    ];

    const sizeOf = (item: OutboxItem) => {
      const probe = Outbox.open({ dir: path.join(dir, 'probe'), node });
      const before = probe.bytes;
      probe.enqueue(item);
      const b = probe.bytes - before;
      probe.close();
      return b;
    };

    it('records them as merged ranges, answers which of a range are lost, and forgets them as the ack passes', () => {
      const items = stream();
      const box = openOutbox({ maxBytes: items.reduce((n, it) => n + sizeOf(it), 0) });
      box.enqueueMany(items);
      const published = box.takeForPublish(0, 100);
      expect(published.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      let announced = 0;
      box.onLost(() => announced++);
      // New events push out every crossing (class 1 before events); all of them were already published.
      for (let k = 0; box.stats().evictedSinceBoot.crossing < 9; k++) box.enqueue(eventItem(100 + k));
      const remaining = box.takeForPublish(0, 100).filter((e) => e.seq <= 10);
      expect(remaining.map((e) => [e.seq, e.kind])).toEqual([[6, 'event']]);
      expect(box.lostRanges()).toEqual([
        {
          bootId: box.bootId,
          ranges: [
            { from: 1, to: 5 },
            { from: 7, to: 10 },
          ],
        },
      ]);
      expect(announced).toBeGreaterThanOrEqual(1);
      expect(box.stats()).toMatchObject({ lostSinceBoot: 9, lostOutstanding: 9 });
      expect(box.lostWithin(box.bootId, 4, 8)).toEqual([
        {
          bootId: box.bootId,
          ranges: [
            { from: 4, to: 5 },
            { from: 7, to: 8 },
          ],
        },
      ]);
      expect(box.lostWithin(box.bootId, 6, 6)).toEqual([]);

      // The centre closed up to 6 (5 on our announcement, 6 committed): the first range is done.
      box.commit(box.bootId, 6);
      expect(box.lostRanges()).toEqual([{ bootId: box.bootId, ranges: [{ from: 7, to: 10 }] }]);
      // An ack inside a range trims it.
      box.commit(box.bootId, 8);
      expect(box.lostRanges()).toEqual([{ bootId: box.bootId, ranges: [{ from: 9, to: 10 }] }]);
      expect(box.lostOutstandingSeqs).toBe(2);
      const bootId = box.bootId;
      box.close();

      // Durable: a restart still announces what the centre has not passed yet.
      const again = openOutbox();
      expect(again.lostRanges()).toEqual([{ bootId, ranges: [{ from: 9, to: 10 }] }]);
      expect(again.stats()).toMatchObject({ lostSinceBoot: 0, lostOutstanding: 2 });
      // An ack of another boot changes nothing; the right one clears it.
      again.commit(again.bootId, 100);
      expect(again.lostOutstandingSeqs).toBe(2);
      again.commit(bootId, 10);
      expect(again.lostRanges()).toEqual([]);
      expect(again.lostOutstandingSeqs).toBe(0);
    });

    it('records published entries the age bound removes, but not those never handed to the broker', () => {
      let now = Date.parse('2026-11-21T08:00:00Z');
      const box = openOutbox({ now: () => now, maxAgeS: 60 });
      box.enqueueMany([crossingItem(1), crossingItem(2), crossingItem(3), crossingItem(4)]);
      box.takeForPublish(0, 2);
      let announced = 0;
      box.onLost(() => announced++);
      now += 61_000;
      expect(box.enforceAge()).toBe(4);
      expect(box.lostRanges()).toEqual([{ bootId: box.bootId, ranges: [{ from: 1, to: 2 }] }]);
      expect(announced).toBe(1);
      // Nothing published left: a later eviction of unsequenced entries records nothing.
      box.enqueue(crossingItem(5));
      now += 61_000;
      expect(box.enforceAge()).toBe(1);
      expect(box.stats().lostSinceBoot).toBe(2);
      expect(announced).toBe(1);
    });

    it('lists the oldest boot first and caps the number of ranges', () => {
      let now = 1_000_000;
      const a = openOutbox({ now: () => now, maxAgeS: 10 });
      a.enqueueMany(Array.from({ length: 6 }, (_, k) => crossingItem(k)));
      const firstBoot = a.bootId;
      a.takeForPublish(0, 6); // published under the first boot, then the process stops
      a.close();
      now += 5000;
      const b = openOutbox({ now: () => now, maxAgeS: 10 });
      b.enqueueMany([crossingItem(7), crossingItem(8), crossingItem(9)]);
      b.takeForPublish(0, 100); // the first boot's entries keep their ids; 7-9 get seqs 1-3 of this boot
      now += 5001; // the first boot's entries age out
      b.enforceAge();
      now += 5000; // then this boot's
      b.enforceAge();
      expect(b.lostRanges()).toEqual([
        { bootId: firstBoot, ranges: [{ from: 1, to: 6 }] },
        { bootId: b.bootId, ranges: [{ from: 1, to: 3 }] },
      ]);
      expect(b.lostRanges(1)).toEqual([{ bootId: firstBoot, ranges: [{ from: 1, to: 6 }] }]);
    });

    it('never lists more boots than one announcement may carry', () => {
      let now = 1_000_000;
      for (let b = 0; b < MAX_LOST_BOOTS + 1; b++) {
        const box = openOutbox({ now: () => now, maxAgeS: 10 });
        box.enqueue(crossingItem(b));
        box.takeForPublish(0, 100);
        box.close();
      }
      const last = openOutbox({ now: () => now, maxAgeS: 10 });
      now += 11_000;
      expect(last.enforceAge()).toBe(MAX_LOST_BOOTS + 1);
      expect(last.stats().lostOutstanding).toBe(MAX_LOST_BOOTS + 1);
      const lost = last.lostRanges();
      expect(lost).toHaveLength(MAX_LOST_BOOTS);
      const message = { bootId: last.bootId, ts: new Date(now).toISOString(), requestId: null, lost };
      expect(DeliveryGapSchema.safeParse(message).success).toBe(true);
    });

    it('upgrades an outbox created before lost seqs were recorded (schema 1)', () => {
      const a = openOutbox();
      a.enqueue(crossingItem(1));
      a.close();
      const raw = new Database(path.join(dir, OUTBOX_FILE));
      raw.exec('DROP TABLE lost; PRAGMA user_version = 1;');
      raw.close();
      let now = Date.now();
      const b = openOutbox({ now: () => now, maxAgeS: 10 });
      expect(b.depth).toBe(1);
      b.takeForPublish(0, 10);
      now += 11_000;
      b.enforceAge();
      expect(b.lostRanges()).toEqual([{ bootId: b.bootId, ranges: [{ from: 1, to: 1 }] }]);
      const version = new Database(path.join(dir, OUTBOX_FILE), { readonly: true });
      b.close();
      expect(version.pragma('user_version', { simple: true })).toBe(2);
      version.close();
    });
  });
});
