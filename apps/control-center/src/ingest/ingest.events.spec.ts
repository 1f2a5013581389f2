import { topics } from '@vigil/contracts';
import { loadFixtures } from '@vigil/contracts/testing/golden-fixtures';
import pino from 'pino';
import { EventBus } from '../events/event-bus';
import type { EventMap } from '../events/event-map';
import { MetricsService } from '../metrics/metrics.service';
import { itemsOfKind } from './ingest.events';
import { IngestService } from './ingest.service';
import { IngestStore, type CommitResult, type DeadLetter, type IngestItem } from './ingest.types';
import { advance, emptySequenceState } from './sequence-tracker';

const silent = pino({ level: 'silent' });
const fixtures = loadFixtures('valid');
const fixture = (name: string) => fixtures.find((f) => f.name === name)!;

/** Stores nothing; succeeds after `failures` failed attempts, reporting every item as newly inserted. */
class FakeStore extends IngestStore {
  commits = 0;
  constructor(public failures = 0) {
    super();
  }
  commit(items: IngestItem[], _dead: DeadLetter[]): Promise<CommitResult> {
    if (this.failures-- > 0) return Promise.reject(new Error('database down'));
    this.commits++;
    const streams = [
      ...new Set(items.map((i) => `${i.siteId}/${i.nodeId}/${(i.message as { bootId: string }).bootId}`)),
    ];
    return Promise.resolve({
      inserted: items.length,
      duplicates: 0,
      deadLettersEvicted: 0,
      streams: streams.map((key) => {
        const [siteId, nodeId, bootId] = key.split('/');
        return { siteId, nodeId, bootId, state: advance(emptySequenceState(), [], Date.now()) };
      }),
      losses: [],
      rejected: [],
    });
  }
}

function service(store: IngestStore) {
  const events = new EventBus(silent);
  const received: EventMap['ingest.committed'][] = [];
  events.on('ingest.committed', (e) => void received.push(e));
  const ingest = new IngestService(
    store,
    { publish: () => Promise.resolve(), resume: () => undefined },
    { batchMax: 100, batchWaitMs: 1, queueMax: 10_000, gapGraceMs: 1000 },
    new MetricsService(),
    silent,
    events,
  );
  return { ingest, received, events };
}

describe('ingest.committed', () => {
  it('announces each committed batch with its items (kind, site, node, camera, message) and dead letters', async () => {
    const { ingest, received } = service(new FakeStore());
    for (const name of ['event', 'heartbeat', 'camera_status']) {
      const f = fixture(name);
      ingest.accept({ topic: f.topic, payload: f.bytes, receivedAt: new Date() });
    }
    const bad = { topic: topics.edgeNode('heartbeat', { siteId: 's1', nodeId: 'n1' }), payload: Buffer.from('{}') };
    ingest.accept({ ...bad, receivedAt: new Date() });
    expect(received).toHaveLength(0); // nothing is announced before it is committed
    await ingest.drain();

    expect(received).toHaveLength(1);
    const [e] = received;
    expect(e.items.map((i) => [i.kind, i.siteId, i.nodeId, i.cameraId])).toEqual([
      ['event', 'rome-centro', 'node-via-nazionale', 'cam-north'],
      ['heartbeat', 'rome-centro', 'node-via-nazionale', null],
      ['camera_status', 'rome-centro', 'node-via-nazionale', 'cam-north'],
    ]);
    expect(e.deadLetters.map((d) => [d.topic, d.code])).toEqual([[bad.topic, 'INVALID_PAYLOAD']]);
    expect(e).toMatchObject({ inserted: 3, duplicates: 0, losses: [] });
    // By kind, typed: a detection event's own fields without a cast.
    const [violation] = itemsOfKind(e.items, 'event');
    expect([violation.message.eventId, violation.message.kind]).toEqual([
      '9c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f',
      'parking_violation',
    ]);
    expect(itemsOfKind(e.items, 'count')).toEqual([]);
  });

  it('announces a batch once, after the attempt that committed it, not for the failed ones', async () => {
    const { ingest, received } = service(new FakeStore(2));
    const f = fixture('heartbeat');
    ingest.accept({ topic: f.topic, payload: f.bytes, receivedAt: new Date() });
    await ingest.drain();
    expect(received).toHaveLength(1);
    expect(received[0].items).toHaveLength(1);
  });

  it('leaves out items the tables refused (dead-lettered, not stored)', async () => {
    /** Refuses every heartbeat as the tables would refuse a message older than retention. */
    class RefusingStore extends FakeStore {
      override async commit(items: IngestItem[], dead: DeadLetter[]): Promise<CommitResult> {
        const result = await super.commit(items, dead);
        const notStored = items.filter((i) => i.kind === 'heartbeat');
        return { ...result, inserted: items.length - notStored.length, notStored };
      }
    }
    const { ingest, received } = service(new RefusingStore());
    for (const name of ['event', 'heartbeat']) {
      const f = fixture(name);
      ingest.accept({ topic: f.topic, payload: f.bytes, receivedAt: new Date() });
    }
    await ingest.drain();
    expect(received).toHaveLength(1);
    expect(received[0].items.map((i) => i.kind)).toEqual(['event']);
  });

  it('keeps committing when a subscriber fails', async () => {
    const store = new FakeStore();
    const { ingest, received, events } = service(store);
    // A failing subscriber added after the recording one: it must not make ingest retry the committed batch.
    events.on('ingest.committed', () => {
      throw new Error('subscriber bug');
    });
    const f = fixture('heartbeat');
    ingest.accept({ topic: f.topic, payload: f.bytes, receivedAt: new Date() });
    await ingest.drain();
    expect(received).toHaveLength(1);
    expect(store.commits).toBe(1);
    expect(ingest.healthy).toBe(true);
  });
});
