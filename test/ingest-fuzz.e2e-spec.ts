import fc from 'fast-check';
import mqtt from 'mqtt';
import { encodeMessage, parseMessage, topics } from '@vigil/contracts';
import { simulatedEvent } from '../edge/tools/simulator/edge-simulator';
import { CentreProcess } from './support/centre-process';
import { ScratchDatabase } from './support/scratch-database';
import { MOSQUITTO_URL, uniqueId } from './support/services';

// Bad input must never cost good data: 5,000 fuzzed payloads interleaved with valid ones. Every valid one is
// stored, every invalid one is dead-lettered with a reason, and the centre stays up.
jest.setTimeout(180_000);

const FUZZED = 5000;
const VALID = 2000;

describe('ingest under fuzzed input', () => {
  const siteId = uniqueId('fuzz');
  const node = { siteId, nodeId: 'node-1' };
  const bootId = '7d1c0e6a-1b2c-4d3e-8f4a-5b6c7d8e9f00';
  let db: ScratchDatabase;
  let centre: CentreProcess;

  beforeAll(async () => {
    db = await ScratchDatabase.create();
    centre = await CentreProcess.startOnSharedBroker({ DATABASE_URL: db.url });
  });

  afterAll(async () => {
    await centre?.stop();
    await db?.drop();
  });

  function fuzzed(i: number): { topic: string; payload: Buffer; category: string } {
    const eventTopic = topics.edgeCamera('event', { ...node, cameraId: 'cam-1' });
    const seed = i * 7919;
    switch (i % 4) {
      case 0: {
        const [bytes] = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 300 }), { seed, numRuns: 1 });
        return { topic: eventTopic, payload: Buffer.from(bytes), category: 'random bytes' };
      }
      case 1: {
        const event = simulatedEvent(bootId, 100_000 + i, new Date()) as unknown as Record<string, unknown>;
        const keys = Object.keys(event);
        const [[k, v]] = fc.sample(
          fc.tuple(
            fc.constantFrom(...keys),
            fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null), fc.object()),
          ),
          { seed, numRuns: 1 },
        );
        event[k] = v;
        // The sampled value may happen to be valid for that field (e.g. 0 for a count): then use one that is not.
        if (parseMessage(eventTopic, Buffer.from(JSON.stringify(event))).ok) event[k] = `not/a valid ${typeof v}`;
        return { topic: eventTopic, payload: Buffer.from(JSON.stringify(event)), category: 'wrong type' };
      }
      case 2:
        return { topic: eventTopic, payload: Buffer.alloc(70_000 + i, 0x7b), category: 'oversize' };
      default: {
        const bad = [
          `vigil/v1/edge/${siteId}/node-1/camera/cam-1/bogus`,
          `vigil/v1/edge/${siteId}/node-1`,
          `vigil/v1/edge/${siteId}/node-1/camera/cam 1/event`,
          `vigil/v1/edge/${siteId}/node-1/camera/cam-1/event/extra`,
        ][(i % 16) >> 2];
        return {
          topic: bad,
          payload: encodeMessage('event', simulatedEvent(bootId, 1, new Date())),
          category: 'wrong topic',
        };
      }
    }
  }

  it('stores every valid message, dead-letters every invalid one with a reason, and stays up', async () => {
    const client = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: uniqueId('fuzzer'), clean: true });
    const validTopic = topics.edgeCamera('event', { ...node, cameraId: 'cam-1' });
    let seq = 0;
    const window: Promise<unknown>[] = [];
    for (let i = 0; i < FUZZED; i++) {
      const f = fuzzed(i);
      window.push(client.publishAsync(f.topic, f.payload, { qos: 1 }));
      if (i % 5 < 2 && seq < VALID) {
        window.push(
          client.publishAsync(validTopic, encodeMessage('event', simulatedEvent(bootId, ++seq, new Date())), {
            qos: 1,
          }),
        );
      }
      if (window.length >= 200) await Promise.all(window.splice(0));
    }
    while (seq < VALID) {
      window.push(
        client.publishAsync(validTopic, encodeMessage('event', simulatedEvent(bootId, ++seq, new Date())), { qos: 1 }),
      );
    }
    await Promise.all(window);
    await client.endAsync();

    const deadline = Date.now() + 60_000;
    let stored = 0;
    let dead = 0;
    while (Date.now() < deadline) {
      stored = Number(
        (await db.query<{ n: string }>('SELECT count(*) AS n FROM detection_events WHERE site_id = $1', [siteId]))[0].n,
      );
      dead = Number(
        (
          await db.query<{ n: string }>(`SELECT count(*) AS n FROM dead_letters WHERE topic LIKE $1`, [`%/${siteId}/%`])
        )[0].n,
      );
      if (stored >= VALID && dead >= FUZZED) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(stored).toBe(VALID);
    expect(dead).toBe(FUZZED);

    const byCode = await db.query<{
      code: string;
      n: string;
      empty_reasons: string;
      max_payload: number;
      max_bytes: number;
    }>(
      `SELECT code, count(*) AS n, count(*) FILTER (WHERE reason = '') AS empty_reasons,
              max(octet_length(payload)) AS max_payload, max(payload_bytes) AS max_bytes
         FROM dead_letters WHERE topic LIKE $1 GROUP BY code ORDER BY code`,
      [`%/${siteId}/%`],
    );
    const codes = Object.fromEntries(byCode.map((r) => [r.code, Number(r.n)]));
    expect(codes.PAYLOAD_TOO_LARGE).toBe(FUZZED / 4);
    expect(codes.UNKNOWN_TOPIC).toBe(FUZZED / 4);
    expect((codes.NOT_JSON ?? 0) + (codes.INVALID_PAYLOAD ?? 0)).toBe(FUZZED / 2);
    for (const r of byCode) {
      expect(Number(r.empty_reasons)).toBe(0);
      expect(r.max_payload).toBeLessThanOrEqual(4096); // bounded copy, full size recorded
    }
    // A wrong-type payload's reason names the offending field.
    const sample = await db.query<{ reason: string; path: string | null }>(
      `SELECT reason, path FROM dead_letters WHERE topic LIKE $1 AND code = 'INVALID_PAYLOAD' LIMIT 20`,
      [`%/${siteId}/%`],
    );
    for (const s of sample) expect(s.reason).toMatch(/^[A-Za-z0-9_.]+: /);

    expect(await centre.ready()).toBe(true);
    const metrics = await (await fetch(`${centre.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/vigil_ingest_messages_total\{result="rejected",kind="PAYLOAD_TOO_LARGE"\} 1250/);
  });
});
