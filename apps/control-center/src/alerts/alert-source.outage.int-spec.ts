import type { DetectionEvent } from '@vigil/contracts';
import { randomUUID } from 'node:crypto';
import { PrivatePostgres } from '../../../../test/support/private-postgres';
import { waitFor } from '../../../../test/support/services';
import { openDatabase } from '../database/database';
import type { Database } from '../database/database.types';
import { EvidenceRepository } from '../database/repositories/evidence.repository';
import type { IngestItem } from '../database/repositories/ingest.repository';
import { silentLogger } from '../database/testing/database-contract';
import { eventItems } from '../database/testing/ingest-items';
import { EventBus } from '../events/event-bus';
import type { IngestCommittedEvent } from '../ingest/ingest.events';
import { AlertSource } from './alert-source';
import { AlertRepository } from './alert.repository';
import { AlertService } from './alert.service';

jest.setTimeout(90_000);

const READER = { id: randomUUID(), username: 'admin-x', role: 'admin' as const, siteIds: [], allSites: true };

/** A committed batch of one violation start per item (each its own event id). */
function batch(items: IngestItem[]): IngestCommittedEvent {
  return { committedAt: new Date(), items, deadLetters: [], losses: [], inserted: items.length, duplicates: 0 };
}

/**
 * The alert source against a PostgreSQL server that crashes and comes back (a private cluster, stopped with
 * `-m immediate`): a batch committed by ingest just before the outage still becomes its alert, once; a batch a
 * retry cannot cure is given up loudly and does not hold back the batches after it.
 */
describe('alert source: database outage', () => {
  let pg: PrivatePostgres;
  let db: Database;
  let source: AlertSource;
  let created: string[];
  let logs: { level: string; obj: Record<string, unknown>; msg?: string }[];

  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    db = await openDatabase({ url: pg.url, dataDir: '/nonexistent', logger: silentLogger });
  });

  beforeEach(() => {
    const bus = new EventBus(silentLogger);
    created = [];
    logs = [];
    bus.on('alert.created', (e) => void created.push(e.alert.details.ts as string));
    const repo = new AlertRepository(db);
    const log = (level: string) => (obj: object, msg?: string) =>
      void logs.push({ level, obj: obj as Record<string, unknown>, msg });
    source = new AlertSource(
      new AlertService(repo, bus, new EvidenceRepository(db)),
      repo,
      { cameraDownAfterMs: 60_000, occurrenceWindowMs: 600_000, retry: { firstDelayMs: 50, maxDelayMs: 400 } },
      { info: log('info'), warn: log('warn'), error: log('error') },
    );
  });

  afterAll(async () => {
    await db?.close();
    pg?.destroy();
  });

  const count = async (siteId: string) =>
    (
      await new AlertService(new AlertRepository(db), new EventBus(silentLogger), new EvidenceRepository(db)).list(
        READER,
        { siteId: [siteId] },
      )
    ).items.length;

  it('retries a batch while the database is down and raises its alert once it is back', async () => {
    const site = `site-${randomUUID().slice(0, 8)}`;
    const items = eventItems(2, { siteId: site });
    pg.stopImmediate();
    let done = false;
    const handled = source.enqueue(batch(items)).then(() => void (done = true));
    await waitFor('three failed attempts', () => logs.filter((l) => l.level === 'warn').length >= 3, 20_000);
    expect(done).toBe(false);
    expect(created).toEqual([]);
    pg.start();
    await handled;
    expect(created).toHaveLength(2);
    expect(await count(site)).toBe(2);
    expect(source.abandoned).toBe(0);
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
    expect(logs.at(-1)).toMatchObject({ level: 'info', msg: 'alerts of a batch raised after retries' });
  });

  it('gives up a batch the database refuses for its data, loudly, and raises the next one', async () => {
    const site = `site-${randomUUID().slice(0, 8)}`;
    const [bad] = eventItems(1, { siteId: site });
    // A kind without a severity: the NOT NULL column refuses the row (SQLSTATE 23502), whatever the retries.
    const poison = {
      ...bad,
      message: { ...bad.message, kind: 'unknown_kind' as DetectionEvent['kind'] },
    } as IngestItem;
    const good = eventItems(1, { siteId: site });
    void source.enqueue(batch([poison]));
    await source.enqueue(batch(good));
    expect(source.abandoned).toBe(1);
    const [error] = logs.filter((l) => l.level === 'error');
    expect(error.msg).toMatch(/ALERTS NOT RAISED/);
    expect(error.obj).toMatchObject({
      attempts: 3,
      sites: [site],
      events: [expect.objectContaining({ eventId: (poison.message as DetectionEvent).eventId })],
    });
    expect(await count(site)).toBe(1);
  });

  it('stops retrying when the centre stops, and says which alerts were not raised', async () => {
    const site = `site-${randomUUID().slice(0, 8)}`;
    const items = eventItems(1, { siteId: site });
    pg.stopImmediate();
    try {
      const handled = source.enqueue(batch(items));
      await waitFor('a failed attempt', () => logs.some((l) => l.level === 'warn'), 20_000);
      source.stopRetrying();
      await handled;
    } finally {
      pg.start();
    }
    expect(source.abandoned).toBe(1);
    expect(logs.find((l) => l.level === 'error')?.obj).toMatchObject({
      stopping: true,
      events: [expect.objectContaining({ eventId: (items[0].message as DetectionEvent).eventId })],
    });
  });
});
