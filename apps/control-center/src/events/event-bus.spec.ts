import { EventBus } from './event-bus';
import type { EventMap } from './event-map';

function committed(inserted: number): EventMap['ingest.committed'] {
  return { committedAt: new Date(), items: [], deadLetters: [], losses: [], inserted, duplicates: 0 };
}

describe('EventBus', () => {
  const errors: object[] = [];
  const bus = () => new EventBus({ error: (obj) => void errors.push(obj) });
  beforeEach(() => (errors.length = 0));

  it('calls every handler of an event, in subscription order, with the payload', () => {
    const b = bus();
    const seen: string[] = [];
    b.on('ingest.committed', (e) => void seen.push(`a${e.inserted}`));
    b.on('ingest.committed', (e) => void seen.push(`b${e.inserted}`));
    b.emit('ingest.committed', committed(3));
    expect(seen).toEqual(['a3', 'b3']);
  });

  it('stops calling a handler once it unsubscribed', () => {
    const b = bus();
    const seen: number[] = [];
    const off = b.on('ingest.committed', (e) => void seen.push(e.inserted));
    b.emit('ingest.committed', committed(1));
    off();
    b.emit('ingest.committed', committed(2));
    expect(seen).toEqual([1]);
    expect(b.listenerCount('ingest.committed')).toBe(0);
  });

  it('keeps a failing handler (thrown or rejected) from the emitter and the other handlers, and logs it', async () => {
    const b = bus();
    const seen: number[] = [];
    b.on('ingest.committed', () => {
      throw new Error('sync boom');
    });
    b.on('ingest.committed', () => Promise.reject(new Error('async boom')));
    b.on('ingest.committed', (e) => void seen.push(e.inserted));
    expect(() => b.emit('ingest.committed', committed(7))).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([7]);
    expect(errors).toEqual([
      { event: 'ingest.committed', err: 'sync boom' },
      { event: 'ingest.committed', err: 'async boom' },
    ]);
  });

  it('types payloads by event name', () => {
    const b = bus();
    // @ts-expect-error: an unknown event name does not compile
    b.on('ingest.comitted', () => undefined);
    // @ts-expect-error: a payload of the wrong shape does not compile
    b.emit('ingest.committed', { inserted: 1 });
    expect(b.listenerCount('ingest.committed')).toBe(0);
  });
});
