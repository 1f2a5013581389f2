import { parseMessage, topics } from '@vigil/contracts';
import { encodeSimulatedEvent, percentile, simulatedEvent } from './edge-simulator';

describe('edge simulator', () => {
  it('produces events that satisfy the contract (it publishes them without re-validating)', () => {
    const topic = topics.edgeCamera('event', { siteId: 's', nodeId: 'n', cameraId: 'c' });
    for (let seq = 1; seq <= 4; seq++) {
      const payload = Buffer.from(
        JSON.stringify(simulatedEvent('5b0d7c7e-3f0a-4c8e-9a51-2f8e4c1d9b01', seq, new Date())),
      );
      const r = parseMessage(topic, payload);
      expect(r.ok && r.kind === 'event' && r.message.seq).toBe(seq);
    }
  });

  it('writes exactly the JSON of its event from a template', () => {
    const bootId = '5b0d7c7e-3f0a-4c8e-9a51-2f8e4c1d9b01';
    const eventId = '0f8e4c1d-9b01-4c8e-9a51-2f8e4c1d9b02';
    const now = new Date('2026-11-22T01:02:03.456Z');
    for (const seq of [1, 2, 3, 1000, 1001]) {
      expect(encodeSimulatedEvent(bootId, seq, now.toISOString(), eventId).toString()).toBe(
        JSON.stringify(simulatedEvent(bootId, seq, now, eventId)),
      );
    }
  });

  it('reads percentiles from sorted samples', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(51);
    expect(percentile(sorted, 99)).toBe(100);
    expect(percentile([], 50)).toBeNaN();
  });
});
