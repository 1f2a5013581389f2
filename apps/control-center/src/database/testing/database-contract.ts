import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DetectionEvent } from '@vigil/contracts';
import type { Database, DatabaseLogger } from '../database.types';
// The ingest's own splitter, run against each flavour (the refusals it isolates are the database's).
 
import { commitBisecting } from '../../ingest/batch-splitter';
 
import { refusedItemDeadLetter } from '../../ingest/refusal';
import { listMigrations, migrate } from '../migration.runner';
 
import { PgIngestStore } from '../../ingest/pg-ingest.store';
import { DeadLetterRepository } from '../repositories/dead-letter.repository';
import { DeliveryLossRepository } from '../repositories/delivery-loss.repository';
import { DeliveryStateRepository, deliveryKey } from '../repositories/delivery-state.repository';
import { EvidenceRepository } from '../repositories/evidence.repository';
import { FlowReportRepository, type FlowBucket, type FlowRow } from '../repositories/flow-report.repository';
import { IngestRepository, type IngestItem } from '../repositories/ingest.repository';
import { countItems, eventItems, fixtureItems, type CountSpec } from './ingest-items';

export const silentLogger: DatabaseLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function countRows(db: Database, table: string, where = 'true', params: unknown[] = []): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, params);
  return Number(rows[0].n);
}

/** Counts for one line over five hours (300 one-minute intervals) and the sums each bucket size must show. */
export function flowScenario(dayStart: Date): {
  specs: CountSpec[];
  expected: Record<FlowBucket, Map<string, number>>;
} {
  const specs: CountSpec[] = [];
  const expected: Record<FlowBucket, Map<string, number>> = { '15m': new Map(), '1h': new Map(), '1d': new Map() };
  const size: Record<FlowBucket, number> = { '15m': 15 * 60_000, '1h': HOUR, '1d': DAY };
  for (let i = 0; i < 300; i++) {
    const intervalStart = new Date(dayStart.getTime() + 5 * HOUR + i * 60_000);
    const counts = [
      { objectClass: 'car' as const, direction: 'a_to_b' as const, count: (i % 7) + 1 },
      { objectClass: 'bus' as const, direction: 'b_to_a' as const, count: i % 2 },
    ];
    specs.push({ intervalStart, counts });
    for (const bucket of Object.keys(size) as FlowBucket[]) {
      const start = Math.floor(intervalStart.getTime() / size[bucket]) * size[bucket];
      for (const c of counts) {
        const key = `${new Date(start).toISOString()}|${c.objectClass}|${c.direction}`;
        expected[bucket].set(key, (expected[bucket].get(key) ?? 0) + c.count);
      }
    }
  }
  return { specs, expected };
}

export function flowMap(rows: FlowRow[]): Map<string, number> {
  return new Map(rows.map((r) => [`${r.bucketStart.toISOString()}|${r.objectClass}|${r.direction}`, r.count]));
}

/** Start of the UTC day `daysAgo` days before now. */
export function utcDayStart(daysAgo: number): Date {
  const d = new Date(Date.now() - daysAgo * DAY);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

function jpegOf(bytes: number): Buffer {
  const body = randomBytes(bytes);
  body[0] = 0xff;
  body[1] = 0xd8;
  body[2] = 0xff;
  return body;
}

function imageItem(jpeg: Buffer, opts: { sha256?: string; evidenceId?: string; seq?: number } = {}): IngestItem {
  return {
    kind: 'evidence_jpeg',
    siteId: 'site-img',
    nodeId: 'node-img',
    cameraId: 'cam-1',
    receivedAt: new Date(),
    message: {
      header: {
        bootId: randomUUID(),
        seq: opts.seq ?? 1,
        ts: new Date().toISOString(),
        evidenceId: opts.evidenceId ?? randomUUID(),
        sha256: opts.sha256 ?? createHash('sha256').update(jpeg).digest('hex'),
      },
      jpeg,
    },
  };
}

/**
 * What every flavour must do the same way. Called inside a describe block whose beforeAll opened the database;
 * tests use distinct site ids so they do not see each other's rows.
 */
export function databaseContract(getDb: () => Database): void {
  it('has applied every migration of its flavour once, and applying them again changes nothing', async () => {
    const db = getDb();
    const again = await migrate(db.pool, { preference: db.flavour, logger: silentLogger });
    expect(again).toEqual({ flavour: db.flavour, applied: [] });
    const { rows } = await db.pool.query<{ version: number; flavour: string }>(
      'SELECT version, flavour FROM schema_migrations ORDER BY version',
    );
    expect(rows).toEqual(listMigrations(db.flavour).map((m) => ({ version: m.version, flavour: db.flavour })));
  });

  it('answers the readiness probe', async () => {
    await expect(getDb().ping()).resolves.toBe(true);
  });

  it('stores one message of every edge kind from the golden fixtures, field by field, and a replay adds nothing', async () => {
    const db = getDb();
    const repo = new IngestRepository(db);
    const items = fixtureItems();
    const kinds = new Set(items.map((i) => i.kind));
    expect(kinds).toEqual(
      new Set([
        'node_status',
        'heartbeat',
        'config_ack',
        'camera_status',
        'event',
        'count',
        'crossing',
        'evidence',
        'evidence_jpeg',
      ]),
    );
    await expect(repo.insertBatch(items)).resolves.toEqual({ inserted: items.length, duplicates: 0, rejected: [] });
    await expect(repo.insertBatch(items)).resolves.toEqual({ inserted: 0, duplicates: items.length, rejected: [] });

    const site = items[0].siteId;
    const per = async (table: string) => countRows(db, table, 'site_id = $1', [site]);
    expect(await per('detection_events')).toBe(items.filter((i) => i.kind === 'event').length);
    // The batch fixture's entries (two crossings and a heartbeat) are stored like the lone fixtures.
    expect(await per('line_crossings')).toBe(items.filter((i) => i.kind === 'crossing').length);
    expect(await per('evidence')).toBe(1);
    expect(await per('evidence_images')).toBe(1);
    expect(await per('camera_status')).toBe(items.filter((i) => i.kind === 'camera_status').length);
    expect(await per('node_status')).toBe(items.filter((i) => i.kind === 'node_status').length);
    expect(await per('heartbeats')).toBe(items.filter((i) => i.kind === 'heartbeat').length);
    expect(await per('config_acks')).toBe(items.filter((i) => i.kind === 'config_ack').length);

    const event = items.find((i) => i.kind === 'event' && (i.message as DetectionEvent).phase === 'start')!;
    const em = event.message as DetectionEvent;
    const { rows: ev } = await db.pool.query(
      `SELECT box, model, model_id, evidence_id, started_at, camera_id FROM detection_events WHERE boot_id = $1 AND seq = $2`,
      [em.bootId, em.seq],
    );
    expect(ev).toHaveLength(1);
    expect((ev[0] as { box: number[] }).box.map((v) => Math.round(v * 100) / 100)).toEqual(em.box);
    expect(ev[0]).toMatchObject({
      model: em.model,
      model_id: em.model.modelId,
      evidence_id: em.evidence?.evidenceId,
      started_at: new Date(em.startedAt),
      camera_id: event.cameraId,
    });

    // The count fixture is one row per (class, direction), plus the interval it covers.
    const count = items.find((i) => i.kind === 'count')!;
    const cm = count.message as { counts: { count: number }[]; lineId: string };
    const { rows: lc } = await db.pool.query<{ n: string; total: string }>(
      'SELECT count(*) AS n, sum(count) AS total FROM line_counts WHERE site_id = $1 AND line_id = $2',
      [site, cm.lineId],
    );
    expect(Number(lc[0].n)).toBe(cm.counts.length);
    expect(Number(lc[0].total)).toBe(cm.counts.reduce((a, c) => a + c.count, 0));
    const { rows: ci } = await db.pool.query('SELECT row_count, total FROM count_intervals WHERE site_id = $1', [site]);
    expect(ci).toEqual([{ row_count: cm.counts.length, total: cm.counts.reduce((a, c) => a + c.count, 0) }]);

    // The image comes back byte for byte under its hash; the last will is stored with seq 0.
    const jpegItem = items.find((i) => i.kind === 'evidence_jpeg')!;
    const { header, jpeg } = jpegItem.message as { header: { evidenceId: string; sha256: string }; jpeg: Buffer };
    const image = await new EvidenceRepository(db).findImage(header.evidenceId);
    expect(image?.image.equals(jpeg)).toBe(true);
    expect(image?.sha256).toBe(header.sha256);
    expect(await countRows(db, 'node_status', "site_id = $1 AND seq = 0 AND reason = 'connection_lost'", [site])).toBe(
      1,
    );

    // Array and JSON columns round-trip: masking zones, node cameras, heartbeat cameras and evictions.
    const meta = items.find((i) => i.kind === 'evidence')!.message as {
      masking: { personsBlurred: number; privacyZones: string[] };
    };
    const { rows: evidenceRows } = await db.pool.query(
      'SELECT persons_blurred, privacy_zones FROM evidence WHERE site_id = $1',
      [site],
    );
    expect(evidenceRows).toEqual([
      { persons_blurred: meta.masking.personsBlurred, privacy_zones: meta.masking.privacyZones },
    ]);
    const node = items.find((i) => i.kind === 'node_status')!.message as { cameras: string[] };
    const { rows: nodeRows } = await db.pool.query<{ cameras: string[] }>(
      'SELECT DISTINCT cameras FROM node_status WHERE site_id = $1',
      [site],
    );
    expect(nodeRows).toEqual([{ cameras: node.cameras }]);
    const hb = items.find((i) => i.kind === 'heartbeat')!.message as {
      cameras: unknown[];
      outbox: { depth: number; evicted: Record<string, number> };
    };
    const { rows: hbRows } = await db.pool.query(
      'SELECT cameras, outbox_depth, outbox_evicted, outbox_evicted_total FROM heartbeats WHERE site_id = $1 AND seq = $2',
      [site, (hb as unknown as { seq: number }).seq],
    );
    expect(hbRows).toEqual([
      {
        cameras: hb.cameras,
        outbox_depth: hb.outbox.depth,
        outbox_evicted: hb.outbox.evicted,
        outbox_evicted_total: String(Object.values(hb.outbox.evicted).reduce((a, b) => a + b, 0)),
      },
    ]);

    // Every message of an event's lifecycle is a row of its own: here the start (seq 17) and the end (seq 31).
    const { rows: lifecycle } = await db.pool.query<{ phase: string; seq: string }>(
      'SELECT phase, seq FROM detection_events WHERE event_id = $1 ORDER BY ts, seq',
      [em.eventId],
    );
    expect(lifecycle).toEqual([
      { phase: 'start', seq: '17' },
      { phase: 'end', seq: '31' },
    ]);
  });

  it('adds no row when 10,000 stored events are replayed, and counts them all as duplicates', async () => {
    const db = getDb();
    const repo = new IngestRepository(db);
    const items = eventItems(10_000, { siteId: 'site-replay' });
    let inserted = 0;
    for (let i = 0; i < items.length; i += 2000)
      inserted += (await repo.insertBatch(items.slice(i, i + 2000))).inserted;
    expect(inserted).toBe(10_000);
    expect(await countRows(db, 'detection_events', "site_id = 'site-replay'")).toBe(10_000);

    let duplicates = 0;
    let again = 0;
    // Replayed in a different batching, as an edge resending its outbox would.
    for (let i = 0; i < items.length; i += 3000) {
      const r = await repo.insertBatch(items.slice(i, i + 3000));
      duplicates += r.duplicates;
      again += r.inserted;
    }
    expect({ again, duplicates }).toEqual({ again: 0, duplicates: 10_000 });
    expect(await countRows(db, 'detection_events', "site_id = 'site-replay'")).toBe(10_000);
  });

  it('stores a message redelivered within the same batch once', async () => {
    const db = getDb();
    const events = eventItems(3, { siteId: 'site-twice' });
    const counts = countItems(
      [
        {
          intervalStart: new Date(Date.now() - 600_000),
          counts: [{ objectClass: 'car', direction: 'a_to_b', count: 4 }],
        },
      ],
      { siteId: 'site-twice' },
    );
    const result = await new IngestRepository(db).insertBatch([...events, ...counts, events[1], counts[0]]);
    expect(result).toEqual({ inserted: 4, duplicates: 2, rejected: [] });
    expect(await countRows(db, 'detection_events', "site_id = 'site-twice'")).toBe(3);
    expect(await countRows(db, 'line_counts', "site_id = 'site-twice'")).toBe(1);
  });

  it('stores a 500 KiB evidence image intact, and refuses one whose hash does not match', async () => {
    const db = getDb();
    const repo = new IngestRepository(db);
    const jpeg = jpegOf(500 * 1024);
    const good = imageItem(jpeg);
    const bad = imageItem(jpeg, { sha256: 'f'.repeat(64) });
    const result = await repo.insertBatch([good, bad]);
    expect(result.inserted).toBe(1);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0].item).toBe(bad);
    expect(result.rejected[0].reason).toMatch(/sha256 .* does not match/);
    const evidenceId = (good.message as { header: { evidenceId: string } }).header.evidenceId;
    const stored = await new EvidenceRepository(db).findImage(evidenceId);
    expect(stored?.image.equals(jpeg)).toBe(true);
  });

  it('refuses messages the tables cannot keep and says why', async () => {
    const db = getDb();
    const repo = new IngestRepository(db);
    const [future, ancient, noCamera, fine] = eventItems(4, { siteId: 'site-refuse' });
    (future.message as DetectionEvent).ts = new Date(Date.now() + 2 * DAY).toISOString();
    (ancient.message as DetectionEvent).ts = new Date(Date.now() - 500 * DAY).toISOString();
    noCamera.cameraId = null;
    const result = await repo.insertBatch([future, ancient, noCamera, fine]);
    expect(result.inserted).toBe(1);
    expect(result.duplicates).toBe(0);
    expect(result.rejected.map((r) => [r.item, r.code])).toEqual([
      [future, 'NOT_STORABLE'],
      [ancient, 'NOT_STORABLE'],
      [noCamera, 'NOT_STORABLE'],
    ]);
    expect(result.rejected[0].reason).toMatch(/more than a day ahead/);
    expect(result.rejected[1].reason).toMatch(/older than the detection_events retention/);
    expect(result.rejected[2].reason).toMatch(/without a camera id/);
    expect(await countRows(db, 'detection_events', "site_id = 'site-refuse'")).toBe(1);
  });

  it('caps the dead letters: the oldest are evicted and counted, payloads are cut to a prefix', async () => {
    const db = getDb();
    const repo = new DeadLetterRepository(db, 50);
    await db.pool.query('DELETE FROM dead_letters');
    const rows = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        topic: `vigil/v1/edge/site-dl/node-1/bad-${from + i}`,
        code: 'INVALID_PAYLOAD',
        path: 'seq',
        reason: 'seq: Too small: expected number to be >=1',
        payload: Buffer.alloc(10_000, 0x41),
        receivedAt: new Date(),
      }));
    await expect(repo.insert(rows(0, 30))).resolves.toEqual({ inserted: 30, evicted: 0 });
    await expect(repo.insert(rows(30, 40))).resolves.toEqual({ inserted: 40, evicted: 20 });
    expect(await repo.count()).toBe(50);
    const kept = await repo.latest(100);
    expect(kept.map((r) => r.topic).sort()).toEqual(
      rows(20, 50)
        .map((r) => r.topic)
        .sort(),
    );
    expect(kept[0]).toMatchObject({ code: 'INVALID_PAYLOAD', path: 'seq', payloadBytes: 10_000 });
    expect(kept[0].payload.length).toBe(4096);
    // A flood larger than the cap in one call writes only what can survive.
    await expect(repo.insert(rows(100, 120))).resolves.toEqual({ inserted: 50, evicted: 120 });
    expect(await repo.count()).toBe(50);
  });

  it('reports flows over five hours in 15-minute, hourly and daily buckets that sum the stored counts', async () => {
    const db = getDb();
    const dayStart = utcDayStart(2);
    const { specs, expected } = flowScenario(dayStart);
    const items = countItems(specs, { siteId: 'site-flow', cameraId: 'cam-flow' });
    await expect(new IngestRepository(db).insertBatch(items)).resolves.toMatchObject({ inserted: 300 });
    await db.runMaintenance();
    const flows = new FlowReportRepository(db);
    for (const bucket of ['15m', '1h', '1d'] as FlowBucket[]) {
      const rows = await flows.flows({
        bucket,
        from: dayStart,
        to: new Date(dayStart.getTime() + DAY),
        siteId: 'site-flow',
      });
      expect({ bucket, flows: flowMap(rows) }).toEqual({ bucket, flows: expected[bucket] });
      expect(rows.every((r) => r.lineId === 'stop-line' && r.cameraId === 'cam-flow' && r.nodeId === 'node-1')).toBe(
        true,
      );
    }
    // Filters narrow the report; another line has nothing.
    const other = await flows.flows({
      bucket: '1h',
      from: dayStart,
      to: new Date(dayStart.getTime() + DAY),
      lineId: 'nope',
    });
    expect(other).toEqual([]);
    // Coverage: every 15-minute bucket of the five hours was fully reported.
    const coverage = await new FlowReportRepository(db).coverage({
      bucket: '15m',
      from: dayStart,
      to: new Date(dayStart.getTime() + DAY),
      siteId: 'site-flow',
    });
    expect(coverage).toHaveLength(20);
    expect(coverage.every((c) => c.reportedSeconds === 900)).toBe(true);

    // A late replay of the same counts changes nothing; a late new interval is added to its buckets.
    await new IngestRepository(db).insertBatch(items);
    const late = countItems(
      [
        {
          intervalStart: new Date(dayStart.getTime() + 5 * HOUR),
          counts: [{ objectClass: 'car', direction: 'a_to_b', count: 100 }],
        },
      ],
      { siteId: 'site-flow', cameraId: 'cam-flow', firstSeq: 1 },
    );
    await new IngestRepository(db).insertBatch(late);
    await db.runMaintenance();
    const hourly = flowMap(
      await flows.flows({ bucket: '1h', from: dayStart, to: new Date(dayStart.getTime() + DAY), siteId: 'site-flow' }),
    );
    const firstHour = `${new Date(dayStart.getTime() + 5 * HOUR).toISOString()}|car|a_to_b`;
    expect(hourly.get(firstHour)).toBe((expected['1h'].get(firstHour) ?? 0) + 100);
  });

  it('purges evidence images after 72 hours unless they are kept for a case', async () => {
    const db = getDb();
    const repo = new IngestRepository(db);
    const kept = imageItem(jpegOf(2048));
    const expiring = imageItem(jpegOf(2048));
    await repo.insertBatch([kept, expiring]);
    const idOf = (it: IngestItem) => (it.message as { header: { evidenceId: string } }).header.evidenceId;
    const evidence = new EvidenceRepository(db);
    await expect(evidence.setKeep(idOf(kept), true, 'case 2026/118')).resolves.toBe(1);
    const report = await db.runMaintenance(new Date(Date.now() + 73 * HOUR));
    expect(report.purged.evidence_images).toBeGreaterThanOrEqual(1);
    expect(await evidence.findImage(idOf(expiring))).toBeNull();
    expect((await evidence.findImage(idOf(kept)))?.keep).toBe(true);
  });

  it('commits a batch, its dead letters and the delivery state together, and reloads that state', async () => {
    const db = getDb();
    const store = new PgIngestStore(db, { deadLetterMaxRows: 1000 });
    const bootId = randomUUID();
    const items = eventItems(10, { siteId: 'site-store', bootId });
    const dead = [
      {
        topic: 'vigil/v1/edge/site-store/node-1/bogus',
        code: 'UNKNOWN_TOPIC',
        path: null,
        reason: 'not a topic',
        payload: Buffer.from('x'),
        payloadBytes: 1,
        receivedAt: new Date(),
      },
    ];
    const t0 = Date.now();
    // Seqs 1-4 and 7-10 arrive; 5 and 6 are missing: a hole.
    const first = await store.commit([...items.slice(0, 4), ...items.slice(6)], dead, new Date(t0));
    expect(first).toMatchObject({ inserted: 8, duplicates: 0, deadLettersEvicted: 0 });
    expect(first.streams).toEqual([
      {
        siteId: 'site-store',
        nodeId: 'node-1',
        bootId,
        state: { committedUpTo: 4, pending: [7, 8, 9, 10], lost: [], holeSince: t0 },
      },
    ]);
    // The replay fills the hole; duplicates are counted, the state moves to 10.
    const second = await store.commit(items.slice(3, 7), [], new Date(t0 + 1000));
    expect(second).toMatchObject({ inserted: 2, duplicates: 2 });
    expect(second.streams[0].state).toEqual({ committedUpTo: 10, pending: [], lost: [], holeSince: null });
    const loaded = await new DeliveryStateRepository(db).load();
    expect(loaded.get(deliveryKey({ siteId: 'site-store', nodeId: 'node-1', bootId }))).toMatchObject({
      committedUpTo: 10,
      pending: [],
      holeSince: null,
    });
    expect(await countRows(db, 'dead_letters', "topic = 'vigil/v1/edge/site-store/node-1/bogus'")).toBe(1);

    // A message the tables refuse is dead-lettered with its reason and still closes its seq, as rejected.
    const [late] = eventItems(1, { siteId: 'site-store', bootId, firstSeq: 11 });
    (late.message as DetectionEvent).ts = new Date(Date.now() - 900 * DAY).toISOString();
    const third = await store.commit([late], [], new Date(t0 + 2000));
    expect(third.streams[0].state.committedUpTo).toBe(11);
    expect(third.rejected).toEqual([{ siteId: 'site-store', nodeId: 'node-1', bootId, seqs: 1 }]);
    const { rows } = await db.pool.query<{ code: string; reason: string; topic: string; boot_id: string; seq: string }>(
      "SELECT code, reason, topic, boot_id, seq FROM dead_letters WHERE code = 'NOT_STORABLE' AND topic LIKE '%site-store%'",
    );
    expect(rows).toHaveLength(1);
    expect([rows[0].boot_id, Number(rows[0].seq)]).toEqual([bootId, 11]);
    expect(rows[0].code).toBe('NOT_STORABLE');
    expect(rows[0].reason).toMatch(/older than the detection_events retention/);
    expect(rows[0].topic).toBe('vigil/v1/edge/site-store/node-1/camera/cam-1/event');
  });

  it('isolates the rows the database refuses for their data: the rest commits, each refused one is dead-lettered with its SQLSTATE and closes its seq', async () => {
    const db = getDb();
    const store = new PgIngestStore(db, { deadLetterMaxRows: 100_000 });
    const siteId = 'site-poison';
    const bootId = randomUUID();
    // One message of every kind, then hostile copies the contracts would refuse (built here past validation,
    // as a contract gap or an older centre would let them through), then more ordinary traffic.
    const ordinary = fixtureItems().filter((it) => envelopeSeq(it) !== undefined);
    const like = (kind: IngestItem['kind']) => structuredClone(ordinary.find((it) => it.kind === kind)!);
    const poison: [IngestItem, string][] = [
      [mutate(like('camera_status'), (m) => (m.reason = 'stream\u0000failed')), '22021'],
      [mutate(like('node_status'), (m) => (m.version = 'v\u0000')), '22021'],
      [mutate(like('event'), (m) => ((m.score = 1e-300), (m.maxScore = 0.5))), '22003'],
      [mutate(like('crossing'), (m) => (m.trackId = 2 ** 31)), '22003'],
      [mutate(like('event'), (m) => (m.startedAt = '0000-01-01T00:00:00Z')), '22008'],
      [
        mutate(like('config_ack'), (m) => ((m.status = 'rejected'), (m.errors = [{ path: 'x', message: 'a\u0000' }]))),
        '22P05',
      ],
      [mutate(like('heartbeat'), (m) => ((m.outbox as { evicted: object }).evicted = { '\uD800': 1 })), '22P02'],
    ];
    const tail = eventItems(20, { siteId, bootId });
    const all: IngestItem[] = [];
    for (let i = 0; i < ordinary.length || i < poison.length; i++) {
      if (i < ordinary.length) all.push(ordinary[i]);
      if (i < poison.length) all.push(poison[i][0]);
    }
    all.push(...tail);
    all.forEach((it, i) => restream(it, siteId, bootId, i + 1));
    const bad = new Set(poison.map(([it]) => it));

    const now = new Date();
    const outcome = await commitBisecting(
      all,
      async (items) => void (await store.commit(items, [], now)),
      async (item, error) => void (await store.commit([], [refusedItemDeadLetter(item, error)], now)),
    );
    expect(outcome.refused).toBe(poison.length);

    // Everything else is stored: committing it again adds nothing.
    const good = all.filter((it) => !bad.has(it));
    expect(await store.commit(good, [], now)).toMatchObject({ inserted: 0, duplicates: good.length });
    const { rows } = await db.pool.query<{ code: string; seq: string; boot_id: string; reason: string; topic: string }>(
      `SELECT code, seq, boot_id, reason, topic FROM dead_letters WHERE topic LIKE '%/${siteId}/%' ORDER BY seq`,
    );
    expect(rows.map((r) => [Number(r.seq), r.code])).toEqual(
      poison.map(([it, sqlstate]) => [envelopeSeq(it), `DB_${sqlstate}`]),
    );
    for (const r of rows) {
      expect(r.boot_id).toBe(bootId);
      expect(r.reason).toMatch(/^database refused it: SQLSTATE [0-9A-Z]{5}: \S/);
    }
    // The refused seqs are closed as rejected: the stream is complete, its mark at the last seq.
    const state = (await new DeliveryStateRepository(db).load()).get(deliveryKey({ siteId, nodeId: 'node-1', bootId }));
    expect(state).toMatchObject({ committedUpTo: all.length, pending: [], rejected: poison.length });
  });

  it('closes the seq of a dead letter with a readable envelope as rejected, once, and keeps its boot and seq', async () => {
    const db = getDb();
    const store = new PgIngestStore(db, { deadLetterMaxRows: 1000 });
    const ref = { siteId: 'site-refused', nodeId: 'node-1', bootId: randomUUID() };
    const items = eventItems(3, ref);
    const dead = {
      topic: 'vigil/v1/edge/site-refused/node-1/camera/cam-1/status',
      code: 'INVALID_PAYLOAD',
      path: 'reason',
      reason: 'reason: must not contain NUL',
      payload: Buffer.from('{}'),
      payloadBytes: 2,
      receivedAt: new Date(),
      slot: { ...ref, seq: 2 },
    };
    const first = await store.commit([items[0], items[2]], [dead], new Date());
    expect(first.streams[0].state).toMatchObject({ committedUpTo: 3, pending: [] });
    expect(first.rejected).toEqual([{ ...ref, seqs: 1 }]);
    // Redelivered: dead-lettered again, nothing newly closed.
    const again = await store.commit([], [dead], new Date());
    expect(again.rejected).toEqual([]);
    expect((await new DeliveryStateRepository(db).load()).get(deliveryKey(ref))?.rejected).toBe(1);
    const { rows } = await db.pool.query<{ boot_id: string; seq: string }>(
      "SELECT boot_id, seq FROM dead_letters WHERE topic LIKE '%/site-refused/%'",
    );
    expect(rows.map((r) => [r.boot_id, Number(r.seq)])).toEqual([
      [ref.bootId, 2],
      [ref.bootId, 2],
    ]);
  });

  it('ignores a delivery state older than the stored one (a stale writer)', async () => {
    const db = getDb();
    const repo = new DeliveryStateRepository(db);
    const ref = { siteId: 'site-stale', nodeId: 'node-1', bootId: randomUUID() };
    await repo.upsert([{ ...ref, committedUpTo: 50, pending: [], lost: [], holeSince: null }]);
    await repo.upsert([{ ...ref, committedUpTo: 40, pending: [45], lost: [{ from: 42, to: 43 }], holeSince: 5 }]);
    expect((await repo.load()).get(deliveryKey(ref))).toEqual({
      ...ref,
      committedUpTo: 50,
      pending: [],
      lost: [],
      holeSince: null,
      rejected: 0,
    });
  });

  it('acknowledges a stream past seqs its edge announced as lost, records each loss once, and keeps open ones', async () => {
    const db = getDb();
    const store = new PgIngestStore(db, { deadLetterMaxRows: 1000 });
    const bootId = randomUUID();
    const reporterBootId = randomUUID();
    const ref = { siteId: 'site-lost', nodeId: 'node-1', bootId };
    const items = eventItems(20, { siteId: ref.siteId, bootId });
    const at = (seq: number) => items[seq - 1];
    const report = (ranges: { from: number; to: number }[], requestId: string | null = null) => ({
      siteId: ref.siteId,
      nodeId: ref.nodeId,
      reporterBootId,
      requestId,
      ts: new Date().toISOString(),
      lost: [{ bootId, ranges }],
      receivedAt: new Date(),
    });
    const t0 = Date.now();
    // 1-4 and 6-8 arrive; 5 was evicted at the edge after publication and never reached the centre.
    const first = await store.commit([1, 2, 3, 4, 6, 7, 8].map(at), [], new Date(t0));
    expect(first.streams[0].state).toMatchObject({ committedUpTo: 4, pending: [6, 7, 8] });
    expect(first.losses).toEqual([]);

    // The announcement closes 5 (the mark moves to 8) and, in the same transaction, 12-13 above a hole (9-11
    // still on their way): those are kept in the state, not asked for, and the mark waits for 9-11.
    const requestId = randomUUID();
    const second = await store.commit([], [], new Date(t0 + 1000), [
      report([
        { from: 5, to: 5 },
        { from: 12, to: 13 },
      ]),
      report([{ from: 7, to: 7 }], requestId), // already stored: not a loss
    ]);
    expect(second.streams).toEqual([
      { ...ref, state: { committedUpTo: 8, pending: [], lost: [{ from: 12, to: 13 }], holeSince: t0 + 1000 } },
    ]);
    expect(second.losses).toEqual([
      { ...ref, ranges: [{ from: 5, to: 5 }], seqs: 1 },
      { ...ref, ranges: [{ from: 12, to: 13 }], seqs: 2 },
    ]);
    const reloaded = (await new DeliveryStateRepository(db).load()).get(deliveryKey(ref));
    expect(reloaded).toMatchObject({ committedUpTo: 8, lost: [{ from: 12, to: 13 }] });

    // The edge repeats its announcement until the ack passes it: nothing new is recorded.
    const third = await store.commit([], [], new Date(t0 + 2000), [
      report([
        { from: 5, to: 5 },
        { from: 12, to: 13 },
      ]),
    ]);
    expect(third.losses).toEqual([]);
    expect(third.streams[0].state.committedUpTo).toBe(8);

    // 9-11 and 14 arrive: the mark passes the lost 12-13 and reaches 14.
    const fourth = await store.commit([9, 10, 11, 14].map(at), [], new Date(t0 + 3000));
    expect(fourth.streams[0].state).toEqual({ committedUpTo: 14, pending: [], lost: [], holeSince: null });

    const audit = await new DeliveryLossRepository(db).list(ref);
    expect(audit.map((r) => [r.fromSeq, r.toSeq, r.reporterBootId, r.requestId])).toEqual([
      [5, 5, reporterBootId, null],
      [12, 13, reporterBootId, null],
    ]);
    expect(audit[0].recordedAt.getTime()).toBe(t0 + 1000);
  });

  it('keeps delivery losses as long as retention_policy says', async () => {
    const db = getDb();
    const repo = new DeliveryLossRepository(db);
    const ref = { siteId: 'site-lost-old', nodeId: 'node-1', bootId: randomUUID() };
    const row = (fromSeq: number, recordedAt: Date) => ({
      ...ref,
      fromSeq,
      toSeq: fromSeq,
      reporterBootId: ref.bootId,
      requestId: null,
      reportedAt: recordedAt,
      recordedAt,
    });
    await repo.insert([row(1, new Date(Date.now() - 401 * DAY)), row(2, new Date(Date.now() - 399 * DAY))]);
    await db.runMaintenance(new Date());
    expect((await repo.list(ref)).map((r) => r.fromSeq)).toEqual([2]);
  });
}

function envelopeSeq(item: IngestItem): number | undefined {
  const m = item.message as { seq?: number; header?: { seq: number } };
  return m.header ? m.header.seq : m.seq;
}

/** Moves an item into one stream (site, boot) at `seq`. */
function restream(item: IngestItem, siteId: string, bootId: string, seq: number): void {
  item.siteId = siteId;
  item.nodeId = 'node-1';
  const m = item.message as { bootId: string; seq: number; header?: { bootId: string; seq: number } };
  const envelope = m.header ?? m;
  envelope.bootId = bootId;
  envelope.seq = seq;
}

function mutate(item: IngestItem, edit: (m: Record<string, unknown>) => void): IngestItem {
  edit(item.message);
  return item;
}
