import { parseMessage, topics } from '@vigil/contracts';
import { percentile, simulatedEvent } from './edge-simulator';

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

  it('reads percentiles from sorted samples', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(51);
    expect(percentile(sorted, 99)).toBe(100);
    expect(percentile([], 50)).toBeNaN();
  });
});
