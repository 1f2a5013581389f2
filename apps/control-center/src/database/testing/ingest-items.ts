import { randomUUID } from 'node:crypto';
import { parseMessage, unpackBatch, type DetectionEvent, type LineCount } from '@vigil/contracts';
import { loadFixtures } from '@vigil/contracts/testing/golden-fixtures';
import type { IngestItem } from '../repositories/ingest.repository';

/** Test data for the database layer: the golden fixtures and synthetic streams, all validated by the contracts. */

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Moves every timestamp in a message by `deltaMs` (the fixtures are dated; retention windows are not). */
function shiftTimes<T>(value: T, deltaMs: number): T {
  if (typeof value === 'string' && ISO_TIME.test(value)) {
    return new Date(Date.parse(value) + deltaMs).toISOString() as T;
  }
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: unknown) => shiftTimes(v, deltaMs)) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shiftTimes(v, deltaMs)])) as T;
}

/**
 * Every valid edge fixture, parsed exactly as ingest parses MQTT messages, with its times moved so that the
 * fixtures' common creation time (`ts`) becomes `at` (an hour ago by default).
 */
export function fixtureItems(receivedAt = new Date(), at = new Date(Date.now() - 3_600_000)): IngestItem[] {
  const items: IngestItem[] = [];
  for (const f of loadFixtures('valid')) {
    const parsed = parseMessage(f.topic, f.bytes);
    if (!parsed.ok) throw new Error(`fixture ${f.name} does not parse: ${parsed.error.reason}`);
    // A batch is stored as its entries, exactly as ingest unpacks it.
    const results = parsed.kind === 'batch' ? unpackBatch(parsed.topic, parsed.message).map((e) => e.result) : [parsed];
    for (const r of results) {
      if (!r.ok) throw new Error(`fixture ${f.name} has an invalid entry: ${r.error.reason}`);
      // Loss announcements change the delivery state only; they are not stored as messages.
      if (r.topic.root !== 'edge' || r.kind === 'delivery_gap' || r.kind === 'batch') continue;
      const ts = r.kind === 'evidence_jpeg' ? r.message.header.ts : (r.message as { ts: string }).ts;
      items.push({
        kind: r.kind as IngestItem['kind'],
        siteId: r.topic.siteId,
        nodeId: r.topic.nodeId,
        cameraId: 'cameraId' in r.topic ? r.topic.cameraId : null,
        message: shiftTimes(r.message as IngestItem['message'], at.getTime() - Date.parse(ts)),
        receivedAt,
      });
    }
  }
  return items;
}

function fixtureMessage<T>(name: string): T {
  const f = loadFixtures('valid').find((x) => x.name === name);
  if (!f) throw new Error(`no fixture ${name}`);
  const r = parseMessage(f.topic, f.bytes);
  if (!r.ok) throw new Error(r.error.reason);
  return r.message as T;
}

export interface StreamOptions {
  siteId?: string;
  nodeId?: string;
  cameraId?: string;
  bootId?: string;
  firstSeq?: number;
}

/** `n` detection events (each its own event id), seq ascending from `firstSeq`, ts 10 ms apart ending now. */
export function eventItems(n: number, opts: StreamOptions = {}, now = Date.now()): IngestItem[] {
  const base = fixtureMessage<DetectionEvent>('event');
  const bootId = opts.bootId ?? randomUUID();
  const first = opts.firstSeq ?? 1;
  return Array.from({ length: n }, (_, i) => ({
    kind: 'event' as const,
    siteId: opts.siteId ?? 'site-a',
    nodeId: opts.nodeId ?? 'node-1',
    cameraId: opts.cameraId ?? 'cam-1',
    receivedAt: new Date(now),
    message: { ...base, bootId, seq: first + i, ts: new Date(now - (n - i) * 10).toISOString(), eventId: randomUUID() },
  }));
}

export interface CountSpec {
  intervalStart: Date;
  lineId?: string;
  counts: LineCount['counts'];
}

/** One count message per spec (1-minute intervals), in one stream. */
export function countItems(specs: CountSpec[], opts: StreamOptions = {}): IngestItem[] {
  const bootId = opts.bootId ?? randomUUID();
  const first = opts.firstSeq ?? 1;
  return specs.map((s, i) => {
    const message: LineCount = {
      bootId,
      seq: first + i,
      ts: new Date(s.intervalStart.getTime() + 61_000).toISOString(),
      lineId: s.lineId ?? 'stop-line',
      intervalStart: s.intervalStart.toISOString(),
      intervalEnd: new Date(s.intervalStart.getTime() + 60_000).toISOString(),
      counts: s.counts,
    };
    return {
      kind: 'count' as const,
      siteId: opts.siteId ?? 'site-a',
      nodeId: opts.nodeId ?? 'node-1',
      cameraId: opts.cameraId ?? 'cam-1',
      receivedAt: new Date(),
      message,
    };
  });
}
