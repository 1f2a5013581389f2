import { MAX_BATCH_ENTRIES, type EdgeBatch } from './delivery.schema';
import {
  BATCHABLE_KINDS,
  MESSAGES,
  encodeBatch,
  encodeMessage,
  parseMessage,
  parseMessages,
  unpackBatch,
} from './message-registry';
import { loadFixtures } from './testing/golden-fixtures';
import { parseTopic, type TopicKind } from './topics';

const valid = loadFixtures('valid');
const invalid = loadFixtures('invalid');

describe('golden fixtures', () => {
  it('cover every message kind with at least one valid and one invalid example', () => {
    const kinds = Object.keys(MESSAGES) as TopicKind[];
    const validKinds = new Set(valid.map((f) => parseTopic(f.topic)?.kind));
    const invalidKinds = new Set(invalid.map((f) => parseTopic(f.topic)?.kind));
    expect(kinds.filter((k) => !validKinds.has(k))).toEqual([]);
    expect(kinds.filter((k) => !invalidKinds.has(k))).toEqual([]);
  });

  it.each(valid.map((f) => [f.name, f] as const))('valid %s parses', (_name, fixture) => {
    const result = parseMessage(fixture.topic, fixture.bytes);
    if (!result.ok) throw new Error(`${fixture.name}: ${result.error.reason}`);
    expect(result.kind).toBe(parseTopic(fixture.topic)?.kind);
  });

  it.each(invalid.map((f) => [f.name, f] as const))('invalid %s is rejected naming the field', (_name, fixture) => {
    const result = parseMessage(fixture.topic, fixture.bytes);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(fixture.expectedCode);
    expect(result.error.path).toBe(fixture.expectedPath);
    if (fixture.expectedPath) expect(result.error.reason).toContain(`${fixture.expectedPath}:`);
  });
});

describe('parseMessage', () => {
  const heartbeat = valid.find((f) => f.name === 'heartbeat')!;

  it('takes identity from the topic, not the payload', () => {
    const result = parseMessage(heartbeat.topic, heartbeat.bytes);
    expect(result.ok && result.topic).toEqual({
      root: 'edge',
      kind: 'heartbeat',
      siteId: 'rome-centro',
      nodeId: 'node-via-nazionale',
    });
  });

  it('rejects oversize payloads before parsing them', () => {
    const big = Buffer.alloc(MESSAGES.heartbeat.maxBytes + 1, 0x20);
    const result = parseMessage(heartbeat.topic, big);
    expect(!result.ok && result.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('never throws on arbitrary bytes', () => {
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.from(Array.from({ length: i * 7 }, (_, j) => (j * 31 + i) % 256));
      for (const f of valid) expect(() => parseMessage(f.topic, bytes)).not.toThrow();
    }
  });

  it('lists several offending fields in one reason', () => {
    const bad = { ...(heartbeat.json as object), seq: 0, uptimeS: 'long' };
    const result = parseMessage(heartbeat.topic, Buffer.from(JSON.stringify(bad)));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.reason).toContain('seq:');
      expect(result.error.reason).toContain('uptimeS:');
    }
  });
});

describe('encodeMessage', () => {
  it('round-trips a valid message', () => {
    const commit = valid.find((f) => f.name === 'commit')!;
    const bytes = encodeMessage('commit', commit.json as never);
    const parsed = parseMessage(commit.topic, bytes);
    expect(parsed.ok && parsed.message).toEqual(commit.json);
  });

  it('applies schema defaults so the edge sees a complete config', () => {
    const config = valid.find((f) => f.name === 'config')!;
    const input = JSON.parse(JSON.stringify(config.json)) as { rules: Record<string, unknown>[] };
    delete input.rules[1].classes;
    const parsed = parseMessage(config.topic, encodeMessage('config', input as never));
    expect(parsed.ok && parsed.kind === 'config' && parsed.message.rules[1]).toMatchObject({
      kind: 'pedestrian_blocking',
      classes: ['car', 'motorcycle', 'bus', 'truck'],
      schedule: null,
    });
  });

  it('refuses to publish an invalid message, naming the field', () => {
    expect(() => encodeMessage('commit', { bootId: 'x', upToSeq: 1, ts: 'now' })).toThrow(/bootId/);
  });
});

describe('MESSAGES delivery flags', () => {
  it('marks a kind sequenced exactly when its valid fixtures carry a seq (the last will being the one exception)', () => {
    for (const f of valid) {
      const kind = parseTopic(f.topic)!.kind;
      const json = f.json as { seq?: number; reason?: string };
      if (kind === 'node_status' && json.reason === 'connection_lost') {
        expect(json.seq).toBeUndefined();
        continue;
      }
      expect({ name: f.name, sequenced: MESSAGES[kind].sequenced }).toEqual({
        name: f.name,
        sequenced: json.seq !== undefined,
      });
    }
    expect(MESSAGES.node_status.sequenced).toBe(true);
    expect(MESSAGES.delivery_gap.sequenced).toBe(false);
  });
});

describe('delivery_gap', () => {
  const gap = valid.find((f) => f.name === 'delivery_gap')!;
  const withRanges = (perBoot: number[]) => ({
    ...(gap.json as object),
    lost: perBoot.map((n, b) => ({
      bootId: `5b0d7c7e-3f0a-4c8e-9a51-2f8e4c1d9b0${b}`,
      ranges: Array.from({ length: n }, (_, i) => ({ from: 2 * i + 1, to: 2 * i + 1 })),
    })),
  });

  it('takes up to 100 ranges in all, over several boots, and refuses more', () => {
    const ok = parseMessage(gap.topic, Buffer.from(JSON.stringify(withRanges([50, 30, 20]))));
    expect(ok.ok).toBe(true);
    const tooMany = parseMessage(gap.topic, Buffer.from(JSON.stringify(withRanges([50, 30, 21]))));
    expect(!tooMany.ok && tooMany.error).toMatchObject({ code: 'INVALID_PAYLOAD', path: 'lost' });
  });

  it('is the message an edge publishes for its own node only (topic identity)', () => {
    const r = parseMessage(gap.topic, gap.bytes);
    expect(r.ok && r.topic).toEqual({
      root: 'edge',
      kind: 'delivery_gap',
      siteId: 'rome-centro',
      nodeId: 'node-via-nazionale',
    });
  });
});

describe('batch', () => {
  const batch = valid.find((f) => f.name === 'batch')!;
  const crossing = valid.find((f) => f.name === 'crossing')!;
  const heartbeat = valid.find((f) => f.name === 'heartbeat')!;
  const node = { siteId: 'rome-centro', nodeId: 'node-via-nazionale' };

  function unpacked(entries: { topic: string; message: unknown }[]) {
    const r = parseMessage(batch.topic, Buffer.from(JSON.stringify({ entries })));
    if (!r.ok || r.kind !== 'batch') throw new Error(`envelope refused: ${JSON.stringify(r)}`);
    return unpackBatch(r.topic, r.message);
  }

  it('gives each entry the result it would have had alone on its own topic below the batch node', () => {
    const results = unpackBatch(node, batch.json as EdgeBatch);
    expect(results.map((e) => e.topic)).toEqual([
      'vigil/v1/edge/rome-centro/node-via-nazionale/camera/cam-north/crossing',
      'vigil/v1/edge/rome-centro/node-via-nazionale/camera/cam-north/crossing',
      'vigil/v1/edge/rome-centro/node-via-nazionale/heartbeat',
    ]);
    const alone = { ...(crossing.json as object), seq: 901, crossingId: '7e6d5c4b-3a29-4180-8f7e-6d5c4b3a2920' };
    expect(results[0].result).toEqual(parseMessage(crossing.topic, Buffer.from(JSON.stringify(alone))));
    expect(results.map((e) => e.result.ok && e.result.kind)).toEqual(['crossing', 'crossing', 'heartbeat']);
  });

  it('judges entries one by one: a bad one fails with its own path, its neighbours pass', () => {
    const bad = { ...(crossing.json as object), seq: 0 };
    const results = unpacked([
      { topic: 'camera/cam-north/crossing', message: crossing.json },
      { topic: 'camera/cam-north/crossing', message: bad },
      { topic: 'heartbeat', message: heartbeat.json },
    ]);
    expect(results.map((e) => e.result.ok)).toEqual([true, false, true]);
    expect(!results[1].result.ok && results[1].result.error).toMatchObject({ code: 'INVALID_PAYLOAD', path: 'seq' });
  });

  it.each([
    ['status', 'retained'],
    ['camera/cam-north/status', 'retained'],
    ['camera/cam-north/evidence/jpeg', 'binary'],
    ['delivery/gap', 'not sequenced'],
    ['batch', 'nested batch'],
    ['camera/cam+north/crossing', 'wildcard in an id'],
    ['../../other-site/node-1/heartbeat', 'another node'],
  ])('refuses an entry on %s (%s) as UNKNOWN_TOPIC', (topic) => {
    const [entry] = unpacked([{ topic, message: heartbeat.json }]);
    expect(!entry.result.ok && entry.result.error).toMatchObject({ code: 'UNKNOWN_TOPIC', path: 'entries.0.topic' });
  });

  it('batches exactly the sequenced, non-retained JSON kinds an edge sends', () => {
    expect([...BATCHABLE_KINDS].sort()).toEqual(['config_ack', 'count', 'crossing', 'event', 'evidence', 'heartbeat']);
  });

  it('encodes already-encoded entries into a batch that parses back to the same messages', () => {
    const bytes = encodeBatch([
      { suffix: 'camera/cam-north/crossing', payload: crossing.bytes },
      { suffix: 'heartbeat', payload: heartbeat.bytes },
    ]);
    const r = parseMessage(batch.topic, bytes);
    expect(r.ok && r.kind).toBe('batch');
    if (!r.ok || r.kind !== 'batch') return;
    const results = unpackBatch(r.topic, r.message);
    expect(results.map((e) => e.result)).toEqual([
      parseMessage(crossing.topic, crossing.bytes),
      parseMessage(heartbeat.topic, heartbeat.bytes),
    ]);
  });

  it('parseMessages shows a subscriber the entries of a batch, and any other message as itself', () => {
    expect(parseMessages(batch.topic, batch.bytes).map((r) => r.ok && r.kind)).toEqual([
      'crossing',
      'crossing',
      'heartbeat',
    ]);
    expect(parseMessages(crossing.topic, crossing.bytes)).toEqual([parseMessage(crossing.topic, crossing.bytes)]);
    const [bad] = parseMessages(batch.topic, Buffer.from('{"entries":[]}'));
    expect(!bad.ok && bad.error).toMatchObject({ code: 'INVALID_PAYLOAD', path: 'entries' });
  });

  it('refuses to encode an empty batch or one over the entry limit', () => {
    expect(() => encodeBatch([])).toThrow(RangeError);
    const entry = { suffix: 'heartbeat', payload: heartbeat.bytes };
    expect(() => encodeBatch(Array.from({ length: MAX_BATCH_ENTRIES + 1 }, () => entry))).toThrow(RangeError);
  });
});
