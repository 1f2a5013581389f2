import { INT4_MAX, TIMESTAMP_MAX, TIMESTAMP_MIN } from './common.schema';
import { parseMessage, parseMessages, type ParseResult } from './message-registry';
import { loadFixtures } from './testing/golden-fixtures';
import { parseTopic } from './topics';

// What PostgreSQL cannot store is refused at validation, with the field path: one NUL in a camera status reason
// once stopped all ingest (the batch was retried for ever against "invalid byte sequence for encoding UTF8: 0x00").
const edgeFixtures = loadFixtures('valid').filter(
  (f) => f.json !== null && parseTopic(f.topic)?.root === 'edge' && parseTopic(f.topic)?.kind !== 'evidence_jpeg',
);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Records (free keys) in edge messages; other objects strip unknown keys, so their keys are never stored. */
const RECORDS = new Set(['evicted', 'classThresholds']);

/** Every string leaf of a message (values and record keys), with its dotted path. */
function stringLeaves(value: Json, path: string[] = []): { path: string[]; key: boolean }[] {
  if (typeof value === 'string') return [{ path, key: false }];
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...path, String(i)]));
  if (!RECORDS.has(path.at(-1) ?? '')) return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
  return Object.entries(value).flatMap(([k, v]) => [
    { path: [...path, k], key: true },
    ...stringLeaves(v, [...path, k]),
  ]);
}

function withString(message: Json, leaf: { path: string[]; key: boolean }, edit: (s: string) => string): Json {
  const copy = structuredClone(message) as Record<string, Json>;
  let parent = copy;
  for (const p of leaf.path.slice(0, -1)) parent = parent[p] as Record<string, Json>;
  const last = leaf.path.at(-1)!;
  if (leaf.key) {
    const v = parent[last];
    delete parent[last];
    parent[edit(last)] = v;
  } else {
    parent[last] = edit(parent[last] as string);
  }
  return copy;
}

function parse(topic: string, message: unknown): ParseResult {
  return parseMessage(topic, Buffer.from(JSON.stringify(message), 'utf8'));
}

function edited(kind: string, edit: (m: Record<string, Json>) => void, name = kind): ParseResult {
  const f = edgeFixtures.find((x) => x.name === name)!;
  const m = structuredClone(f.json) as Record<string, Json>;
  edit(m);
  return parse(f.topic, m);
}

function expectRefused(r: ParseResult, path: string): void {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toBe('INVALID_PAYLOAD');
  expect(r.error.path).toBe(path);
}

describe('strings PostgreSQL cannot store', () => {
  const cases = edgeFixtures.flatMap((f) =>
    stringLeaves(f.json as Json).map(
      (leaf) => [`${f.name} ${leaf.key ? 'key' : 'value'} ${leaf.path.join('.')}`, f, leaf] as const,
    ),
  );

  /** The failures a subscriber sees (a batch's entries are judged one by one). */
  function failures(topic: string, message: Json) {
    return parseMessages(topic, Buffer.from(JSON.stringify(message), 'utf8')).flatMap((r) => (r.ok ? [] : [r.error]));
  }

  it.each(cases)('NUL in %s is refused naming the field', (_name, f, leaf) => {
    const errors = failures(
      f.topic,
      withString(f.json as Json, leaf, (s) => `${s}\u0000`),
    );
    expect(errors).toHaveLength(1);
    if (f.name === 'batch') return; // an entry's path is inside its message (see the batch test below)
    // A record key's issue is reported at the record.
    const path = leaf.path.slice(0, leaf.key ? -1 : undefined).join('.');
    expect(errors[0].path.startsWith(path)).toBe(true);
    expect(errors[0].reason).toContain(`${errors[0].path}:`);
  });

  it.each(cases)('a lone surrogate in %s is refused', (_name, f, leaf) => {
    expect(
      failures(
        f.topic,
        withString(f.json as Json, leaf, (s) => `${s}\uD800`),
      ),
    ).toHaveLength(1);
    expect(
      failures(
        f.topic,
        withString(f.json as Json, leaf, (s) => `\uDC00${s}`),
      ),
    ).toHaveLength(1);
  });

  it('a batch entry with NUL is refused alone, its neighbours pass', () => {
    const f = edgeFixtures.find((x) => x.name === 'batch')!;
    const batch = structuredClone(f.json) as { entries: { message: Record<string, Json> }[] };
    batch.entries[0].message.lineId = 'stop\u0000line';
    const results = parseMessages(f.topic, Buffer.from(JSON.stringify(batch)));
    expect(results[0].ok).toBe(false);
    expect(results.slice(1).every((r) => r.ok)).toBe(true);
  });

  it('keeps text PostgreSQL stores: surrogate pairs, control and bidi characters, quotes and SQL', () => {
    for (const reason of [
      '🚗 ok',
      '\u202Eevil\u202C',
      'tab\there\u0001\u007f',
      "'); DROP TABLE x; --",
      'x'.repeat(500),
    ]) {
      const r = edited('camera_status', (m) => (m.reason = reason), 'camera_status--stalled');
      expect(r.ok).toBe(true);
    }
  });
});

describe('numbers outside their column types', () => {
  it('refuses integers beyond int4 where the column is integer, and takes the largest that fits', () => {
    const int4: [string, string, (m: Record<string, Json>, v: number) => void][] = [
      ['event', 'trackId', (m, v) => (m.trackId = v)],
      ['event--pedestrian-blocking', 'pedestriansPresent', (m, v) => (m.pedestriansPresent = v)],
      ['crossing', 'trackId', (m, v) => (m.trackId = v)],
      ['evidence', 'width', (m, v) => (m.width = v)],
      ['evidence', 'height', (m, v) => (m.height = v)],
      ['evidence', 'masking.personsBlurred', (m, v) => ((m.masking as Record<string, Json>).personsBlurred = v)],
      ['camera_status', 'attempt', (m, v) => (m.attempt = v)],
      ['camera_status--stalled', 'nextRetryMs', (m, v) => (m.nextRetryMs = v)],
      ['camera_status', 'frameSize.width', (m, v) => ((m.frameSize as Record<string, Json>).width = v)],
      ['node_status', 'configVersion', (m, v) => (m.configVersion = v)],
      ['heartbeat', 'configVersion', (m, v) => (m.configVersion = v)],
      ['heartbeat', 'outbox.depth', (m, v) => ((m.outbox as Record<string, Json>).depth = v)],
      ['config_ack', 'configVersion', (m, v) => (m.configVersion = v)],
      ['count', 'counts.0.count', (m, v) => (m.counts = [{ objectClass: 'car', direction: 'a_to_b', count: v }])],
    ];
    for (const [name, path, set] of int4) {
      expect([name, edited(name, (m) => set(m, INT4_MAX), name).ok]).toEqual([name, true]);
      expectRefused(
        edited(name, (m) => set(m, INT4_MAX + 1), name),
        path,
      );
    }
  });

  it('refuses a count message whose total would overflow its int4 column', () => {
    const r = edited('count', (m) => {
      m.counts = [
        { objectClass: 'car', direction: 'a_to_b', count: INT4_MAX },
        { objectClass: 'bus', direction: 'a_to_b', count: 1 },
      ];
    });
    expectRefused(r, 'counts');
  });

  it('refuses integers beyond the safe range in bigint columns', () => {
    expectRefused(
      edited('heartbeat', (m) => (m.seq = 2 ** 53)),
      'seq',
    );
    expectRefused(
      edited('heartbeat', (m) => ((m.outbox as Record<string, Json>).bytes = 2 ** 60)),
      'outbox.bytes',
    );
  });

  it('refuses scores and coordinates a real column would round to an out-of-range zero, keeps zero', () => {
    expectRefused(
      edited('event', (m) => (m.score = 1e-300)),
      'score',
    );
    expectRefused(
      edited('crossing', (m) => ((m.point as number[])[0] = 1e-50)),
      'point.0',
    );
    expect(edited('event', (m) => ((m.score = 0), (m.box = [0, 0, 1, 1]))).ok).toBe(true);
  });

  it('never takes Infinity (JSON 1e999) in a double column', () => {
    const f = edgeFixtures.find((x) => x.name === 'heartbeat')!;
    const text = JSON.stringify(f.json).replace('"uptimeS":3600.5', '"uptimeS":1e999');
    expectRefused(parseMessage(f.topic, Buffer.from(text)), 'uptimeS');
  });
});

describe('timestamps outside the sane window', () => {
  it(`takes ${TIMESTAMP_MIN} up to before ${TIMESTAMP_MAX}, refuses the rest in every time field`, () => {
    expect(TIMESTAMP_MIN).toBe('1970-01-01T00:00:00.000Z');
    expect(TIMESTAMP_MAX).toBe('2100-01-01T00:00:00.000Z');
    const fields: [string, string][] = [
      ['event', 'ts'],
      ['event', 'startedAt'],
      ['event--end', 'endedAt'],
      ['crossing', 'at'],
      ['count', 'intervalStart'],
      ['evidence', 'capturedAt'],
      ['heartbeat', 'ts'],
      ['delivery_gap', 'ts'],
    ];
    for (const [name, field] of fields) {
      for (const bad of [
        '0000-01-01T00:00:00Z',
        '1969-12-31T23:59:59.999Z',
        '1970-01-01T00:30:00+01:00',
        '2100-01-01T00:00:00Z',
        '2099-12-31T23:00:00-02:00',
        '9999-12-31T23:59:59Z',
      ]) {
        expectRefused(
          edited(name, (m) => (m[field] = bad), name),
          field,
        );
      }
    }
    expect(edited('heartbeat', (m) => (m.ts = '1970-01-01T00:00:00Z')).ok).toBe(true);
    expect(edited('heartbeat', (m) => (m.ts = '2099-12-31T23:59:59.999Z')).ok).toBe(true);
  });
});
